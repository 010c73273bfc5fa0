package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/teardown-lab/teardown/bench/suite"
	"github.com/teardown-lab/teardown/internal/vm/dccpbench"
)

// dccpReport is --dccp --json's one object.
type dccpReport struct {
	// Pipe is ours over link/pipe in wall-clock time, no loss.
	Pipe []pipeRow `json:"pipe"`
	// Sim is the simulated bottleneck path in virtual time.
	Sim     []suite.SimRow `json:"sim"`
	SimPath string         `json:"sim_path"`
	// VM is against Linux 6.1 in the VM (--vm); VMSkipped says why not.
	VM        []dccpbench.Row `json:"vm,omitempty"`
	VMSkipped string          `json:"vm_skipped,omitempty"`
}

type pipeRow struct {
	Measure string        `json:"measure"`
	Unit    string        `json:"unit"`
	DCCP    *suite.Figure `json:"dccp"`
	TCP     *suite.Figure `json:"tcp,omitempty"`
	Ratio   *float64      `json:"ratio,omitempty"`
}

// simPathText describes suite.DCCPSimPath for the report.
func simPathText() string {
	p := suite.DCCPSimPath
	return fmt.Sprintf("netsim, %d Mbit/s each way, %v one-way delay, %d-packet drop-tail queue, MTU 1500; conditions on both directions: loss-1%% = 1 %% random loss, reorder-5%% = 5 %% of packets held back 0.5 ms (~2 packets at line rate)",
		p.Bandwidth/1e6, p.Latency, p.QueuePackets)
}

// dccpPlan sizes the DCCP measures.
type dccpPlan struct {
	pipeRuns     int
	pipeTime     time.Duration
	simSeeds     int
	simDatagrams int
	vm           bool
	vmOpts       dccpbench.Options
}

// planFor sizes the DCCP measures from cfg (quick or full).
func planFor(cfg suite.Config, withVM bool) dccpPlan {
	return dccpPlan{pipeRuns: cfg.Runs, pipeTime: suite.DCCPDuration(cfg),
		simSeeds: suite.DCCPSimSeeds(cfg), simDatagrams: suite.DCCPSimDatagrams(cfg),
		vm: withVM, vmOpts: vmOptions(cfg)}
}

// runDCCP takes the DCCP measures: the pipe, the simulator, and with
// p.vm the Linux VM; it prints tables, or one JSON object.
func runDCCP(w io.Writer, p dccpPlan, asJSON bool, progress io.Writer) error {
	var errs []error
	pipe, err := suite.RunDCCPPipe(p.pipeRuns, p.pipeTime, progress)
	errs = append(errs, err)
	sim, err := suite.RunDCCPSim(p.simSeeds, p.simDatagrams, progress)
	errs = append(errs, err)
	var vmRows []dccpbench.Row
	skipped := ""
	if p.vm {
		if progress != nil {
			fmt.Fprintln(progress, "vm: booting Linux 6.1 under qemu (TCG); this takes minutes")
		}
		rs, err := dccpbench.Run(context.Background(), p.vmOpts)
		switch {
		case errors.Is(err, dccpbench.ErrSkipped):
			skipped = err.Error()
		default:
			errs = append(errs, err)
			vmRows = dccpbench.Summarize(rs)
		}
	}
	if asJSON {
		rep := dccpReport{Sim: sim, SimPath: simPathText(), VM: vmRows, VMSkipped: skipped}
		for _, r := range pipe {
			j := pipeRow{Measure: r.Measure, Unit: r.Unit, DCCP: r.DCCP, TCP: r.TCP}
			if v, ok := r.Ratio(); ok {
				j.Ratio = &v
			}
			rep.Pipe = append(rep.Pipe, j)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		errs = append(errs, enc.Encode(rep))
		return errors.Join(errs...)
	}
	fmt.Fprintln(w, "Over link/pipe, wall clock, no loss (CPU-bound):")
	fmt.Fprintln(w)
	suite.WriteDCCPTable(w, pipe)
	fmt.Fprintln(w)
	fmt.Fprintf(w, "On the simulator, virtual time (%s; %d seeds of %d datagrams):\n\n", simPathText(),
		p.simSeeds, p.simDatagrams)
	suite.WriteSimTable(w, sim)
	switch {
	case skipped != "":
		fmt.Fprintf(w, "\nAgainst Linux 6.1 in the VM: %s\n", skipped)
	case p.vm:
		fmt.Fprintln(w, "\nAgainst Linux 6.1 in the VM (qemu TCG: absolute Mbit/s mean nothing, only the ratios on one path and condition do; link/fault on our TUN device, both directions):")
		fmt.Fprintln(w)
		dccpbench.WriteTable(w, vmRows)
	}
	return errors.Join(errs...)
}

// vmOptions scales the VM run with cfg; TEARDOWN_VMBENCH_BYTES and
// TEARDOWN_VMBENCH_REPS override it.
func vmOptions(cfg suite.Config) dccpbench.Options {
	o := dccpbench.Options{Bytes: 1 << 20, Reps: 3}
	if cfg.Runs < suite.Full.Runs {
		o.Bytes, o.Reps = 512<<10, 2
	}
	if v, err := strconv.ParseInt(os.Getenv("TEARDOWN_VMBENCH_BYTES"), 10, 64); err == nil && v > 0 {
		o.Bytes = v
	}
	if v, err := strconv.Atoi(os.Getenv("TEARDOWN_VMBENCH_REPS")); err == nil && v > 0 {
		o.Reps = v
	}
	return o
}
