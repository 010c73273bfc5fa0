// Package page is the Go side of teardown web's page: the catalogue of
// scenarios, one lab run rendered every way the page shows or offers
// (JSON record, SVG, text, pcap, verdict lines), and a capture analysed
// and drawn like a run. It is plain Go with no browser in it, so its
// tests run natively; web/wasm exposes it to the page's JavaScript when
// compiled to WebAssembly.
package page

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/lab"
	"github.com/teardown-lab/teardown/profile"
)

// Catalogue is what the page's pickers offer.
type Catalogue struct {
	Scenarios   []Scenario `json:"scenarios"`
	Profiles    []string   `json:"profiles"`
	DefaultSeed uint64     `json:"default_seed"`
	// LatencyNs is the link's default one-way delay.
	LatencyNs int64 `json:"latency_ns"`
}

// Scenario is one scenario of the catalogue.
type Scenario struct {
	ID       string    `json:"id"`
	Group    string    `json:"group"`
	Summary  string    `json:"summary"`
	Client   string    `json:"client"`
	Server   string    `json:"server"`
	Variants []Variant `json:"variants"`
	Profiles []string  `json:"profiles"`
	// Needs says what is missing when the scenario cannot run yet.
	Needs string `json:"needs,omitempty"`
}

// Variant is one variant of a scenario.
type Variant struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	Profile string `json:"profile"`
}

// NewCatalogue lists every scenario, variant and profile.
func NewCatalogue() Catalogue {
	c := Catalogue{Profiles: profile.Names(), DefaultSeed: lab.DefaultSeed, LatencyNs: lab.DefaultLatency.Nanoseconds()}
	for _, s := range lab.Scenarios() {
		sc := Scenario{ID: s.ID, Group: s.Group, Summary: s.Summary, Client: s.Client, Server: s.Server,
			Profiles: s.Profiles}
		if !s.Runnable() {
			sc.Needs = s.Needs
			if sc.Needs == "" {
				sc.Needs = "support the stack lacks"
			}
		}
		for _, v := range s.Variants {
			sc.Variants = append(sc.Variants, Variant{Name: v.Name, Summary: v.Summary, Profile: v.Profile})
		}
		c.Scenarios = append(c.Scenarios, sc)
	}
	return c
}

// Request is one run the page asks for. Empty names and zero numbers
// mean the lab's defaults, as for 'teardown run'.
type Request struct {
	Scenario string `json:"scenario"`
	Variant  string `json:"variant"`
	Profile  string `json:"profile"`
	Seed     uint64 `json:"seed"`
	// LatencyNs is the link's one-way delay (0: lab.DefaultLatency).
	LatencyNs int64 `json:"latency_ns"`
	// Lose drops what a host sends at an instant (lab.Loss).
	Lose []Loss `json:"lose"`
}

// Loss drops every packet From sends at AtNs after the start.
type Loss struct {
	From string `json:"from"`
	AtNs int64  `json:"at_ns"`
}

// Outcome is one run, rendered.
type Outcome struct {
	// Name is a file name stem for the downloads:
	// scenario-variant-profile-seedN.
	Name string `json:"name"`
	// Trace is the run's JSON record ('teardown run --json'), which the
	// page draws; JSON is the same, byte for byte as the command prints
	// it, which the page offers for download.
	Trace json.RawMessage `json:"trace"`
	JSON  string          `json:"json"`
	// Verdict is the verdict in lines; Explanation the "why" paragraph.
	Verdict     []string `json:"verdict"`
	Explanation string   `json:"explanation"`
	// SVG and Text are the diagrams of 'run --svg' and 'run'.
	SVG  string `json:"svg"`
	Text string `json:"text"`
	// Pcap is the capture ('run --pcap'); the page gets it as bytes.
	Pcap []byte `json:"-"`
}

// Run replays a scenario as 'teardown run' does with the same names and
// seed (same pcap bytes), with the request's faults on the link.
func Run(req Request) (*Outcome, error) {
	opt := lab.Options{Variant: req.Variant, Profile: req.Profile, Seed: req.Seed,
		Latency: time.Duration(req.LatencyNs)}
	for _, l := range req.Lose {
		opt.Lose = append(opt.Lose, lab.Loss{From: l.From, At: time.Duration(l.AtNs)})
	}
	res, err := lab.Run(req.Scenario, opt)
	if err != nil {
		return nil, err
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		return nil, err
	}
	seed := req.Seed
	if seed == 0 {
		seed = lab.DefaultSeed
	}
	return &Outcome{
		Name:  fmt.Sprintf("%s-%s-%s-seed%d", res.Scenario.ID, res.Variant.Name, res.Profile.Name, seed),
		Trace: js.Bytes(), JSON: js.String(), Verdict: VerdictLines(res.Verdict()), Explanation: res.Explanation(),
		SVG: string(res.SVG(lab.SVGOptions{})), Text: res.Text(lab.TextOptions{}), Pcap: res.Pcap,
	}, nil
}

// VerdictLines says a verdict in lines: whether data was lost, then each
// error an application saw.
func VerdictLines(v lab.Verdict) []string {
	var lines []string
	switch {
	case v.DataLost && v.LostBytes == 1:
		lines = append(lines, "Data lost: 1 byte never reached the peer's application.")
	case v.DataLost:
		lines = append(lines, fmt.Sprintf("Data lost: %d bytes never reached the peer's application.", v.LostBytes))
	default:
		lines = append(lines, "No data lost.")
	}
	for _, e := range v.Errors {
		lines = append(lines, e.Host+" saw: "+e.Error)
	}
	if len(v.Errors) == 0 {
		lines = append(lines, "No application saw an error.")
	}
	return lines
}
