//go:build linux

package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kernelTolerance is the timing slack of the kernel tests: wider than
// packetdrill's 4 ms because they run in real time on a shared, slow
// machine (under -race, beside other tests). They judge what the kernel
// sends and returns; the scripts' gaps are 100 ms, so an event still
// cannot pass for its neighbour.
const kernelTolerance = 40 * time.Millisecond

// TestKernel_ScriptsPass runs every script of testdata against the Linux
// kernel: the kernel is the judge of what a script means, so each one
// the simulator runs must first pass there. A reviewed copy in
// testdata/linux/ is not run: it departs from Linux on purpose.
func TestKernel_ScriptsPass(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL DRILL TEST (needs root for a netns and TUN device): %v", err)
	}
	for _, c := range corpus(t) {
		if c.ours {
			continue // a linux copy: what our stack does where it departs from Linux
		}
		f := c.path
		t.Run(strings.TrimPrefix(f, "testdata/"), func(t *testing.T) {
			if why, ok := KernelDiffers[strings.TrimPrefix(f, "testdata/")]; ok {
				t.Skip("KNOWN DIVERGENCE FROM LINUX: " + why)
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(f, src)
			if err != nil {
				t.Fatal(err)
			}
			// In real time on a loaded machine an event can miss even the
			// wide tolerance: a failure is run again once, and only a
			// second failure counts (the first is logged).
			if s.DCCP() {
				t.Skip("DCCP lines: the simulator only")
			}
			r := RunKernel(s, Options{Tolerance: kernelTolerance})
			if r.Status != Pass {
				t.Logf("FAILED ONCE, RUNNING AGAIN: %v", r)
				r = RunKernel(s, Options{Tolerance: kernelTolerance})
			}
			if r.Status != Pass {
				t.Error(r)
			}
		})
	}
}

// The kernel backend judges: a script wrong about Linux fails at the
// wrong line, saying why.
func TestKernel_MismatchFailsAtItsLine(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL DRILL TEST (needs root for a netns and TUN device): %v", err)
	}
	src, err := os.ReadFile("testdata/rst_before_accept.pkt")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, from, to string
		line           int
		says           string
	}{
		{"wrong ack", "+0   > . 1:1(0) ack 51", "+0   > . 1:1(0) ack 50", 12, "ack 51, expected 50"},
		{"wrong result", "read(4, ..., 1000) = 50", "read(4, ..., 1000) = 49", 16, "read returned 50"},
		{"wrong errno", "-1 ECONNRESET (Connection reset by peer)", "-1 EPIPE (Broken pipe)", 17, "ECONNRESET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			changed := strings.Replace(string(src), c.from, c.to, 1)
			if changed == string(src) {
				t.Fatalf("%q is not in the script", c.from)
			}
			s, err := Parse("changed.pkt", []byte(changed))
			if err != nil {
				t.Fatal(err)
			}
			r := RunKernel(s, Options{Tolerance: kernelTolerance})
			if r.Status != Fail || r.Line != c.line || !strings.Contains(r.String(), c.says) {
				t.Fatalf("want a failure at line %d saying %q, got %v", c.line, c.says, r)
			}
		})
	}
}

// A reviewed copy in testdata/linux/ departs from Linux where it says:
// the kernel runs it to that line and fails after it, so the copy
// describes our stack, not a Linux it got wrong.
func TestKernel_LinuxCopiesFailAfterTheirDeparture(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL DRILL TEST (needs root for a netns and TUN device): %v", err)
	}
	copies, _ := filepath.Glob("testdata/linux/*.pkt")
	for _, cp := range copies {
		t.Run(filepath.Base(cp), func(t *testing.T) {
			line, why := departure(readFile(t, filepath.Join("testdata", filepath.Base(cp))), readFile(t, cp))
			if why != "" {
				t.Fatalf("%s: %s", cp, why)
			}
			s, err := Parse(cp, []byte(readFile(t, cp)))
			if err != nil {
				t.Fatal(err)
			}
			r := RunKernel(s, Options{Tolerance: kernelTolerance})
			if r.Status != Fail || r.Line < line {
				t.Logf("RAN ONCE, RUNNING AGAIN: %v", r)
				r = RunKernel(s, Options{Tolerance: kernelTolerance})
			}
			if r.Status != Fail || r.Line < line {
				t.Errorf("the kernel should run %s to line %d and fail after it, got: %v", cp, line, r)
			}
		})
	}
}
