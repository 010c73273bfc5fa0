package page

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/lab"
)

func TestCatalogue_ListsEveryScenarioAndVariant(t *testing.T) {
	c := NewCatalogue()
	var ids []string
	for _, s := range c.Scenarios {
		ids = append(ids, s.ID)
		sc, _ := lab.Lookup(s.ID)
		if len(s.Variants) != len(sc.Variants) || s.Client != sc.Client || s.Server != sc.Server {
			t.Errorf("%s: %d variants, hosts %s/%s; the lab has %d, %s/%s", s.ID, len(s.Variants), s.Client, s.Server,
				len(sc.Variants), sc.Client, sc.Server)
		}
	}
	if !slices.Equal(ids, lab.IDs()) || len(c.Profiles) == 0 {
		t.Errorf("catalogue lists %v and %d profiles; the lab has %v", ids, len(c.Profiles), lab.IDs())
	}
}

// The page's run is 'teardown run': the same record and the same pcap
// bytes for the same names and seed.
func TestRun_IsTheLabsRun(t *testing.T) {
	out, err := Run(Request{Scenario: "tcp-echo-one", Variant: "shutdown"})
	if err != nil {
		t.Fatal(err)
	}
	res, err := lab.Run("tcp-echo-one", lab.Options{Variant: "shutdown"})
	if err != nil {
		t.Fatal(err)
	}
	var js bytes.Buffer
	res.WriteJSON(&js)
	if !bytes.Equal(out.Pcap, res.Pcap) || !bytes.Equal(out.Trace, js.Bytes()) || out.JSON != js.String() ||
		out.Explanation != res.Explanation() {
		t.Errorf("the page's run differs from lab.Run's (pcap %d vs %d bytes)", len(out.Pcap), len(res.Pcap))
	}
	if out.Name != "tcp-echo-one-shutdown-linux-seed1" || !strings.HasPrefix(out.SVG, "<svg") && !strings.Contains(out.SVG, "<svg") {
		t.Errorf("name %q, svg %.40q", out.Name, out.SVG)
	}
}

func TestRun_UnknownScenarioIsAnError(t *testing.T) {
	if _, err := Run(Request{Scenario: "no-such"}); err == nil || !strings.Contains(err.Error(), "tcp-echo-one") {
		t.Errorf("unknown scenario: %v; want an error listing the scenarios", err)
	}
}

func TestVerdictLines_SayLossAndErrors(t *testing.T) {
	for _, c := range []struct {
		v    lab.Verdict
		want []string
	}{
		{lab.Verdict{}, []string{"No data lost.", "No application saw an error."}},
		{lab.Verdict{DataLost: true, LostBytes: 1}, []string{"Data lost: 1 byte never reached the peer's application.", "No application saw an error."}},
		{lab.Verdict{DataLost: true, LostBytes: 4, Errors: []lab.HostError{{Host: "A", Error: "recv: reset"}}},
			[]string{"Data lost: 4 bytes never reached the peer's application.", "A saw: recv: reset"}},
	} {
		if got := VerdictLines(c.v); !slices.Equal(got, c.want) {
			t.Errorf("%+v: %q, want %q", c.v, got, c.want)
		}
	}
}

// A lab capture analysed: one connection, every packet drawn between the
// two ends, the RST's finding and verdict said.
func TestAnalyze_DrawsEachConnectionsPackets(t *testing.T) {
	res, err := lab.Run("tcp-echo-one", lab.Options{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := Analyze(res.Pcap)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Conns) != 1 || !strings.Contains(a.Text, "connection 1") {
		t.Fatalf("%d connections drawn; report:\n%s", len(a.Conns), a.Text)
	}
	var rep struct {
		Hosts []string
		Wire  []struct{ From, To, Kind string }
	}
	if err := json.Unmarshal(a.Conns[0].Trace, &rep); err != nil {
		t.Fatal(err)
	}
	var run struct{ Wire []struct{ Kind string } }
	var js bytes.Buffer
	res.WriteJSON(&js)
	json.Unmarshal(js.Bytes(), &run)
	pcapPackets := len(run.Wire)
	if len(rep.Wire) != pcapPackets || len(rep.Hosts) != 2 {
		t.Fatalf("%d packets between %v; the run sent %d", len(rep.Wire), rep.Hosts, pcapPackets)
	}
	for i, w := range rep.Wire {
		if w.Kind != run.Wire[i].Kind || !slices.Contains(rep.Hosts, w.From) || !slices.Contains(rep.Hosts, w.To) {
			t.Errorf("packet %d: %+v; the run sent %s", i+1, w, run.Wire[i].Kind)
		}
	}
	if v := strings.Join(a.Conns[0].Verdict, "\n"); !strings.Contains(v, "ending: rst") || !strings.Contains(a.Conns[0].Explanation, "rst_with_unread_data") {
		t.Errorf("verdict %q, explanation %q", v, a.Conns[0].Explanation)
	}
}

func TestAnalyze_NotACaptureIsAnError(t *testing.T) {
	if _, err := Analyze([]byte("hello")); err == nil {
		t.Error("Analyze of 5 bytes of text: no error")
	}
}
