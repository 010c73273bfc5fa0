package trace

import "strings"

// Mermaid and PlantUML draw the same diagram as Text, as statements of
// their sequence-diagram languages: one participant per host, one arrow
// per packet, one note per application call and per state change, in
// the rows' order (the order Text draws them). Neither language has a
// time axis, so times are left out; the verdict closes the diagram as a
// note across every host.

// seqKind is what one exported statement draws.
type seqKind uint8

const (
	seqArrow seqKind = iota + 1 // a packet from host to to
	seqNote                     // a note beside host, or across (host -1)
)

// seqStmt is one statement, in language-neutral form.
type seqStmt struct {
	kind     seqKind
	host, to int
	lost     bool // the packet was dropped
	left     bool // a note goes left of the host's lifeline
	text     string
}

// seqStatements turns tr's rows into statements.
func seqStatements(tr *Trace) (*diagram, []seqStmt) {
	d := layout(tr, false)
	n := len(d.hosts)
	var out []seqStmt
	note := func(h int, left bool, s string) {
		out = append(out, seqStmt{kind: seqNote, host: h, left: left, text: s})
	}
	for i := range d.rows {
		r := &d.rows[i]
		switch r.kind {
		case rowCall, rowReturn:
			c := r.call
			note(r.host, callsLeft(r.host, n), c.label(false)+" → "+c.outcome(false))
		case rowCallStart:
			note(r.host, callsLeft(r.host, n), r.call.label(false)+" blocks…")
		case rowPacket:
			text := r.labels[0]
			if r.pkt.Dropped {
				text += " (lost)"
			}
			out = append(out, seqStmt{kind: seqArrow, host: r.host, to: r.to, lost: r.pkt.Dropped, text: text})
		case rowState:
			s := r.state
			text := "[" + s.From + " → " + s.To + "]"
			if s.Conn != "" {
				text = s.Conn + " " + text
			}
			if s.Reason != "" {
				text += " " + s.Reason
			}
			note(r.host, !callsLeft(r.host, n), text)
		case rowNote:
			note(r.host, r.host >= 0 && !callsLeft(r.host, n), r.note)
		case rowEnd:
			for h, cs := range r.stillBlocked {
				for _, c := range cs {
					note(h, callsLeft(h, n), c.label(false)+" still blocked at the end")
				}
			}
		}
	}
	if n > 0 {
		note(-1, false, verdictLine(tr.Verdict))
	}
	return d, out
}

// verdictLine sums up the verdict in one line, as the text's Verdict
// section says it.
func verdictLine(v Verdict) string {
	parts := []string{"No data lost"}
	if v.DataLost {
		parts[0] = "Data lost: " + plural(v.LostBytes, "byte")
	}
	if len(v.Errors) == 0 {
		parts = append(parts, "No application saw an error")
	}
	for _, e := range v.Errors {
		parts = append(parts, e.Host+" saw: "+e.Error)
	}
	return strings.Join(parts, ". ")
}

// title is the header line both languages carry.
func seqTitle(tr *Trace) string {
	t := tr.Scenario
	if t == "" {
		t = "trace"
	}
	for _, kv := range [][2]string{{"variant", tr.Variant}, {"profile", tr.Profile}} {
		if kv[1] != "" {
			t += " · " + kv[0] + " " + kv[1]
		}
	}
	return t + " · seed " + utoa(tr.Seed)
}

// oneLine replaces control characters (line breaks among them) with
// spaces: every statement of both languages ends at a line break.
func oneLine(s string) string {
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029' || c == '\u0085' {
			return ' '
		}
		return c
	}, s)
}
