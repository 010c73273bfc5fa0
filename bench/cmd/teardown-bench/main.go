// Command teardown-bench measures teardown's TCP side by side with
// gVisor's netstack and the Linux kernel over loopback (package suite).
//
// Usage:
//
//	teardown-bench [--quick] [--json]
//	teardown-bench --dccp [--quick] [--json] [--vm]
//
// --quick takes fewer and shorter runs; --json prints one JSON array
// instead of the Markdown table: per row "measure", "unit", the medians
// under "ours", "gvisor", "gvisor-tuned" (gVisor as tailscale configures
// it) and "kernel", "ratio" against the better gVisor column and
// "against" naming it, "figures" (min, median, max, runs per stack) and,
// on the bulk and TUN rows, "cpu-per-byte" (the same shape, ns of CPU per
// byte), and "note" where a row has no figures and why (the TUN rows need
// root). Progress goes to stderr only when stderr is a terminal.
//
// --dccp runs only the DCCP measures instead (dccp.go): CCID 2 and CCID 3
// of ours against our TCP over link/pipe (wall clock, no loss) and on a
// simulated bottleneck path (virtual time) with no loss, 1 % loss and
// reordering; with --vm also against Linux 6.1's DCCP in the qemu VM.
// With --json they print one JSON object instead of the tables.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/teardown-lab/teardown/bench/suite"
)

func main() {
	quick := flag.Bool("quick", false, "fewer, shorter runs (under a minute)")
	asJSON := flag.Bool("json", false, "print a JSON array instead of a table")
	dccp := flag.Bool("dccp", false, "run only the DCCP measures (CCID 2, CCID 3 vs our TCP) and print their table")
	withVM := flag.Bool("vm", false, "with --dccp: also measure against Linux 6.1's DCCP in the qemu VM (root, qemu; minutes)")
	flag.Parse()
	cfg := suite.Full
	if *quick {
		cfg = suite.Quick
	}
	var progress io.Writer
	if isTerminal(os.Stderr) {
		progress = os.Stderr
	}
	if *withVM && !*dccp {
		fmt.Fprintln(os.Stderr, "teardown-bench: --vm belongs to the DCCP measures: add --dccp")
		os.Exit(2)
	}
	if *dccp {
		if err := runDCCP(os.Stdout, planFor(cfg, *withVM), *asJSON, progress); err != nil {
			fmt.Fprintln(os.Stderr, "teardown-bench:", err)
			os.Exit(1)
		}
		return
	}
	rows, err := suite.Run(cfg, progress)
	if *asJSON {
		if werr := suite.WriteJSON(os.Stdout, rows); werr != nil {
			fmt.Fprintln(os.Stderr, "teardown-bench:", werr)
			os.Exit(1)
		}
	} else {
		suite.WriteTable(os.Stdout, rows)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "teardown-bench:", err)
		os.Exit(1)
	}
}

// isTerminal reports whether f is a character device (a terminal).
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
