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
	Measure, Unit string
	// Figures, nil where the stack does not apply. GVisorTuned is gVisor
	// configured as tailscale runs it (gvlink.StackOptions.Tailscale).
	Ours, GVisor, GVisorTuned, Kernel *Figure
	// LowerIsBetter flips the ratio (memory, retransmissions).
	LowerIsBetter bool
	// CPU, where taken (the bulk rows), is the process's CPU time per byte
	// moved in the same runs, in ns/B, as a row of its own.
	CPU *Row
	// Note, when not empty, says why the row has no figures
	// (Measure.Available).
	Note string
}

// better returns the better of gVisor's two figures (by median) and its
// column name: the ratio is judged against it.
func (r Row) better() (*Figure, string) {
	g, t := r.GVisor, r.GVisorTuned
	switch {
	case g == nil && t == nil:
		return nil, ""
	case t == nil:
		return g, GVisor
	case g == nil:
		return t, GVisorTuned
	}
	if (t.Median > g.Median) != r.LowerIsBetter && t.Median != g.Median {
		return t, GVisorTuned
	}
	return g, GVisor
}

// Ratio is ours/gVisor's medians (gVisor's/ours when lower is better),
// against the better of gVisor's two columns, so that above 1 means ours
// is better than either; ok is false where it cannot be computed.
func (r Row) Ratio() (float64, bool) {
	g, _ := r.better()
	if r.Ours == nil || g == nil {
		return 0, false
	}
	num, den := r.Ours.Median, g.Median
	if r.LowerIsBetter {
		num, den = den, num
	}
	if den == 0 || math.IsNaN(num/den) || math.IsInf(num/den, 0) {
		return 0, false
	}
	return num / den, true
}

// jsonFigure is one stack's runs in the JSON.
type jsonFigure struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// jsonRow is the JSON contract: the medians under the stacks' names (null
// where absent), the ratio against the better gVisor column ("against"
// names it), every stack's min/median/max under "figures", and on the
// bulk rows the same for CPU per byte under "cpu-per-byte".
type jsonRow struct {
	Measure     string                 `json:"measure"`
	Unit        string                 `json:"unit"`
	Ours        *float64               `json:"ours"`
	GVisor      *float64               `json:"gvisor"`
	GVisorTuned *float64               `json:"gvisor-tuned"`
	Kernel      *float64               `json:"kernel"`
	Ratio       *float64               `json:"ratio"`
	Against     string                 `json:"against,omitempty"`
	Figures     map[string]*jsonFigure `json:"figures"`
	CPU         *jsonRow               `json:"cpu-per-byte,omitempty"`
	Note        string                 `json:"note,omitempty"`
}

