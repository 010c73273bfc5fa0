//go:build linux && vmguest

package dccpinterop

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

// The halves of the interop tests that run inside the VM: BuildTest
// compiles this package with the vmguest tag for the guest, so on the host
// they are not compiled at all rather than listed as skipped.

// TestInVM runs every interop case inside the VM.
func TestInVM(t *testing.T) {
	if os.Getenv("TEARDOWN_IN_VM") == "" {
		t.Skip("runs only inside the VM (TestLinuxDCCP boots it)")
	}
	dev, err := tun.Open(tun.Config{Name: "td0", KernelAddr: tunPrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	s, err := stack.New(stack.Config{Name: "teardown", Addrs: []netip.Addr{ourAddr}, Link: traceEndpoint{dev}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dev: dev, s: s}
	port := uint16(6000)
	for i, c := range cases {
		port++
		tracing.Store(c.trace)
		captureCase.Store(int32(i))
		detail, err := c.run(e, port)
		captureCase.Store(-1)
		result := "ok"
		if err != nil {
			result, detail = "FAIL", err.Error()
			t.Errorf("%s: %v", c.name, err)
		}
		fmt.Printf("%s%s|%s|%s\n", resultPrefix, c.name, result, detail)
	}
}

// TestThroughputInVM runs the transfers inside the VM and prints one
// result line each.
func TestThroughputInVM(t *testing.T) {
	if os.Getenv("TEARDOWN_IN_VM") == "" {
		t.Skip("runs only inside the VM (BenchmarkLinuxDCCPThroughput boots it)")
	}
	n := int64(throughputBytes)
	if s := os.Getenv("TEARDOWN_THROUGHPUT_BYTES"); s != "" {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v <= 0 {
			t.Fatalf("TEARDOWN_THROUGHPUT_BYTES=%q", s)
		}
		n = v
	}
	// Linux's DCCP send queue (tx_qlen, 5 by default) to our depth.
	if err := os.WriteFile("/proc/sys/net/dccp/default/tx_qlen", []byte(strconv.Itoa(throughputQueue)), 0o644); err != nil {
		t.Logf("tx_qlen stays Linux's default: %v", err)
	}
	if err := setLoopbackMTU(1500); err != nil {
		t.Fatalf("lo MTU: %v", err)
	}
	dev, err := tun.Open(tun.Config{Name: "td1", KernelAddr: tunPrefix})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	s, err := stack.New(stack.Config{Name: "teardown", Addrs: []netip.Addr{ourAddr}, Link: dev,
		TCP: stack.TCPOptions{SendBuffer: 1 << 20, ReceiveBuffer: 1 << 20}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := &env{t: t, dev: dev, s: s}
	port := uint16(7000)
	type transfer struct {
		name string
		run  func(port uint16) (throughputResult, error)
	}
	var all []transfer
	for _, ccid := range []uint8{2, 3} {
		all = append(all,
			transfer{fmt.Sprintf("ccid%d/us-to-linux", ccid), func(p uint16) (throughputResult, error) { return dccpToLinux(e, p, ccid, n) }},
			transfer{fmt.Sprintf("ccid%d/linux-to-us", ccid), func(p uint16) (throughputResult, error) { return dccpFromLinux(e, p, ccid, n) }},
			transfer{fmt.Sprintf("ccid%d/linux-to-linux", ccid), func(p uint16) (throughputResult, error) { return dccpLinuxLoopback(p, ccid, n) }},
		)
	}
	all = append(all,
		transfer{"tcp/us-to-linux", func(p uint16) (throughputResult, error) { return tcpToLinux(e, p, n) }},
		transfer{"tcp/linux-to-us", func(p uint16) (throughputResult, error) { return tcpFromLinux(e, p, n) }},
		transfer{"tcp/linux-to-linux", func(p uint16) (throughputResult, error) { return tcpLinuxLoopback(p, n) }},
	)
	for _, tr := range all {
		port++
		r, err := tr.run(port)
		if err != nil {
			t.Errorf("%s: %v", tr.name, err)
			continue
		}
		r.name = tr.name
		fmt.Println(r.line())
		t.Logf("%s: %d bytes in %v = %.1f Mbit/s (datagrams sent %d, delivered %d)", r.name, r.bytes, r.elapsed.Round(time.Millisecond), r.mbps(), r.sent, r.delivered)
	}
}
