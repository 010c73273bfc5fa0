package suite

import (
	"errors"
	"fmt"
	"io"
	"math"
	"time"
)

// DCCPRow is one DCCP measure: ours (both ends) against our TCP over the
// same link for the same time.
type DCCPRow struct {
	Measure, Unit string
	// DCCP is ours; TCP is our TCP's figure for the same measure (nil
	// where it has none, as for lost datagrams).
	DCCP, TCP *Figure
	// Linux is Linux 6.1's figure in the VM (internal/vm/dccpinterop),
	// nil unless measured: RunDCCP does not boot the VM.
	Linux *Figure
}

// Ratio is DCCP's median over TCP's; ok is false where it cannot be
// computed.
func (r DCCPRow) Ratio() (float64, bool) {
	if r.DCCP == nil || r.TCP == nil || r.TCP.Median == 0 {
		return 0, false
	}
	v := r.DCCP.Median / r.TCP.Median
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// RunDCCP takes the DCCP measures cfg.Runs times at MTU 1500, each
// transfer lasting DCCPDuration(cfg), interleaving CCID 2, CCID 3 and
// TCP run by run. progress, if not nil, gets a line per step.
func RunDCCP(cfg Config, progress io.Writer) ([]DCCPRow, error) {
	return RunDCCPPipe(cfg.Runs, DCCPDuration(cfg), progress)
}

// RunDCCPPipe is RunDCCP with the number of runs and each transfer's
// length given.
func RunDCCPPipe(runs int, d time.Duration, progress io.Writer) ([]DCCPRow, error) {
	const mtu = 1500
	say := func(format string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, format+"\n", a...)
		}
	}
	var errs []error
	vals := map[string][]float64{}
	for run := range runs {
		for _, ccid := range []int{2, 3} {
			m := fmt.Sprintf("ccid%d", ccid)
			say("run %d/%d: dccp %s for %v", run+1, runs, m, d)
			r, err := DCCPBulk(ccid, mtu, d)
			if err != nil {
				errs = append(errs, fmt.Errorf("dccp %s: %w", m, err))
				continue
			}
			vals[m] = append(vals[m], r.Mbps())
			vals[m+"-lost"] = append(vals[m+"-lost"], r.LostPercent())
			say("run %d/%d: dccp %s, slow reader, for %v", run+1, runs, m, d)
			if r, err = DCCPSlowReader(ccid, mtu, d); err != nil {
				errs = append(errs, fmt.Errorf("dccp %s slow reader: %w", m, err))
				continue
			}
			vals[m+"-slow"] = append(vals[m+"-slow"], r.LostPercent())
		}
		say("run %d/%d: tcp for %v", run+1, runs, d)
		r, err := TCPTimed(mtu, d)
		if err != nil {
			errs = append(errs, fmt.Errorf("tcp: %w", err))
			continue
		}
		vals["tcp"] = append(vals["tcp"], r.Mbps())
		for _, f := range DCCPFaults {
			for _, ccid := range []int{2, 3} {
				m := fmt.Sprintf("ccid%d-%s", ccid, f.Name)
				say("run %d/%d: dccp ccid%d, %s, for %v", run+1, runs, ccid, f.Name, d)
				r, err := DCCPBulkFaulty(ccid, mtu, d, f)
				if err != nil {
					errs = append(errs, fmt.Errorf("dccp %s: %w", m, err))
					continue
				}
				vals[m] = append(vals[m], r.Mbps())
			}
			say("run %d/%d: tcp, %s, for %v", run+1, runs, f.Name, d)
			r, err := TCPTimedFaulty(mtu, d, f)
			if err != nil {
				errs = append(errs, fmt.Errorf("tcp %s: %w", f.Name, err))
				continue
			}
			vals["tcp-"+f.Name] = append(vals["tcp-"+f.Name], r.Mbps())
		}
	}
	tcp := figureOf(vals["tcp"])
	rows := []DCCPRow{
		{Measure: "dccp-ccid2-1500", Unit: "Mbit/s", DCCP: figureOf(vals["ccid2"]), TCP: tcp},
		{Measure: "dccp-ccid3-1500", Unit: "Mbit/s", DCCP: figureOf(vals["ccid3"]), TCP: tcp},
		{Measure: "dccp-ccid2-lost", Unit: "% datagrams", DCCP: figureOf(vals["ccid2-lost"])},
		{Measure: "dccp-ccid3-lost", Unit: "% datagrams", DCCP: figureOf(vals["ccid3-lost"])},
		{Measure: "dccp-slow-reader-ccid2", Unit: "% datagrams", DCCP: figureOf(vals["ccid2-slow"])},
		{Measure: "dccp-slow-reader-ccid3", Unit: "% datagrams", DCCP: figureOf(vals["ccid3-slow"])},
	}
	for _, f := range DCCPFaults {
		tcp := figureOf(vals["tcp-"+f.Name])
		for _, ccid := range []int{2, 3} {
			rows = append(rows, DCCPRow{Measure: fmt.Sprintf("dccp-ccid%d-%s", ccid, f.Name), Unit: "Mbit/s",
				DCCP: figureOf(vals[fmt.Sprintf("ccid%d-%s", ccid, f.Name)]), TCP: tcp})
		}
	}
	return rows, errors.Join(errs...)
}

// WriteDCCPTable writes the DCCP rows as a Markdown table.
func WriteDCCPTable(w io.Writer, rows []DCCPRow) {
	fmt.Fprintln(w, "| measure | unit | ours DCCP (min / median / max) | our TCP (median) | DCCP/TCP | Linux 6.1 (VM) |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		ratio := "—"
		if v, ok := r.Ratio(); ok {
			ratio = fmt.Sprintf("%.2f", v)
		}
		tcp := "—"
		if r.TCP != nil {
			tcp = num(r.TCP.Median)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Measure, r.Unit, cell(r.DCCP), tcp, ratio, cell(r.Linux))
	}
}
