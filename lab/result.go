package lab

import (
	"io"

	"github.com/teardown-lab/teardown/internal/trace"
)

// TextOptions shape the terminal diagram (Result.Text).
type TextOptions struct {
	// Width is the most characters (runes) on any line; 0 means 100
	// columns, and widths below 48 are raised to 48.
	Width int
	// ASCII draws with ASCII only: lifelines "|", arrows "-->", "->"
	// for "→", and data quoted with escapes.
	ASCII bool
	// RawSeq shows the raw sequence and acknowledgement numbers instead
	// of numbers relative to each side's first.
	RawSeq bool
}

// SVGOptions shape the SVG drawing (Result.SVG).
type SVGOptions struct {
	// RawSeq labels packets with raw sequence numbers instead of
	// relative ones.
	RawSeq bool
}

// Verdict is what a run cost its applications.
type Verdict struct {
	// DataLost says that bytes a sender's application handed over never
	// reached the peer's application; LostBytes counts them.
	DataLost  bool
	LostBytes int
	// Errors lists, per host, the error its application saw.
	Errors []HostError
}

// HostError is one error an application saw.
type HostError struct {
	// Host is the host's name in the diagram; Error the error as the
	// application saw it ("connection reset by peer").
	Host, Error string
}

// Text draws the run as a sequence diagram for a terminal: the two
// hosts' lifelines, the packets between them, the calls of the
// applications, the state changes, then the verdict and the explanation.
func (r *Result) Text(opt TextOptions) string {
	return trace.Text(r.trace, trace.TextOptions(opt))
}

// WriteText writes Text's diagram to w.
func (r *Result) WriteText(w io.Writer, opt TextOptions) error {
	return trace.WriteText(w, r.trace, trace.TextOptions(opt))
}

// SVG draws the same diagram as an SVG document.
func (r *Result) SVG(opt SVGOptions) []byte {
	return trace.SVG(r.trace, trace.SVGOptions(opt))
}

// WriteJSON writes the run as JSON, the record the other renderings are
// drawn from: hosts, calls, packets, state changes, verdict and
// explanation.
func (r *Result) WriteJSON(w io.Writer) error {
	return trace.WriteJSON(w, r.trace)
}

// Verdict returns what the run cost: data lost, errors seen.
func (r *Result) Verdict() Verdict {
	v := Verdict{DataLost: r.trace.Verdict.DataLost, LostBytes: r.trace.Verdict.LostBytes}
	for _, e := range r.trace.Verdict.Errors {
		v.Errors = append(v.Errors, HostError{Host: e.Host, Error: e.Error})
	}
	return v
}

// Explanation returns the paragraph that says why the run ended as it
// did: the rule that decided it and what the fixed variant changes.
func (r *Result) Explanation() string { return r.trace.Explanation }

// Mermaid draws the same diagram as a Mermaid sequence diagram (hosts as
// participants, packets as arrows, calls and state changes as notes, in
// time order), for a ```mermaid block in an issue or a document.
func (r *Result) Mermaid() string { return trace.Mermaid(r.trace) }

// PlantUML draws the same diagram as a PlantUML sequence diagram.
func (r *Result) PlantUML() string { return trace.PlantUML(r.trace) }
