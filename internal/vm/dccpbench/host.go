package dccpbench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/teardown-lab/teardown/internal/vm"
)

// ErrSkipped wraps the reason the VM measures cannot run here (no qemu,
// not root, no kernel and no way to fetch it, not linux/amd64).
var ErrSkipped = errors.New("dccpbench: the Linux 6.1 VM measures are skipped")

// Options configure Run.
type Options struct {
	// Bytes per transfer; 0 means 1 MiB (TCG moves a few Mbit/s).
	Bytes int64
	// Reps per transfer and condition; 0 means 3.
	Reps int
	// Seed seeds the fault wrapper; 0 means 1.
	Seed uint64
	// Timeout bounds the VM's whole run; 0 means 30 minutes.
	Timeout time.Duration
}

// guestEnv carries GuestOptions into the VM as JSON.
const guestEnv = "TEARDOWN_VMBENCH"

// Run boots the VM once, runs every transfer in it and returns their
// results, in the order they ran. The error wraps ErrSkipped when the
// VM cannot run on this machine; results that finished come back with
// any other error.
func Run(ctx context.Context, o Options) ([]Result, error) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("%w: the VM runs on linux/amd64 hosts only", ErrSkipped)
	}
	if err := vm.Available(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSkipped, err)
	}
	g := GuestOptions{Bytes: o.Bytes, Reps: o.Reps, Seed: o.Seed}
	if g.Bytes <= 0 {
		g.Bytes = 1 << 20
	}
	if g.Reps <= 0 {
		g.Reps = 3
	}
	if g.Seed == 0 {
		g.Seed = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Minute
	}
	if _, err := vm.Assets(""); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSkipped, err)
	}
	bin, err := vm.BuildTest(ctx, "./internal/vm/dccpbench")
	if err != nil {
		return nil, err
	}
	opts, _ := json.Marshal(g)
	res, err := vm.Boot(ctx, vm.Config{
		Binary:  bin,
		Args:    []string{"-test.run=^TestBenchInVM$", "-test.v", "-test.timeout=0"},
		Env:     []string{"TEARDOWN_IN_VM=1", guestEnv + "=" + string(opts)},
		Modules: []string{"dccp", "dccp_ipv4", "tun"},
		Timeout: o.Timeout,
	})
	if err != nil {
		return nil, err
	}
	rs := ParseOutput(res.Output)
	if res.ExitStatus != 0 || len(rs) == 0 {
		return rs, fmt.Errorf("the VM's bench job failed (exit %d, %d results):\n%s", res.ExitStatus, len(rs), res.Output)
	}
	return rs, nil
}
