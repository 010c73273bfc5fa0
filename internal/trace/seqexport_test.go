package trace

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMermaid_Golden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			golden(t, f.name+".mmd", Mermaid(f.tr()))
			golden(t, f.name+".puml", PlantUML(f.tr()))
		})
	}
}

func TestMermaid_Wellformed(t *testing.T) {
	for _, f := range append(fixtures, hostileFixture) {
		t.Run(f.name, func(t *testing.T) {
			if err := CheckMermaid(Mermaid(f.tr())); err != nil {
				t.Error(err)
			}
			if err := CheckPlantUML(PlantUML(f.tr())); err != nil {
				t.Error(err)
			}
		})
	}
}

// hostileFixture carries every character the two languages give a
// meaning to, in a call's data, a state's reason and a note.
var hostileFixture = struct {
	name string
	tr   func() *Trace
}{"hostile", func() *Trace {
	tr := echoOneNaive()
	bad := "a;b#c%%d<br>e\n@enduml\\n**f** //g// --h-- __i__ \"\" [[j]] ~k &#59; end"
	tr.AddNote(tr.Events[len(tr.Events)-1].T, "client", bad)
	tr.AddNote(tr.Events[len(tr.Events)-1].T, "", bad)
	tr.AddState(tr.Events[len(tr.Events)-1].T, "server", StateChange{From: "A", To: "B", Reason: bad})
	return tr
}}

// The escaped texts keep no character the languages would read: each
// statement is one line, and a text decodes back to what was meant.
func TestMermaid_EscapesRoundTrip(t *testing.T) {
	in := "a;b#c%%d<br>e&f \"g\" → h"
	if got := mermaidUnescape(mermaidText(in)); got != in {
		t.Errorf("mermaid: %q decodes to %q", in, got)
	}
	if got := plantumlUnescape(plantumlText(in + " **x** //y// --z-- \\n ~")); got != in+" **x** //y// --z-- \\n ~" {
		t.Errorf("plantuml: decodes to %q", got)
	}
	if got := plantumlText("FIN-WAIT-1"); got != "FIN-WAIT-1" {
		t.Errorf("a single dash is escaped needlessly: %q", got)
	}
	if mermaidText("") == "" || plantumlText("") == "" {
		t.Error("an empty text must still give the statement a text")
	}
}

var (
	entity     = regexp.MustCompile(`#(\d+);`)
	htmlEntity = regexp.MustCompile(`&#(\d+);`)
)

func decodeWith(re *regexp.Regexp, s string) string {
	return re.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for _, c := range re.FindStringSubmatch(m)[1] {
			n = n*10 + int(c-'0')
		}
		return string(rune(n))
	})
}

func mermaidUnescape(s string) string { return decodeWith(entity, s) }
func plantumlUnescape(s string) string {
	return decodeWith(htmlEntity, strings.ReplaceAll(s, "<U+005C>", "\\"))
}

// Every host of a trace is a participant, and every packet an arrow.
func TestMermaid_EveryHostAndPacket(t *testing.T) {
	tr := lossyTrace()
	packets := 0
	for _, e := range tr.Events {
		if e.Kind == KindPacket {
			packets++
		}
	}
	mm, pu := Mermaid(tr), PlantUML(tr)
	arrows := regexp.MustCompile(`(?m)^    h\d+(->>|-x)h\d+: `)
	if n := len(arrows.FindAllString(mm, -1)); n != packets {
		t.Errorf("mermaid: %d arrows for %d packets", n, packets)
	}
	parrows := regexp.MustCompile(`(?m)^h\d+ ->x? h\d+ : `)
	if n := len(parrows.FindAllString(pu, -1)); n != packets {
		t.Errorf("plantuml: %d arrows for %d packets", n, packets)
	}
	if !strings.Contains(mm, "-x") || !strings.Contains(pu, "->x") {
		t.Error("the lost packet is not drawn with a cross")
	}
	for _, h := range tr.columns() {
		if !slices.Contains(strings.Split(mm, "\n"), "    participant h"+
			string(rune('0'+slices.Index(tr.columns(), h)))+" as "+h) {
			t.Errorf("mermaid: host %s is not a participant", h)
		}
	}
}
