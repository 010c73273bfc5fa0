package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"time"
)

// Config sizes a run.
type Config struct {
	Runs      int           // runs per figure (min/median/max over them)
	BulkBytes int64         // bytes per bulk transfer
	ChurnTime time.Duration // length of one churn run
	MemConns  int           // idle connections in the memory measure
}

// Quick fits `teardown-bench --quick` in well under a minute on 2 cores.
var Quick = Config{Runs: 3, BulkBytes: 128 << 20, ChurnTime: 700 * time.Millisecond, MemConns: 10000}

// Full is the default run behind BENCHMARKS.md.
var Full = Config{Runs: 5, BulkBytes: 1 << 30, ChurnTime: 3 * time.Second, MemConns: 10000}

// Figure is one stack's figure for one measure.
type Figure struct {
	Min, Median, Max float64
	Runs             int
}

func figureOf(v []float64) *Figure {
	if len(v) == 0 {
		return nil
	}
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return &Figure{Min: s[0], Median: med, Max: s[len(s)-1], Runs: len(s)}
}

// Row is one measure for every stack.
type Row struct {
	Measure, Unit        string
	Ours, GVisor, Kernel *Figure // nil where the stack does not apply
	// LowerIsBetter flips the ratio (memory, retransmissions).
	LowerIsBetter bool
}

// Ratio is ours/gVisor's medians (gVisor's/ours when lower is better), so
// that above 1 means ours is better; ok is false where it cannot be
// computed.
func (r Row) Ratio() (float64, bool) {
	if r.Ours == nil || r.GVisor == nil {
		return 0, false
	}
	num, den := r.Ours.Median, r.GVisor.Median
	if r.LowerIsBetter {
		num, den = den, num
	}
	if den == 0 || math.IsNaN(num/den) || math.IsInf(num/den, 0) {
		return 0, false
	}
	return num / den, true
}

// jsonRow is the JSON contract: medians and the ratio, null where absent.
type jsonRow struct {
	Measure string   `json:"measure"`
	Unit    string   `json:"unit"`
	Ours    *float64 `json:"ours"`
	GVisor  *float64 `json:"gvisor"`
	Kernel  *float64 `json:"kernel"`
	Ratio   *float64 `json:"ratio"`
}

func median(f *Figure) *float64 {
	if f == nil {
		return nil
	}
	v := f.Median
	return &v
}

// WriteJSON writes rows as one JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	out := make([]jsonRow, 0, len(rows))
	for _, r := range rows {
		j := jsonRow{Measure: r.Measure, Unit: r.Unit, Ours: median(r.Ours), GVisor: median(r.GVisor), Kernel: median(r.Kernel)}
		if v, ok := r.Ratio(); ok {
			j.Ratio = &v
		}
		out = append(out, j)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteTable writes rows as a Markdown table of min/median/max.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| measure | unit | ours (min / median / max) | gVisor | kernel (loopback) | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rows {
		ratio := "—"
		if v, ok := r.Ratio(); ok {
			ratio = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.Measure, r.Unit, cell(r.Ours), cell(r.GVisor), cell(r.Kernel), ratio)
	}
}

func cell(f *Figure) string {
	if f == nil {
		return "—"
	}
	return fmt.Sprintf("%s / **%s** / %s", num(f.Min), num(f.Median), num(f.Max))
}

func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

// Run takes every measure for every stack, cfg.Runs times, interleaving
// the stacks run by run so that a noisy moment hurts all of them alike.
// progress, if not nil, gets a line per step.
func Run(cfg Config, progress io.Writer) ([]Row, error) {
	say := func(format string, a ...any) {
		if progress != nil {
			fmt.Fprintf(progress, format+"\n", a...)
		}
	}
	var errs []error
	type key struct{ measure, stack string }
	vals := map[key][]float64{}
	add := func(m, s string, v float64, err error) {
		if errors.Is(err, ErrNotMeasurable) {
			return
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s/%s: %w", m, s, err))
			return
		}
		vals[key{m, s}] = append(vals[key{m, s}], v)
	}
	all := []string{Ours, GVisor, Kernel}
	// Memory first, one run per stack (it is deterministic enough): taken
	// after the churn runs, its heap delta would also count the churn
	// connections whose TIME-WAIT ends during the measure.
	for _, s := range all {
		say("memory-per-conn %s (%d connections)", s, cfg.MemConns)
		v, err := Memory(s, cfg.MemConns)
		add("memory-per-conn", s, v, err)
	}
	for run := range cfg.Runs {
		for _, mtu := range []int{1500, 65535} {
			m := fmt.Sprintf("bulk-%d", mtu)
			for _, s := range all {
				if s == Kernel && mtu != 1500 {
					continue // loopback has one MTU: reported once, in the 1500 row
				}
				say("run %d/%d: %s %s", run+1, cfg.Runs, m, s)
				settle()
				r, err := Bulk(s, mtu, cfg.BulkBytes)
				add(m, s, r.Gbps(), err)
				if s != Kernel && err == nil {
					add("spurious-retransmissions", s, r.RetransmitsPerGiB(), nil)
				}
			}
		}
		for _, conc := range []int{1, 64} {
			m := "churn-seq"
			if conc > 1 {
				m = "churn-64"
			}
			for _, s := range all {
				say("run %d/%d: %s %s", run+1, cfg.Runs, m, s)
				settle()
				v, err := Churn(s, conc, cfg.ChurnTime)
				add(m, s, v, err)
			}
		}
	}
	rows := []Row{
		{Measure: "bulk-1500", Unit: "Gbit/s"},
		{Measure: "bulk-65535", Unit: "Gbit/s"},
		{Measure: "churn-seq", Unit: "conn/s"},
		{Measure: "churn-64", Unit: "conn/s"},
		{Measure: "memory-per-conn", Unit: "bytes", LowerIsBetter: true},
		{Measure: "spurious-retransmissions", Unit: "per GiB", LowerIsBetter: true},
	}
	for i := range rows {
		r := &rows[i]
		r.Ours = figureOf(vals[key{r.Measure, Ours}])
		r.GVisor = figureOf(vals[key{r.Measure, GVisor}])
		r.Kernel = figureOf(vals[key{r.Measure, Kernel}])
	}
	return rows, errors.Join(errs...)
}

// settle starts each figure from a collected heap, so that one stack's
// garbage (10,000 closed connections after the memory measure, a churn
// run's) is not collected on the next one's time.
func settle() { runtime.GC() }
