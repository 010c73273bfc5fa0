package suite

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/bench/tunbench"
)

// The TUN rows are registered, and where they cannot run (not root) Run
// gives the reason instead of figures: in the JSON as "note", after the
// Markdown table.
func TestTUNRowsNoteWhyTheyAreMissing(t *testing.T) {
	var tun *Measure
	for i := range registered {
		if registered[i].Rows[0].Measure == "tun-send" {
			tun = &registered[i]
		}
	}
	if tun == nil || len(tun.Rows) != 2 || tun.Rows[1].Measure != "tun-recv" || tun.Available == nil {
		t.Fatalf("tun-send and tun-recv are not registered with an availability check: %+v", tun)
	}
	taken := map[string]int{}
	take := func(name string) func(Config, string) (map[string]float64, error) {
		return func(_ Config, s string) (map[string]float64, error) {
			taken[name+"/"+s]++
			return map[string]float64{name: 1}, nil
		}
	}
	cannot := Measure{Rows: []Row{{Measure: "x", Unit: "Gbit/s"}, {Measure: "x2", Unit: "Gbit/s"}}, Stacks: []string{Ours},
		Available: func() error { return errors.New("not root") }, Take: take("x")}
	can := Measure{Rows: []Row{{Measure: "y", Unit: "Gbit/s"}}, Stacks: []string{Ours, GVisorTuned},
		Available: func() error { return nil }, Take: take("y")}
	plain := Measure{Rows: []Row{{Measure: "z", Unit: "Gbit/s"}}, Stacks: []string{GVisor}, Take: take("z")}
	ms := []Measure{cannot, can, plain}
	got := unavailable(ms)
	if len(got) != 1 || got["x"] != "not measured: not root" {
		t.Errorf("unavailable: %v, want x only, with its reason", got)
	}
	var added []string
	takeRegistered(ms, got, Config{Runs: 1}, 0, func(string, ...any) {}, func(m, s string, v float64, err error) {
		added = append(added, m+"/"+s)
	})
	if len(taken) != 3 || taken["y/ours"] != 1 || taken["y/gvisor-tuned"] != 1 || taken["z/gvisor"] != 1 || len(added) != 3 {
		t.Errorf("taken %v, added %v: want y for ours and gvisor-tuned and z for gvisor, and x never", taken, added)
	}
	rows := registeredRows(ms, got)
	if len(rows) != 4 || rows[0].Note != got["x"] || rows[1].Note != got["x"] || rows[2].Note != "" || rows[3].Note != "" {
		t.Errorf("rows %+v: want x and x2 with the reason, y and z without", rows)
	}
	rows = []Row{rows[0], {Measure: "y", Unit: "Gbit/s", Ours: &Figure{Median: 1}}}
	var js bytes.Buffer
	if err := WriteJSON(&js, rows); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out[0]["note"] != "not measured: not root" || out[0]["ours"] != nil {
		t.Errorf("row x: %v", out[0])
	}
	if _, ok := out[1]["note"]; ok {
		t.Errorf("row y has a note: %v", out[1])
	}
	var tab bytes.Buffer
	WriteTable(&tab, rows)
	if !strings.Contains(tab.String(), "\nx: not measured: not root\n") || strings.Contains(tab.String(), "y: ") {
		t.Errorf("table:\n%s", tab.String())
	}
}

// Where it can run (root), the TUN measure gives both rows and their CPU
// per byte for ours and for gVisor as tailscale runs it.
func TestTUNRowsTaken(t *testing.T) {
	if err := tunbench.Available(); err != nil {
		t.Skipf("SKIPPING TUN ROWS: %v", err)
	}
	var tun Measure
	for _, m := range registered {
		if m.Rows[0].Measure == "tun-send" {
			tun = m
		}
	}
	for _, s := range tun.Stacks {
		got, err := tun.Take(Config{BulkBytes: 4 << 20}, s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		for _, m := range []string{"tun-send", "tun-recv", "tun-send" + cpuSuffix, "tun-recv" + cpuSuffix} {
			if got[m] <= 0 {
				t.Errorf("%s: %s = %v", s, m, got[m])
			}
		}
	}
	if len(tun.Stacks) != 2 || tun.Stacks[0] != Ours || tun.Stacks[1] != GVisorTuned {
		t.Errorf("stacks %v, want ours and gvisor-tuned", tun.Stacks)
	}
}
