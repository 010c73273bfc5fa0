package suite

import (
	"bytes"
	"encoding/json"
	"testing"
)

// A figure is the min, median and max of its runs.
func TestFigureOf(t *testing.T) {
	f := figureOf([]float64{3, 1, 2, 10})
	if f.Min != 1 || f.Median != 2.5 || f.Max != 10 || f.Runs != 4 {
		t.Errorf("figureOf = %+v, want min 1 median 2.5 max 10 runs 4", *f)
	}
	if figureOf(nil) != nil {
		t.Error("no runs must give no figure")
	}
}

// The ratio is above 1 when ours is better, for both kinds of measure,
// and absent when a side is missing or zero.
func TestRatioDirection(t *testing.T) {
	fast := &Figure{Median: 4}
	slow := &Figure{Median: 2}
	if v, ok := (Row{Ours: fast, GVisor: slow}).Ratio(); !ok || v != 2 {
		t.Errorf("throughput ratio %v %v, want 2", v, ok)
	}
	if v, ok := (Row{Ours: slow, GVisor: fast, LowerIsBetter: true}).Ratio(); !ok || v != 2 {
		t.Errorf("memory ratio %v %v, want 2", v, ok)
	}
	if _, ok := (Row{Ours: &Figure{}, GVisor: fast, LowerIsBetter: true}).Ratio(); ok {
		t.Error("a zero denominator must give no ratio")
	}
	if _, ok := (Row{Ours: fast}).Ratio(); ok {
		t.Error("a missing gVisor figure must give no ratio")
	}
}

// The ratio is judged against the better of gVisor's two columns, in
// either direction.
func TestRatioAgainstBetterGVisor(t *testing.T) {
	ours := &Figure{Median: 6}
	r := Row{Ours: ours, GVisor: &Figure{Median: 2}, GVisorTuned: &Figure{Median: 3}}
	if v, ok := r.Ratio(); !ok || v != 2 {
		t.Errorf("throughput ratio %v %v, want 2 (against the tuned 3)", v, ok)
	}
	r = Row{Ours: ours, GVisor: &Figure{Median: 12}, GVisorTuned: &Figure{Median: 24}, LowerIsBetter: true}
	if v, ok := r.Ratio(); !ok || v != 2 {
		t.Errorf("memory ratio %v %v, want 2 (against the plain 12)", v, ok)
	}
	if v, ok := (Row{Ours: ours, GVisorTuned: &Figure{Median: 3}}).Ratio(); !ok || v != 2 {
		t.Errorf("tuned-only ratio %v %v, want 2", v, ok)
	}
}

// The JSON is one array: the medians under the stacks' names, null where
// a figure or ratio is absent, the column the ratio was judged against,
// every figure's min/median/max, and CPU per byte where taken.
func TestWriteJSONContract(t *testing.T) {
	rows := []Row{
		{Measure: "memory-per-conn", Unit: "bytes", Ours: &Figure{Median: 1000}, GVisor: &Figure{Median: 3000}, GVisorTuned: &Figure{Median: 4000}, LowerIsBetter: true},
		{Measure: "bulk-1500", Unit: "Gbit/s", Ours: &Figure{Min: 1, Median: 2, Max: 3, Runs: 3},
			CPU: &Row{Measure: "bulk-1500 cpu-per-byte", Unit: "ns/B", Ours: &Figure{Median: 0.5}, GVisorTuned: &Figure{Median: 2}, LowerIsBetter: true}},
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rows); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d rows, want 2", len(got))
	}
	o := got[0]
	for _, k := range []string{"measure", "unit", "ours", "gvisor", "gvisor-tuned", "kernel", "ratio", "against", "figures"} {
		if _, ok := o[k]; !ok {
			t.Errorf("key %q missing from %v", k, o)
		}
	}
	if o["measure"] != "memory-per-conn" || o["ours"] != 1000.0 || o["gvisor"] != 3000.0 || o["gvisor-tuned"] != 4000.0 ||
		o["kernel"] != nil || o["ratio"] != 3.0 || o["against"] != "gvisor" {
		t.Errorf("got %v", o)
	}
	if _, ok := o["cpu-per-byte"]; ok {
		t.Errorf("a row without CPU figures has cpu-per-byte: %v", o)
	}
	b := got[1]
	if f, _ := b["figures"].(map[string]any)["ours"].(map[string]any); f["min"] != 1.0 || f["median"] != 2.0 || f["max"] != 3.0 || f["runs"] != 3.0 {
		t.Errorf("ours' figure %v, want min 1 median 2 max 3 runs 3", f)
	}
	if b["ratio"] != nil {
		t.Errorf("ratio %v without a gVisor figure, want null", b["ratio"])
	}
	cpu, _ := b["cpu-per-byte"].(map[string]any)
	if cpu["ours"] != 0.5 || cpu["ratio"] != 4.0 || cpu["against"] != "gvisor-tuned" {
		t.Errorf("cpu-per-byte %v, want ours 0.5, ratio 4 against gvisor-tuned", cpu)
	}
}
