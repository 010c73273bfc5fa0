package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func init() {
	register(&command{
		name:  "bench",
		short: "measure our TCP against gVisor's netstack and the kernel's loopback",
		usage: "bench [--quick] [--json] [--dccp [--vm]]",
		long: "Bench runs the benchmark suite of the bench module (bench/, a separate Go module so that " +
			"gVisor stays out of teardown's dependencies): bulk throughput at MTU 1500 and 65535, connection " +
			"churn sequential and 64 concurrent, heap per idle connection and retransmissions per GiB, and " +
			"the rows other files of the suite register (loss, many flows, long paths; as root, tun-send and tun-recv over a " +
			"TUN device with offloads against the kernel in a namespace, gVisor there as tailscale runs it), for our stack, gVisor's " +
			"netstack as the suite configures it and as tailscale does (gvisor-tuned), and the Linux kernel " +
			"over 127.0.0.1, and prints a Markdown table (min / median / max) or, with --json, one JSON array " +
			"of {measure, unit, ours, gvisor, gvisor-tuned, kernel (medians), ratio (against the better " +
			"gVisor), against, figures (min/median/max/runs per stack), cpu-per-byte (bulk and TUN rows), note (why a row has no figures, e.g. not root)}. --quick finishes within a minute. --dccp runs the DCCP measures instead: CCID 2 and " +
			"CCID 3 against our TCP over the same in-memory link (also with 1 % loss and reordering there), and " +
			"on a simulated 50 Mbit/s path in virtual time with no loss, 1 % loss and reordering (tables, or " +
			"one JSON object with --json); --vm adds the same conditions against Linux 6.1's DCCP in a qemu VM " +
			"(root and qemu; minutes; skipped with the reason when the VM cannot run).\n\n" +
			"It runs the teardown-bench binary named by $TEARDOWN_BENCH or found on $PATH, else " +
			"`go run ./cmd/teardown-bench` in the bench directory of the work tree this command is run from " +
			"(which needs the Go toolchain).",
		run: runBench,
	})
}

func runBench(e *env, args []string) error {
	fs := newFlags(e, commands["bench"])
	quick := fs.Bool("quick", "fewer, shorter runs (under a minute)")
	asJSON := fs.Bool("json", "print one JSON array instead of the table")
	dccp := fs.Bool("dccp", "run the DCCP measures (CCID 2, CCID 3 against our TCP) instead")
	withVM := fs.Bool("vm", "with --dccp: also against Linux 6.1's DCCP in the qemu VM")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(commands["bench"], pos); err != nil {
		return err
	}
	if err := fs.only(*dccp, "with --dccp", "vm"); err != nil {
		return err
	}
	var pass []string
	if *quick {
		pass = append(pass, "--quick")
	}
	if *asJSON {
		pass = append(pass, "--json")
	}
	if *dccp {
		pass = append(pass, "--dccp")
	}
	if *withVM {
		pass = append(pass, "--vm")
	}
	cmd, err := benchCommand(pass)
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = e.stdout, e.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("bench: %s failed (%v)", strings.Join(cmd.Args, " "), err)
	}
	return nil
}

// benchCommand finds how to run the suite: a built binary, or the bench
// module's source with the Go toolchain.
func benchCommand(args []string) (*exec.Cmd, error) {
	if p := os.Getenv("TEARDOWN_BENCH"); p != "" {
		return exec.Command(p, args...), nil
	}
	if p, err := exec.LookPath("teardown-bench"); err == nil {
		return exec.Command(p, args...), nil
	}
	dir, err := findBenchDir()
	if err != nil {
		return nil, err
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("bench: found the bench module in %s but no Go toolchain on $PATH to build it "+
			"(install Go, or build teardown-bench elsewhere and set $TEARDOWN_BENCH to its path)", dir)
	}
	cmd := exec.Command(goTool, append([]string{"run", "./cmd/teardown-bench"}, args...)...)
	cmd.Dir = dir
	return cmd, nil
}

// findBenchDir walks up from the working directory to a directory that
// holds bench/go.mod (the repository root) and returns bench's path.
func findBenchDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "bench", "go.mod")); err == nil {
			return filepath.Join(d, "bench"), nil
		}
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && filepath.Base(d) == "bench" {
			return d, nil
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	return "", errors.New("bench: no teardown-bench binary ($TEARDOWN_BENCH or $PATH) and no bench/go.mod " +
		"above " + wd + ": run this from a teardown work tree, or build teardown-bench " +
		"(cd bench && go build ./cmd/teardown-bench) and put it on $PATH")
}
