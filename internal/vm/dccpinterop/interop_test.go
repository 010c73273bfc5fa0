//go:build linux

package dccpinterop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/vm"
	"github.com/teardown-lab/teardown/internal/vm/kdccp"
	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

const resultPrefix = "INTEROP|"

var (
	tunPrefix  = netip.MustParsePrefix("10.77.0.1/24")
	kernelAddr = netip.MustParseAddr("10.77.0.1")
	ourAddr    = netip.MustParseAddr("10.77.0.2")
)

// TestLinuxDCCP boots the VM and runs TestInVM inside it; every case's
// result line must say ok. The table is logged for docs/dccp.md.
func TestLinuxDCCP(t *testing.T) {
	if os.Getenv("TEARDOWN_IN_VM") != "" {
		t.Skip("in the VM: TestInVM runs the cases")
	}
	if testing.Short() {
		t.Skip("SKIP: -short: the interop test boots qemu")
	}
	if err := vm.Available(); err != nil {
		t.Skipf("SKIP (Linux DCCP interop cannot run here): %v", err)
	}
	if _, err := vm.Assets(""); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bin, err := vm.BuildTest(ctx, "./internal/vm/dccpinterop")
	if err != nil {
		t.Fatal(err)
	}
	res, err := vm.Boot(ctx, vm.Config{
		Binary:  bin,
		Args:    []string{"-test.run=^TestInVM$", "-test.v"},
		Env:     []string{"TEARDOWN_IN_VM=1"},
		Modules: []string{"dccp", "dccp_ipv4", "dccp_ipv6", "tun"},
		Timeout: 5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("| case | result | detail |\n|---|---|---|\n")
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(res.Output))
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, resultPrefix)
		if i < 0 {
			continue
		}
		f := strings.SplitN(line[i+len(resultPrefix):], "|", 3)
		if len(f) != 3 {
			continue
		}
		n++
		fmt.Fprintf(&table, "| %s | %s | %s |\n", f[0], f[1], f[2])
		if f[1] != "ok" {
			t.Errorf("%s: %s", f[0], f[2])
		}
	}
	t.Logf("interop table:\n%s", table.String())
	if os.Getenv("TEARDOWN_RECORD_CAPTURES") != "" {
		caps, err := parseCaptures(res.Output)
		if err != nil {
			t.Fatal(err)
		}
		names := make([]string, len(cases))
		for i, c := range cases {
			names[i] = c.name
		}
		if err := writeCaptures(captureDir, names, caps); err != nil {
			t.Fatal(err)
		}
		t.Logf("golden captures of %d cases written to %s", len(caps), captureDir)
	}
	if res.ExitStatus != 0 || n == 0 {
		t.Fatalf("the in-VM test failed (exit %d, %d results):\n%s", res.ExitStatus, n, res.Output)
	}
}

// env is the in-VM setup: a TUN device with the kernel at 10.77.0.1 and
// our stack at 10.77.0.2.
type env struct {
	t   *testing.T
	dev *tun.Device
	s   *stack.Stack
	// kernelIP and ourIP, when valid, replace kernelAddr and ourAddr
	// (the IPv6 case's device).
	kernelIP, ourIP netip.Addr
}

func (e *env) kernel() netip.Addr {
	if e.kernelIP.IsValid() {
		return e.kernelIP
	}
	return kernelAddr
}

func (e *env) ours() netip.Addr {
	if e.ourIP.IsValid() {
		return e.ourIP
	}
	return ourAddr
}

type interopCase struct {
	name  string
	run   func(e *env, port uint16) (detail string, err error)
	trace bool // print the case's packets
}

// kopts are the kernel socket options of a case.
func kopts(ccid uint8) kdccp.Options {
	return kdccp.Options{Service: 42, CCID: ccid, Timeout: 10 * time.Second}
}

func deadline() time.Time { return time.Now().Add(10 * time.Second) }