func toJSON(r Row) *jsonRow {
	j := &jsonRow{Measure: r.Measure, Unit: r.Unit, Ours: median(r.Ours), GVisor: median(r.GVisor),
		GVisorTuned: median(r.GVisorTuned), Kernel: median(r.Kernel), Figures: map[string]*jsonFigure{}, Note: r.Note}
	if v, ok := r.Ratio(); ok {
		j.Ratio = &v
		_, j.Against = r.better()
	}
	for name, f := range map[string]*Figure{Ours: r.Ours, GVisor: r.GVisor, GVisorTuned: r.GVisorTuned, Kernel: r.Kernel} {
		if f != nil {
			j.Figures[name] = &jsonFigure{f.Min, f.Median, f.Max, f.Runs}
		}
	}
	if r.CPU != nil {
		j.CPU = toJSON(*r.CPU)
	}
	return j
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
	out := make([]*jsonRow, 0, len(rows))
	for _, r := range rows {
		out = append(out, toJSON(r))
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteTable writes rows as a Markdown table of min/median/max; a row's
// CPU per byte follows it as a row of its own, and the rows' notes follow
// the table.
func WriteTable(w io.Writer, rows []Row) {
	fmt.Fprintln(w, "| measure | unit | ours (min / median / max) | gVisor | gVisor, tailscale's settings | kernel (loopback) | ratio |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rows {
		writeLine(w, r)
		if r.CPU != nil {
			writeLine(w, *r.CPU)
		}
	}
	for _, r := range rows {
		if r.Note != "" {
			fmt.Fprintf(w, "\n%s: %s\n", r.Measure, r.Note)
		}
	}
}

func writeLine(w io.Writer, r Row) {
	ratio := "—"
	if v, ok := r.Ratio(); ok {
		ratio = fmt.Sprintf("%.2f", v)
	}
	fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", r.Measure, r.Unit, cell(r.Ours), cell(r.GVisor), cell(r.GVisorTuned), cell(r.Kernel), ratio)
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
	case math.Abs(v) < 0.1:
		return fmt.Sprintf("%.3f", v)
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
	all := []string{Ours, GVisor, GVisorTuned, Kernel}
	skipped := unavailable(registered)
	for m, why := range skipped {
		say("%s: %s", m, why)
	}
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
				add(m+cpuSuffix, s, r.CPUPerByte(), err)
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
		takeRegistered(registered, skipped, cfg, run, say, add)
	}
	rows := []Row{
		{Measure: "bulk-1500", Unit: "Gbit/s"},
		{Measure: "bulk-65535", Unit: "Gbit/s"},
		{Measure: "churn-seq", Unit: "conn/s"},
		{Measure: "churn-64", Unit: "conn/s"},
		{Measure: "memory-per-conn", Unit: "bytes", LowerIsBetter: true},
		{Measure: "spurious-retransmissions", Unit: "per GiB", LowerIsBetter: true},
	}
	rows = append(rows, registeredRows(registered, skipped)...)
	fill := func(r *Row) {
		r.Ours = figureOf(vals[key{r.Measure, Ours}])
		r.GVisor = figureOf(vals[key{r.Measure, GVisor}])
		r.GVisorTuned = figureOf(vals[key{r.Measure, GVisorTuned}])
		r.Kernel = figureOf(vals[key{r.Measure, Kernel}])
	}
	for i := range rows {
		r := &rows[i]
		fill(r)
		cpu := Row{Measure: r.Measure + cpuSuffix, Unit: "ns/B", LowerIsBetter: true}
		if fill(&cpu); cpu.Ours != nil || cpu.GVisor != nil || cpu.GVisorTuned != nil {
			r.CPU = &cpu
		}
	}
	return rows, errors.Join(errs...)
}

// cpuSuffix names a measure's CPU-per-byte figures ("bulk-1500 cpu-per-byte").
const cpuSuffix = " cpu-per-byte"

// A Measure is a set of rows taken by one function, registered (Register)
// by the file that defines it, so that rows can be added without editing
// Run. Run calls Take once per run for each of Stacks, after the fixed
// measures.
type Measure struct {
	// Rows name the rows Take fills (figures left nil); the first names
	// the measure in progress lines and errors.
	Rows   []Row
	Stacks []string
	// Available, if not nil, says why the measure cannot run here (say,
	// not root); Run then leaves its rows without figures, with the
	// reason as their Note.
	Available func() error
	// Take returns one value per row it took, by measure name; a value
	// under "<measure> cpu-per-byte" becomes that row's CPU figure.
	Take func(cfg Config, stack string) (map[string]float64, error)
}

var registered []Measure

// takeRegistered takes run's figures of each measure of ms for each of
// its stacks, but not of those skipped (unavailable), and hands them to
// add.
func takeRegistered(ms []Measure, skipped map[string]string, cfg Config, run int, say func(string, ...any), add func(m, s string, v float64, err error)) {
	for _, x := range ms {
		if skipped[x.Rows[0].Measure] != "" {
			continue
		}
		for _, s := range x.Stacks {
			say("run %d/%d: %s %s", run+1, cfg.Runs, x.Rows[0].Measure, s)
			settle()
			got, err := x.Take(cfg, s)
			if err != nil {
				add(x.Rows[0].Measure, s, 0, err)
				continue
			}
			for m, v := range got {
				add(m, s, v, nil)
			}
		}
	}
}

// registeredRows returns the rows of ms, those of a skipped measure with
// the reason as their Note.
func registeredRows(ms []Measure, skipped map[string]string) []Row {
	var rows []Row
	for _, x := range ms {
		for _, r := range x.Rows {
			r.Note = skipped[x.Rows[0].Measure]
			rows = append(rows, r)
		}
	}
	return rows
}

// unavailable names the measures of ms that cannot run here, by their
// first row, with the reason.
func unavailable(ms []Measure) map[string]string {
	skipped := map[string]string{}
	for _, x := range ms {
		if x.Available == nil {
			continue
		}
		if err := x.Available(); err != nil {
			skipped[x.Rows[0].Measure] = "not measured: " + err.Error()
		}
	}
	return skipped
}

// Register adds m to every Run (call it from an init function).
func Register(m Measure) { registered = append(registered, m) }

// settle starts each figure from a collected heap, so that one stack's
// garbage (10,000 closed connections after the memory measure, a churn
// run's) is not collected on the next one's time.
func settle() { runtime.GC() }
