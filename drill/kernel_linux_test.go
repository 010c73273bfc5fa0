//go:build linux

package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// kernelDiffers names the scripts that pin something our stack does
// differently from Linux, and what: they fail on the kernel for that
// reason alone, and are skipped loudly until the stack or the script
// changes.
var kernelDiffers = map[string]string{}

// kernelTolerance is the timing slack of the kernel tests: wider than
// packetdrill's 4 ms because they run in real time on a shared, slow
// machine (under -race, beside other tests). They judge what the kernel
// sends and returns; the scripts' gaps are 100 ms, so an event still
// cannot pass for its neighbour.
const kernelTolerance = 40 * time.Millisecond

// TestKernel_ScriptsPass runs every script of testdata against the Linux
// kernel: the kernel is the judge of what a script means, so each one
// the simulator runs must first pass there.
func TestKernel_ScriptsPass(t *testing.T) {
	if err := KernelAvailable(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL DRILL TEST (needs root for a netns and TUN device): %v", err)
	}
	files, err := filepath.Glob("testdata/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if why, ok := kernelDiffers[filepath.Base(f)]; ok {
				t.Skip("KNOWN DIVERGENCE FROM LINUX: " + why)
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(filepath.Base(f), src)
			if err != nil {
				t.Fatal(err)
			}
			if r := RunKernel(s, Options{Tolerance: kernelTolerance}); r.Status != Pass {
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
