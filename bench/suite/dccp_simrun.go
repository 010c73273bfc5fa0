package suite

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// DCCPSimProtos are the protocols of the simulated measures, TCP last
// (the reference).
var DCCPSimProtos = []string{"ccid2", "ccid3", "tcp"}

// SimCounters names the per-run counts the simulated rows keep, each as
// min / median / max over the runs, in the order the table shows them.
var SimCounters = []struct{ Name, Doc string }{
	{"delivered-%", "datagrams (DCCP) the receiving application read, of those written"},
	{"link-lost", "data-direction packets the random loss dropped"},
	{"queue-drops", "data-direction packets the bottleneck queue dropped (congestion)"},
	{"reordered", "data-direction packets held back by the reorder fault"},
	{"acks-lost", "return-direction packets dropped (random loss and queue)"},
	{"retransmits", "segments TCP sent again (DCCP does not retransmit data)"},
	{"loss-events", "loss events CCID 3's receiver reported (RFC 5348 §5.2)"},
	{"seqwin-stalls", "DCCP sends that waited for the Sequence Window (RFC 4340 §7.5.1)"},
}

// counts returns r's counters by the names of SimCounters.
func (r SimResult) counts() map[string]float64 {
	m := map[string]float64{
		"link-lost":   float64(r.Data.Lost),
		"queue-drops": float64(r.Data.QueueDrops),
		"reordered":   float64(r.Data.Reordered),
		"acks-lost":   float64(r.Acks.Dropped()),
	}
	if r.Proto == "tcp" {
		m["retransmits"] = float64(r.TCPSender.Retransmits)
		return m
	}
	m["delivered-%"] = 100 - r.LostPercent()
	m["loss-events"] = float64(r.DCCPReceiver.LossEvents)
	m["seqwin-stalls"] = float64(r.DCCPSender.SeqWindowStalls)
	return m
}

// SimRow is one protocol under one condition on the simulated path.
type SimRow struct {
	Condition string             `json:"condition"`
	Proto     string             `json:"proto"`
	Mbps      *Figure            `json:"mbps"`
	VsTCP     *float64           `json:"vs_tcp,omitempty"` // median over TCP's median, same condition
	Counters  map[string]*Figure `json:"counters"`
}

// DCCPSimDatagrams is how many datagrams each simulated transfer moves:
// enough for a few hundred losses at 1 % in a full run.
func DCCPSimDatagrams(cfg Config) int {
	if cfg.Runs < Full.Runs {
		return 5000
	}
	return 20000
}

// DCCPSimSeeds is how many seeds (runs) each simulated figure takes.
func DCCPSimSeeds(cfg Config) int { return max(cfg.Runs, 3) + 2 }

// RunDCCPSim takes every protocol under every condition on the simulated
// path, seeds runs of n datagrams each, one per seed (the same seeds for
// every protocol).
func RunDCCPSim(seeds, n int, progress io.Writer) ([]SimRow, error) {
	var errs []error
	var rows []SimRow
	for _, cond := range DCCPConditions {
		var tcp *Figure
		start := len(rows)
		for _, proto := range DCCPSimProtos {
			if progress != nil {
				fmt.Fprintf(progress, "sim %s %s: %d seeds of %d datagrams\n", cond.Name, proto, seeds, n)
			}
			var mbps []float64
			counts := map[string][]float64{}
			for s := range seeds {
				r, err := DCCPSimTransfer(proto, cond, simSeedBase+uint64(s), n)
				if err != nil {
					errs = append(errs, fmt.Errorf("sim %s %s seed %d: %w", cond.Name, proto, simSeedBase+s, err))
					continue
				}
				mbps = append(mbps, r.Mbps())
				for k, v := range r.counts() {
					counts[k] = append(counts[k], v)
				}
			}
			row := SimRow{Condition: cond.Name, Proto: proto, Mbps: figureOf(mbps), Counters: map[string]*Figure{}}
			for k, v := range counts {
				row.Counters[k] = figureOf(v)
			}
			if proto == "tcp" {
				tcp = row.Mbps
			}
			rows = append(rows, row)
		}
		for i := start; i < len(rows); i++ {
			if rows[i].Mbps != nil && tcp != nil && tcp.Median > 0 && rows[i].Proto != "tcp" {
				v := rows[i].Mbps.Median / tcp.Median
				rows[i].VsTCP = &v
			}
		}
	}
	return rows, errors.Join(errs...)
}

// WriteSimTable writes the simulated rows as a Markdown table: throughput
// (min / median / max), the ratio to TCP under the same condition, and
// the medians of the counters, with their range when the runs differ.
func WriteSimTable(w io.Writer, rows []SimRow) {
	var head, rule strings.Builder
	head.WriteString("| condition | proto | Mbit/s (min / median / max) | / TCP |")
	rule.WriteString("|---|---|---|---|")
	for _, c := range SimCounters {
		head.WriteString(" " + c.Name + " |")
		rule.WriteString("---|")
	}
	fmt.Fprintln(w, head.String())
	fmt.Fprintln(w, rule.String())
	for _, r := range rows {
		ratio := "—"
		if r.VsTCP != nil {
			ratio = fmt.Sprintf("%.2f", *r.VsTCP)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |", r.Condition, r.Proto, cell(r.Mbps), ratio)
		for _, c := range SimCounters {
			v := "—"
			if f := r.Counters[c.Name]; f != nil {
				v = num(f.Median)
				if f.Min != f.Max {
					v += fmt.Sprintf(" (%s–%s)", num(f.Min), num(f.Max))
				}
			}
			fmt.Fprintf(w, " %s |", v)
		}
		fmt.Fprintln(w)
	}
}
