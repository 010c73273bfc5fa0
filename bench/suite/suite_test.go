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

// The JSON is one array with exactly the contract's keys, null where a
// figure or ratio is absent.
func TestWriteJSONContract(t *testing.T) {
	rows := []Row{{Measure: "memory-per-conn", Unit: "bytes", Ours: &Figure{Median: 1000}, GVisor: &Figure{Median: 3000}, LowerIsBetter: true}}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, rows); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not a JSON array: %v", err)
	}
	if len(got) != 1 || len(got[0]) != 6 {
		t.Fatalf("got %v, want one object with six keys", got)
	}
	o := got[0]
	if o["measure"] != "memory-per-conn" || o["ours"] != 1000.0 || o["gvisor"] != 3000.0 || o["kernel"] != nil || o["ratio"] != 3.0 {
		t.Errorf("got %v", o)
	}
}
