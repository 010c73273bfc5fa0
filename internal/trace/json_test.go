package trace

import (
	"bytes"
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestJSON_RoundTrip(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			tr := f.tr()
			var buf bytes.Buffer
			if err := WriteJSON(&buf, tr); err != nil {
				t.Fatal(err)
			}
			got, err := ReadJSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if want := tr.Report(); !reflect.DeepEqual(got, want) {
				t.Errorf("read back %+v\nwant %+v", got, want)
			}
		})
	}
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, v any) []string {
	t.Helper()
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("want a JSON object, got %T", v)
	}
	return slices.Sorted(maps.Keys(m))
}

// hasAll reports the contract keys missing from got.
func missing(got []string, want ...string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

func TestJSON_ContractFieldNames(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, echoOneNaive()); err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(buf.Bytes(), &top); err != nil {
		t.Fatal(err)
	}
	check := func(what string, v any, want ...string) {
		if m := missing(keys(t, v), want...); len(m) > 0 {
			t.Errorf("%s lacks contract fields %v (has %v)", what, m, keys(t, v))
		}
	}
	check("top level", top, "scenario", "variant", "profile", "seed", "hosts", "apps", "wire", "verdict", "explanation")
	apps := top["apps"].([]any)
	check("apps[0]", apps[0], "host", "calls")
	check("apps[0].calls[0]", apps[0].(map[string]any)["calls"].([]any)[0], "t_ns", "call", "result", "bytes")
	wire := top["wire"].([]any)
	check("wire[0]", wire[0], "t_ns", "from", "to", "proto", "kind", "seq", "ack", "len")
	check("verdict", top["verdict"], "data_lost", "lost_bytes", "errors")
	check("verdict.errors[0]", top["verdict"].(map[string]any)["errors"].([]any)[0], "host", "error")

	if top["scenario"] != "tcp-echo-one" || top["seed"] != 1.0 {
		t.Errorf("scenario/seed = %v/%v", top["scenario"], top["seed"])
	}
	// The RST: raw numbers, time relative to Start, contract spelling.
	var rst map[string]any
	for _, w := range wire {
		if w.(map[string]any)["kind"] == "RST|ACK" {
			rst = w.(map[string]any)
		}
	}
	if rst == nil || rst["seq"] != float64(isnS+2) || rst["ack"] != float64(isnC+6) || rst["t_ns"] != 3e6 ||
		rst["from"] != "server" || rst["proto"] != "tcp" {
		t.Errorf("RST entry = %v; want raw seq %d, raw ack %d, t_ns 3e6 from server", rst, isnS+2, isnC+6)
	}
}

func TestJSON_EmptyListsAreArrays(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &Trace{Scenario: "empty", Hosts: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{`"wire": []`, `"errors": []`, `"calls": []`} {
		if !strings.Contains(s, want) {
			t.Errorf("want %s (never null) in %s", want, s)
		}
	}
}

func TestJSON_CallsCarryResultsAndTimes(t *testing.T) {
	rep := echoOneNaive().Report()
	if len(rep.Apps) != 2 || rep.Apps[0].Host != "client" {
		t.Fatalf("apps = %+v, want client then server", rep.Apps)
	}
	var results []string
	for _, c := range rep.Apps[0].Calls {
		results = append(results, c.Call+":"+c.Result)
	}
	want := []string{"connect:ok", "send:ok", "recv:data", "recv:reset", "close:ok"}
	if !slices.Equal(results, want) {
		t.Errorf("client calls = %v, want %v", results, want)
	}
	recv := rep.Apps[0].Calls[2]
	if recv.TNs != 2e6 || recv.EndNs == nil || *recv.EndNs != 4e6 || recv.Detail != "h" || recv.Bytes != 1 {
		t.Errorf("blocking recv = %+v, want started at 2 ms, returned at 4 ms with 1 byte \"h\"", recv)
	}
	lossy := lossyTrace().Report()
	blocked := lossy.Apps[0].Calls[1]
	if blocked.Result != "blocked" || blocked.EndNs != nil {
		t.Errorf("never-returning recv = %+v, want result blocked without end_ns", blocked)
	}
	if w := lossy.Wire[0]; !w.Dropped || w.ArriveNs != nil {
		t.Errorf("dropped packet = %+v, want dropped without arrive_ns", w)
	}
}

func TestReadJSON_Errors(t *testing.T) {
	for _, in := range []string{"", "{", `{"seed": -1}`, `{"hosts": "x"}`, "[]"} {
		if _, err := ReadJSON(strings.NewReader(in)); err == nil {
			t.Errorf("ReadJSON(%q) succeeded, want an error", in)
		}
	}
}
