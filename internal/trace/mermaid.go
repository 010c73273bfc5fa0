package trace

import (
	"io"
	"strconv"
	"strings"
)

// Mermaid renders tr as a Mermaid sequence diagram (the text GitHub draws
// from a ```mermaid block). Participants are named h0, h1, ... and shown
// with the hosts' names; a lost packet's arrow ends in a cross. The
// output is deterministic.
func Mermaid(tr *Trace) string {
	d, stmts := seqStatements(tr)
	var b strings.Builder
	b.WriteString("sequenceDiagram\n")
	b.WriteString("    %% " + oneLine(seqTitle(tr)) + "\n")
	for i, h := range d.hosts {
		b.WriteString("    participant " + mermaidID(i) + " as " + mermaidText(h) + "\n")
	}
	for _, s := range stmts {
		b.WriteString("    ")
		switch {
		case s.kind == seqArrow:
			arrow := "->>"
			if s.lost {
				arrow = "-x"
			}
			b.WriteString(mermaidID(s.host) + arrow + mermaidID(s.to))
		case s.host < 0 && len(d.hosts) > 1:
			b.WriteString("Note over " + mermaidID(0) + "," + mermaidID(len(d.hosts)-1))
		case s.host < 0:
			b.WriteString("Note over " + mermaidID(0))
		default:
			b.WriteString("Note " + pick(s.left, "left", "right") + " of " + mermaidID(s.host))
		}
		b.WriteString(": " + mermaidText(s.text) + "\n")
	}
	return b.String()
}

// WriteMermaid writes Mermaid(tr) to w.
func WriteMermaid(w io.Writer, tr *Trace) error {
	_, err := io.WriteString(w, Mermaid(tr))
	return err
}

func mermaidID(i int) string { return "h" + strconv.Itoa(i) }

// mermaidText makes s safe as the text of a message, note or alias.
// Mermaid's lexer ends a text at "#", ";" and a line break, and its
// renderer reads "<br>" and other tags as HTML; such characters are
// written as Mermaid's entity codes ("#59;"), which it turns back into
// the characters when drawing. "%" is coded too, so that no "%%" (a
// comment) can appear.
func mermaidText(s string) string {
	var b strings.Builder
	for _, c := range oneLine(s) {
		switch c {
		case '#', ';', '<', '>', '&', '%':
			b.WriteString("#" + strconv.Itoa(int(c)) + ";")
		default:
			b.WriteRune(c)
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "#32;" // an empty text would end the statement at the colon
	}
	return b.String()
}
