//go:build linux

package dccpinterop

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/vm"
)

// Bulk throughput against Linux 6.1 in the VM (issue 7, point 2): our
// stack on the TUN device, the kernel's sockets as the peer, DCCP with
// CCID 2 and CCID 3 and TCP as the reference, each way. Both ends run in
// the same guest under qemu's TCG, so the absolute figures are bounded by
// the emulation; what carries over is DCCP's figure over TCP's on the
// same path. Linux to Linux over the guest's loopback is measured too, as
// the kernel's own DCCP/TCP ratio.

const throughputPrefix = "THROUGHPUT|"

// throughputBytes is what each transfer moves unless
// TEARDOWN_THROUGHPUT_BYTES says otherwise: a few MiB (TCG is slow).
const throughputBytes = 2 << 20

// throughputQueue is our DCCP send and receive queue and the kernel's
// tx_qlen in these runs, in datagrams: about 1 MiB of full-sized
// datagrams, as in the bench suite (the defaults are Linux's 5 and 64).
const throughputQueue = 760

// throughputResult is one transfer, counted at the receiving application.
type throughputResult struct {
	name            string
	bytes           int64
	elapsed         time.Duration
	sent, delivered int64 // datagrams (DCCP only)
}

func (r throughputResult) mbps() float64 {
	return float64(r.bytes) * 8 / r.elapsed.Seconds() / 1e6
}

func (r throughputResult) line() string {
	return fmt.Sprintf("%s%s|%d|%d|%d|%d", throughputPrefix, r.name, r.bytes, r.elapsed.Nanoseconds(), r.sent, r.delivered)
}

func parseThroughput(line string) (throughputResult, bool) {
	i := strings.Index(line, throughputPrefix)
	if i < 0 {
		return throughputResult{}, false
	}
	f := strings.Split(line[i+len(throughputPrefix):], "|")
	if len(f) != 5 {
		return throughputResult{}, false
	}
	var v [4]int64
	for k := range v {
		n, err := strconv.ParseInt(f[k+1], 10, 64)
		if err != nil {
			return throughputResult{}, false
		}
		v[k] = n
	}
	if v[1] <= 0 {
		return throughputResult{}, false
	}
	return throughputResult{name: f[0], bytes: v[0], elapsed: time.Duration(v[1]), sent: v[2], delivered: v[3]}, true
}

var vmThroughput struct {
	once    sync.Once
	results []throughputResult
	err     error
}

// runThroughputVM boots the VM once per process and returns every
// transfer's result.
func runThroughputVM() ([]throughputResult, error) {
	v := &vmThroughput
	v.once.Do(func() {
		if _, err := vm.Assets(""); err != nil {
			v.err = err
			return
		}
		ctx := context.Background()
		bin, err := vm.BuildTest(ctx, "./internal/vm/dccpinterop")
		if err != nil {
			v.err = err
			return
		}
		env := []string{"TEARDOWN_IN_VM=1"}
		if n := os.Getenv("TEARDOWN_THROUGHPUT_BYTES"); n != "" {
			env = append(env, "TEARDOWN_THROUGHPUT_BYTES="+n)
		}
		res, err := vm.Boot(ctx, vm.Config{
			Binary:  bin,
			Args:    []string{"-test.run=^TestThroughputInVM$", "-test.v"},
			Env:     env,
			Modules: []string{"dccp", "dccp_ipv4", "tun"},
			Timeout: 10 * time.Minute,
		})
		if err != nil {
			v.err = err
			return
		}
		sc := bufio.NewScanner(bytes.NewReader(res.Output))
		for sc.Scan() {
			if r, ok := parseThroughput(sc.Text()); ok {
				v.results = append(v.results, r)
			}
		}
		if res.ExitStatus != 0 || len(v.results) == 0 {
			// The transfers that finished are still reported.
			v.err = fmt.Errorf("the in-VM throughput test failed (exit %d, %d results):\n%s", res.ExitStatus, len(v.results), res.Output)
		}
	})
	return v.results, v.err
}

// BenchmarkLinuxDCCPThroughput boots the VM once, moves
// TEARDOWN_THROUGHPUT_BYTES (default 2 MiB) per transfer and reports each
// as a sub-benchmark (Mbit/s, lost-%), with the DCCP/TCP ratios in the
// log. Run it with -benchtime=1x: the figures come from the one VM run.
func BenchmarkLinuxDCCPThroughput(b *testing.B) {
	if os.Getenv("TEARDOWN_IN_VM") != "" {
		b.Skip("in the VM: TestThroughputInVM runs the transfers")
	}
	if err := vm.Available(); err != nil {
		b.Skipf("SKIP (Linux DCCP throughput cannot run here): %v", err)
	}
	results, err := runThroughputVM()
	if err != nil {
		defer b.Error(err) // after the figures of the transfers that finished
	}
	for _, r := range results {
		b.Run(r.name, func(b *testing.B) {
			b.ReportMetric(float64(r.elapsed.Nanoseconds()), "ns/op")
			b.ReportMetric(r.mbps(), "Mbit/s")
			if r.sent > 0 {
				b.ReportMetric(100*float64(r.sent-r.delivered)/float64(r.sent), "lost-%")
			}
		})
	}
	b.Logf("VM throughput table:\n%s", throughputTable(results))
}

// throughputTable is the Markdown table of docs/dccp-throughput.md: per
// path and direction, DCCP's figures and their ratio to TCP's.
func throughputTable(results []throughputResult) string {
	by := map[string]throughputResult{}
	for _, r := range results {
		by[r.name] = r
	}
	var b strings.Builder
	b.WriteString("| path | CCID 2 Mbit/s | CCID 3 Mbit/s | TCP Mbit/s | CCID 2/TCP | CCID 3/TCP | lost (CCID 2, CCID 3) |\n|---|---|---|---|---|---|---|\n")
	for _, path := range []string{"us-to-linux", "linux-to-us", "linux-to-linux"} {
		c2, c3, tcp := by["ccid2/"+path], by["ccid3/"+path], by["tcp/"+path]
		if tcp.elapsed == 0 || c2.elapsed == 0 || c3.elapsed == 0 {
			continue
		}
		lost := func(r throughputResult) string {
			if r.sent == 0 {
				return "—"
			}
			return fmt.Sprintf("%d/%d", r.sent-r.delivered, r.sent)
		}
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.2f | %.2f | %s, %s |\n", path, c2.mbps(), c3.mbps(), tcp.mbps(),
			c2.mbps()/tcp.mbps(), c3.mbps()/tcp.mbps(), lost(c2), lost(c3))
	}
	return b.String()
}
