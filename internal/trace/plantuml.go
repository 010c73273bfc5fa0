package trace

import (
	"io"
	"strconv"
	"strings"
)

// PlantUML renders tr as a PlantUML sequence diagram (@startuml ...
// @enduml). Participants are named h0, h1, ... and shown with the hosts'
// names; a lost packet's arrow ends in a cross. The output is
// deterministic.
func PlantUML(tr *Trace) string {
	d, stmts := seqStatements(tr)
	var b strings.Builder
	b.WriteString("@startuml\n")
	b.WriteString("title " + plantumlText(seqTitle(tr)) + "\n")
	for i, h := range d.hosts {
		b.WriteString("participant \"" + plantumlText(h) + "\" as " + mermaidID(i) + "\n")
	}
	for _, s := range stmts {
		switch {
		case s.kind == seqArrow:
			arrow := " -> "
			if s.lost {
				arrow = " ->x "
			}
			b.WriteString(mermaidID(s.host) + arrow + mermaidID(s.to))
		case s.host < 0 && len(d.hosts) > 1:
			b.WriteString("note over " + mermaidID(0) + ", " + mermaidID(len(d.hosts)-1))
		case s.host < 0:
			b.WriteString("note over " + mermaidID(0))
		default:
			b.WriteString("note " + pick(s.left, "left", "right") + " of " + mermaidID(s.host))
		}
		b.WriteString(" : " + plantumlText(s.text) + "\n")
	}
	b.WriteString("@enduml\n")
	return b.String()
}

// WritePlantUML writes PlantUML(tr) to w.
func WritePlantUML(w io.Writer, tr *Trace) error {
	_, err := io.WriteString(w, PlantUML(tr))
	return err
}

// plantumlText makes s safe as the text of a message, note, title or
// quoted participant name. PlantUML reads a backslash escape ("\n") as a
// line break, "<" as the start of a tag, "&#..;" as an entity, "~" as
// Creole's escape, and doubled markup characters ("**", "//", "--",
// "__", "\"\"", "[[", "==") as Creole formatting; such characters are
// written as numeric entities ("&#42;"), and a backslash as "<U+005C>",
// which PlantUML draws as the characters themselves. Single "-", "/" and
// "_" stay as they are, so "FIN-WAIT-1" reads as it should in the source
// too.
func plantumlText(s string) string {
	var b strings.Builder
	rs := []rune(oneLine(s))
	for i, c := range rs {
		doubled := (i+1 < len(rs) && rs[i+1] == c) || (i > 0 && rs[i-1] == c)
		switch {
		case c == '\\':
			// "&#92;" makes PlantUML 1.2020 fail; its Unicode form
			// draws a backslash that starts no escape.
			b.WriteString("<U+005C>")
		case strings.ContainsRune(`<>&~"`, c),
			doubled && strings.ContainsRune("*/-_[]=", c):
			b.WriteString("&#" + strconv.Itoa(int(c)) + ";")
		default:
			b.WriteRune(c)
		}
	}
	if strings.TrimSpace(b.String()) == "" {
		return "&#32;"
	}
	return b.String()
}
