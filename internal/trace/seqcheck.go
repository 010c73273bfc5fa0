package trace

import (
	"fmt"
	"regexp"
	"strings"
)

// CheckMermaid and CheckPlantUML are the syntax sanity checks of the
// exported diagrams, for the tests of every lab run: each line is a
// statement of the small subset the renderers write, every participant
// is declared before use, the diagram opens and closes once, and no text
// holds a character its language would read as syntax.

var (
	mmParticipant = regexp.MustCompile(`^    participant (h\d+) as (.+)$`)
	mmArrow       = regexp.MustCompile(`^    (h\d+)(?:->>|-x)(h\d+): (.+)$`)
	mmNoteSide    = regexp.MustCompile(`^    Note (?:left|right) of (h\d+): (.+)$`)
	mmNoteOver    = regexp.MustCompile(`^    Note over (h\d+)(?:,(h\d+))?: (.+)$`)
	mmEntity      = regexp.MustCompile(`#\d+;`)

	puParticipant = regexp.MustCompile(`^participant "(.+)" as (h\d+)$`)
	puArrow       = regexp.MustCompile(`^(h\d+) ->x? (h\d+) : (.+)$`)
	puNoteSide    = regexp.MustCompile(`^note (?:left|right) of (h\d+) : (.+)$`)
	puNoteOver    = regexp.MustCompile(`^note over (h\d+)(?:, (h\d+))? : (.+)$`)
	puEntity      = regexp.MustCompile(`&#\d+;`)
	puDoubled     = regexp.MustCompile(`\*\*|//|--|__|\[\[|\]\]|==`)
)

// CheckMermaid reports the first line of src that is not a well-formed
// statement of the renderer's Mermaid subset.
func CheckMermaid(src string) error {
	lines, ok := strings.CutSuffix(src, "\n")
	if !ok {
		return fmt.Errorf("mermaid: no final line break")
	}
	ls := strings.Split(lines, "\n")
	if ls[0] != "sequenceDiagram" {
		return fmt.Errorf("mermaid: first line %q is not sequenceDiagram", ls[0])
	}
	declared := map[string]bool{}
	for i, l := range ls[1:] {
		if err := mermaidLine(l, declared); err != nil {
			return fmt.Errorf("mermaid line %d: %w: %q", i+2, err, l)
		}
	}
	return nil
}

func mermaidLine(l string, declared map[string]bool) error {
	if strings.HasPrefix(l, "    %% ") {
		return nil
	}
	if m := mmParticipant.FindStringSubmatch(l); m != nil {
		if declared[m[1]] {
			return fmt.Errorf("participant declared twice")
		}
		declared[m[1]] = true
		return mermaidTextOK(m[2])
	}
	return statement(l, declared, mermaidTextOK, mmArrow, mmNoteSide, mmNoteOver)
}

// statement checks l against the statement forms of a subset (arrows and
// notes): each form's groups are participant ids, then the text, which
// textOK judges. The ids must have been declared.
func statement(l string, declared map[string]bool, textOK func(string) error, forms ...*regexp.Regexp) error {
	var m []string
	for _, re := range forms {
		if m = re.FindStringSubmatch(l); m != nil {
			break
		}
	}
	if m == nil {
		return fmt.Errorf("not a statement of the subset")
	}
	for _, id := range m[1 : len(m)-1] {
		if id != "" && !declared[id] {
			return fmt.Errorf("participant %s not declared", id)
		}
	}
	return textOK(m[len(m)-1])
}

func mermaidTextOK(s string) error {
	if strings.ContainsAny(mmEntity.ReplaceAllString(s, ""), "#;<>&%") {
		return fmt.Errorf("raw character Mermaid reads as syntax")
	}
	return nil
}

// CheckPlantUML reports the first line of src that is not a well-formed
// statement of the renderer's PlantUML subset.
func CheckPlantUML(src string) error {
	lines, ok := strings.CutSuffix(src, "\n")
	if !ok {
		return fmt.Errorf("plantuml: no final line break")
	}
	ls := strings.Split(lines, "\n")
	if len(ls) < 3 || ls[0] != "@startuml" || ls[len(ls)-1] != "@enduml" {
		return fmt.Errorf("plantuml: not one @startuml ... @enduml block")
	}
	declared := map[string]bool{}
	for i, l := range ls[1 : len(ls)-1] {
		if err := plantumlLine(l, declared); err != nil {
			return fmt.Errorf("plantuml line %d: %w: %q", i+2, err, l)
		}
	}
	return nil
}

func plantumlLine(l string, declared map[string]bool) error {
	if t, ok := strings.CutPrefix(l, "title "); ok {
		return plantumlTextOK(t)
	}
	if m := puParticipant.FindStringSubmatch(l); m != nil {
		if declared[m[2]] {
			return fmt.Errorf("participant declared twice")
		}
		declared[m[2]] = true
		return plantumlTextOK(m[1])
	}
	return statement(l, declared, plantumlTextOK, puArrow, puNoteSide, puNoteOver)
}

func plantumlTextOK(s string) error {
	r := puEntity.ReplaceAllString(strings.ReplaceAll(s, "<U+005C>", ""), "\x00")
	if strings.ContainsAny(r, "\\<>&~\"") {
		return fmt.Errorf("raw character PlantUML reads as syntax")
	}
	if puDoubled.MatchString(r) {
		return fmt.Errorf("doubled Creole markup character")
	}
	return nil
}
