package trace

import (
	"strings"
	"testing"
)

// The syntax checks reject what the two languages would misread: a check
// that accepted everything would make the goldens' check worthless.
func TestCheckMermaid_RejectsBrokenDiagrams(t *testing.T) {
	ok := "sequenceDiagram\n    participant h0 as client\n    participant h1 as server\n    h0->>h1: SYN seq=0\n    Note over h0,h1: both close\n"
	if err := CheckMermaid(ok); err != nil {
		t.Fatalf("a well-formed diagram: %v", err)
	}
	for name, src := range map[string]string{
		"no header":          strings.Replace(ok, "sequenceDiagram\n", "", 1),
		"no final newline":   strings.TrimSuffix(ok, "\n"),
		"undeclared":         ok + "    h0->>h2: ACK\n",
		"declared twice":     ok + "    participant h1 as other\n",
		"raw semicolon":      ok + "    h0->>h1: a; b\n",
		"raw angle bracket":  ok + "    Note left of h0: <b>\n",
		"unknown statement":  ok + "    loop every second\n",
		"undeclared in note": ok + "    Note over h0,h5: x\n",
	} {
		if err := CheckMermaid(src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestCheckPlantUML_RejectsBrokenDiagrams(t *testing.T) {
	ok := "@startuml\nparticipant \"client\" as h0\nparticipant \"server\" as h1\nh0 -> h1 : SYN seq=0\nnote over h0, h1 : both close\n@enduml\n"
	if err := CheckPlantUML(ok); err != nil {
		t.Fatalf("a well-formed diagram: %v", err)
	}
	body := strings.TrimSuffix(ok, "@enduml\n")
	for name, src := range map[string]string{
		"no @startuml":      strings.Replace(ok, "@startuml\n", "", 1),
		"no @enduml":        body,
		"undeclared":        body + "h0 -> h3 : ACK\n@enduml\n",
		"declared twice":    body + "participant \"x\" as h0\n@enduml\n",
		"raw backslash":     body + "h0 -> h1 : a\\nb\n@enduml\n",
		"doubled markup":    body + "note left of h0 : **bold**\n@enduml\n",
		"raw quote":         body + "h0 -> h1 : say \"hi\"\n@enduml\n",
		"unknown statement": body + "loop forever\n@enduml\n",
	} {
		if err := CheckPlantUML(src); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
