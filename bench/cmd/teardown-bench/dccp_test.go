package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// A tiny --dccp run (one short pipe run, one seed of a few hundred
// datagrams on the simulator, no VM) prints every table, and its JSON
// has every row with the counts the conditions imply.
func TestDCCP_TinyRunPrintsEveryMeasure(t *testing.T) {
	plan := dccpPlan{pipeRuns: 1, pipeTime: 50 * time.Millisecond, simSeeds: 1, simDatagrams: 300}
	var text bytes.Buffer
	if err := runDCCP(&text, plan, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| dccp-ccid2-1500 |", "| none | ccid2 |", "| loss-1% | ccid3 |", "| reorder-5% | tcp |"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the tables lack %q:\n%s", want, text.String())
		}
	}
	if strings.Contains(text.String(), "Linux 6.1 in the VM") {
		t.Errorf("without --vm the VM is not mentioned:\n%s", text.String())
	}

	var js bytes.Buffer
	if err := runDCCP(&js, plan, true, nil); err != nil {
		t.Fatal(err)
	}
	var rep dccpReport
	if err := json.Unmarshal(js.Bytes(), &rep); err != nil {
		t.Fatalf("--json output does not decode: %v\n%s", err, js.String())
	}
	if len(rep.Pipe) == 0 || len(rep.Sim) != 9 || rep.VM != nil || rep.VMSkipped != "" {
		t.Fatalf("got %d pipe rows, %d sim rows, vm %v %q; want some, 9 (3 protocols × 3 conditions), none",
			len(rep.Pipe), len(rep.Sim), rep.VM, rep.VMSkipped)
	}
	for _, r := range rep.Pipe {
		if r.DCCP == nil || r.DCCP.Runs != 1 {
			t.Errorf("pipe row %s: %+v, want one run", r.Measure, r.DCCP)
		}
	}
	for _, r := range rep.Sim {
		if r.Mbps == nil || r.Mbps.Runs != 1 || r.Mbps.Median <= 0 {
			t.Errorf("%s %s: throughput %+v, want one positive run", r.Condition, r.Proto, r.Mbps)
			continue
		}
		if (r.Proto == "tcp") != (r.VsTCP == nil) {
			t.Errorf("%s %s: ratio to TCP %v, want one for DCCP rows only", r.Condition, r.Proto, r.VsTCP)
		}
		lost, reordered := r.Counters["link-lost"].Median, r.Counters["reordered"].Median
		switch r.Condition {
		case "none":
			if lost != 0 || reordered != 0 {
				t.Errorf("none %s: lost %v, reordered %v on a clean path", r.Proto, lost, reordered)
			}
		case "reorder-5%":
			if lost != 0 || reordered == 0 {
				t.Errorf("reorder %s: lost %v, reordered %v; want 0 and some", r.Proto, lost, reordered)
			}
		}
	}
}
