package lab

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/trace"
)

// goldenDir holds one directory per scenario; in it, for each variant
// and profile the lab runs, the text diagram (.txt), the JSON (.json)
// the SHA-256 of the pcap (.pcap.sha256), the Mermaid (.mmd) and
// PlantUML (.puml) diagrams, and the SVG (.svg).
var goldenDir = filepath.Join("testdata", "golden")

// goldenExts are the files each golden case has.
var goldenExts = []string{".txt", ".json", ".pcap.sha256", ".mmd", ".puml", ".svg"}

// goldenCase is one run the goldens pin: a variant of a scenario under
// its own profile (profile "") or under another profile the scenario
// lists in Profiles.
type goldenCase struct{ id, variant, profile string }

// stem is the case's path without extension:
// testdata/golden/<id>/<variant>[@<profile>].
func (c goldenCase) stem() string {
	name := c.variant
	if c.profile != "" {
		name += "@" + c.profile
	}
	return filepath.Join(goldenDir, c.id, name)
}

// testName is the sub-test's name, which -run selects.
func (c goldenCase) testName() string {
	return strings.TrimPrefix(c.stem(), goldenDir+string(filepath.Separator))
}

// goldenCases lists every runnable scenario in every variant under its
// default profile, and again under each profile of the scenario's
// Profiles that is not the variant's default.
func goldenCases() []goldenCase {
	var cases []goldenCase
	for _, s := range Scenarios() {
		if !s.Runnable() {
			continue
		}
		for _, v := range s.Variants {
			cases = append(cases, goldenCase{id: s.ID, variant: v.Name})
			def := v.Profile
			if def == "" {
				def = "linux"
			}
			for _, p := range s.Profiles {
				if p != def {
					cases = append(cases, goldenCase{id: s.ID, variant: v.Name, profile: p})
				}
			}
		}
	}
	return cases
}

// Every case's text diagram, JSON, pcap and diagrams are byte for byte what
// testdata/golden holds. go test ./lab -run TestGolden -update rewrites
// them from the current code.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases() {
		t.Run(c.testName(), func(t *testing.T) {
			replay.OnFailure(t)
			res := run(t, c.id, c.variant, c.profile)
			var js bytes.Buffer
			if err := res.WriteJSON(&js); err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(res.Pcap)
			got := map[string][]byte{
				".txt":         []byte(res.Text(TextOptions{})),
				".json":        js.Bytes(),
				".pcap.sha256": []byte(hex.EncodeToString(sum[:]) + "\n"),
				".mmd":         []byte(res.Mermaid()),
				".puml":        []byte(res.PlantUML()),
				".svg":         res.SVG(SVGOptions{}),
			}
			// At the default width (80) the text diagram wraps what does
			// not fit; its only "…" says that a call blocks.
			if strings.Contains(strings.ReplaceAll(string(got[".txt"]), "blocks…", ""), "…") {
				t.Error("the text diagram cuts a text with …")
			}
			// No two texts of the SVG overlap, none sticks out, none is
			// cut (trace.CheckSVG's conservative font estimate).
			if err := trace.CheckSVG(got[".svg"]); err != nil {
				t.Error(err)
			}
			if err := trace.CheckMermaid(res.Mermaid()); err != nil {
				t.Error(err)
			}
			if err := trace.CheckPlantUML(res.PlantUML()); err != nil {
				t.Error(err)
			}
			for _, ext := range goldenExts {
				checkGolden(t, c.stem()+ext, got[ext])
			}
		})
	}
}

// checkGolden compares got with the file at path, or writes it under
// -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./lab -run TestGolden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (rerun go test ./lab -run TestGolden -update if the change is intended); got:\n%s", path, got)
	}
}

// Every golden case has its files, and every file under testdata/golden
// belongs to a case: a new variant cannot go unpinned and a removed one
// cannot leave a stale golden. Under -update stale files are removed.
func TestGoldenFilesMatchTheVariants(t *testing.T) {
	want := map[string]bool{}
	for _, c := range goldenCases() {
		for _, ext := range goldenExts {
			want[c.stem()+ext] = true
		}
	}
	var have []string
	err := filepath.WalkDir(goldenDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			have = append(have, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range have {
		if want[path] {
			delete(want, path)
			continue
		}
		if *update {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			continue
		}
		t.Errorf("%s belongs to no registered scenario, variant and profile (go test ./lab -run TestGolden -update removes it)", path)
	}
	missing := make([]string, 0, len(want))
	for path := range want {
		missing = append(missing, path)
	}
	slices.Sort(missing)
	for _, path := range missing {
		t.Errorf("%s is missing (go test ./lab -run TestGolden -update writes it)", path)
	}
}
