//go:build linux

package tunbench

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// TestTUNReport runs every row TUNBENCH_REPS times (it runs only when that
// is set), the rows interleaved within each repetition so that the
// machine's load falls on all of them alike, and prints min/median/max
// Gbit/s, the packets the kernel dropped toward the stack, and each row's
// median ratio to gVisor as tailscale runs it (gvisor-gso), taken
// repetition by repetition. TUNBENCH_ONLY=tun-recv/ours-offload (say)
// runs one row, for a profile (-cpuprofile); a comma-separated list of
// rows or stacks (ours-offload,gvisor-gso) runs those. TUNBENCH_RCVBUF
// sets our stack's receive buffer in bytes (gVisor as tailscale runs it
// grows its own up to 8 MiB). TUNBENCH_CC sets the kernel's congestion
// control (KernelCC; the header names the one in use). The cpu column is
// the median process CPU time per byte (Result.CPUPerByte).
func TestTUNReport(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SKIPPING TUN BENCHMARK: %v", err)
	}
	if os.Getenv("TUNBENCH_REPS") == "" {
		t.Skip("a benchmark: set TUNBENCH_REPS to run it")
	}
	reps := envInt("TUNBENCH_REPS", 3)
	OursReceiveBuffer = envInt("TUNBENCH_RCVBUF", 0)
	KernelCC = os.Getenv("TUNBENCH_CC")
	defer func() { KernelCC = "" }()
	cc := ""
	n := int64(envInt("TUNBENCH_MIB", 128)) << 20
	type row struct {
		name, stack string
		send        bool
	}
	var rows []row
	for _, dir := range []string{"tun-send", "tun-recv"} {
		for _, s := range []string{Ours, OursCoalesce, OursOffload, GVisorFD, GVisorGSO} {
			if only := os.Getenv("TUNBENCH_ONLY"); only != "" && !slices.ContainsFunc(strings.Split(only, ","), func(o string) bool {
				return o == dir+"/"+s || o == s
			}) {
				continue
			}
			rows = append(rows, row{dir, s, dir == "tun-send"})
		}
	}
	gbps := make([][]float64, len(rows))
	cpu := make([][]float64, len(rows))
	drops := make([]uint64, len(rows))
	for range reps {
		for i, r := range rows {
			res, err := Transfer(r.stack, r.send, n)
			if err != nil {
				t.Fatalf("%s %s: %v", r.name, r.stack, err)
			}
			gbps[i] = append(gbps[i], res.Gbps)
			cpu[i] = append(cpu[i], res.CPUPerByte)
			cc = res.KernelCC
			drops[i] += res.Dropped
		}
	}
	// Each row against gVisor as tailscale runs it, repetition by
	// repetition (the two ran back to back, under the same load): the
	// median of those ratios.
	ref := make(map[string][]float64)
	for i, r := range rows {
		if r.stack == GVisorGSO {
			ref[r.name] = slices.Clone(gbps[i])
		}
	}
	fmt.Printf("%-9s %-15s %6s %6s %6s  %5s  %6s  %s  (Gbit/s, ns/B, %d × %d MiB, kernel TCP %s)\n", "measure", "stack", "min", "median", "max", "×gso", "cpu", "drops", reps, n>>20, cc)
	for i, r := range rows {
		g := gbps[i]
		ratio := "-"
		if gs := ref[r.name]; gs != nil {
			var q []float64
			for k := range g {
				q = append(q, g[k]/gs[k])
			}
			slices.Sort(q)
			ratio = fmt.Sprintf("%.2f", q[len(q)/2])
		}
		slices.Sort(g)
		c := slices.Clone(cpu[i])
		slices.Sort(c)
		fmt.Printf("%-9s %-15s %6.2f %6.2f %6.2f  %5s  %6.3f  %d\n", r.name, r.stack, g[0], g[len(g)/2], g[len(g)-1], ratio, c[len(c)/2], drops[i])
	}
}

// Every row's transfer works: one MiB each way for each stack, the data
// all arriving (CI runs this; the figures are TestTUNReport's).
func TestTransferEachStack(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SKIPPING TUN TRANSFERS: %v", err)
	}
	for _, s := range []string{Ours, OursCoalesce, OursOffload, GVisorFD, GVisorGSO} {
		for _, send := range []bool{true, false} {
			res, err := Transfer(s, send, 4<<20)
			if err != nil {
				t.Errorf("%s send=%v: %v", s, send, err)
				continue
			}
			// The offloading links must really offload, in the
			// direction the data goes: super-segments out when the
			// stack sends, the kernel's super-packets in when it
			// receives.
			if s == Ours || s == GVisorFD {
				continue
			}
			if send && res.GSOOut == 0 {
				t.Errorf("%s sending 4 MiB wrote no GSO super-segment", s)
			}
			if !send && res.GSOIn == 0 {
				t.Errorf("%s receiving 4 MiB read no GSO super-packet", s)
			}
		}
	}
}

// A gVisor fdbased row must leave no dispatcher behind: one still blocked
// on its closed descriptor wakes later on the same number reused by the
// next row's device and reads that device's packets, and the next
// transfer stalls (it did, once in a few full reports, until the close
// stopped the dispatcher first).
func TestTransferLeavesNoFDBasedDispatcher(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SKIPPING TUN TRANSFERS: %v", err)
	}
	for _, send := range []bool{true, false} {
		if _, err := Transfer(GVisorFD, send, 1<<20); err != nil {
			t.Fatalf("send=%v: %v", send, err)
		}
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	if n := strings.Count(stacks, "fdbased.(*endpoint).dispatchLoop"); n > 0 {
		t.Fatalf("%d fdbased dispatchers still running after their rows closed", n)
	}
}

// KernelCC is the congestion control of the kernel's side of a transfer,
// sending or receiving, and a name the kernel does not have is an error.
func TestKernelCCIsTheKernelSide(t *testing.T) {
	if err := Available(); err != nil {
		t.Skipf("SKIPPING TUN TRANSFERS: %v", err)
	}
	defer func() { KernelCC = "" }()
	for _, cc := range []string{"reno", "cubic"} {
		KernelCC = cc
		for _, send := range []bool{true, false} {
			res, err := Transfer(OursOffload, send, 1<<20)
			if err != nil || res.KernelCC != cc {
				t.Errorf("KernelCC %q, send=%v: the kernel used %q (%v)", cc, send, res.KernelCC, err)
			}
		}
	}
	KernelCC = "no-such-cc"
	for _, send := range []bool{true, false} {
		if _, err := Transfer(OursOffload, send, 1<<20); err == nil {
			t.Errorf("a transfer with KernelCC %q, send=%v: no error", KernelCC, send)
		}
	}
}
