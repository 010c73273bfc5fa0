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
	cannot := Measure{Rows: []Row{{Measure: "x"}}, Available: func() error { return errors.New("not root") }}
	can := Measure{Rows: []Row{{Measure: "y"}}, Available: func() error { return nil }}
	got := unavailable([]Measure{cannot, can, {Rows: []Row{{Measure: "z"}}}})
	if len(got) != 1 || got["x"] != "not measured: not root" {
		t.Errorf("unavailable: %v, want x only, with its reason", got)
	}
	rows := []Row{{Measure: "x", Unit: "Gbit/s", Note: got["x"]}, {Measure: "y", Unit: "Gbit/s", Ours: &Figure{Median: 1}}}
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
