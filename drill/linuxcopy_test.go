package drill

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/profile"
)

// A reviewed copy in testdata/linux/ repeats its script up to the line
// where our linux profile departs from Linux on purpose, marks that line
// with a comment pointing to docs/drill.md, and goes on with what our
// stack does. The script itself must still fail on the linux profile at
// exactly that line: passing means the stack now does as Linux and the
// copy should go; failing elsewhere means the copy no longer says where
// the two part.
func TestCorpus_LinuxCopiesDifferWhereTheySay(t *testing.T) {
	copies, _ := filepath.Glob("testdata/linux/*.pkt")
	linux, err := profile.ByName("linux")
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range copies {
		base := filepath.Join("testdata", filepath.Base(cp))
		t.Run(filepath.Base(cp), func(t *testing.T) {
			if why, ok := LinuxProfileDiffers[filepath.Base(cp)]; ok {
				t.Fatalf("%s has a reviewed copy for linux and is still in LinuxProfileDiffers (%s): keep one", base, why)
			}
			line, err := departure(readFile(t, base), readFile(t, cp))
			if err != "" {
				t.Fatalf("%s: %s", cp, err)
			}
			r := runFile(t, base, Options{Profile: linux})
			switch {
			case r.Status == Pass:
				t.Fatalf("%s now passes on the linux profile: the stack does as Linux there, so delete its copy %s "+
					"and the difference in docs/drill.md", base, cp)
			case r.Status != Fail || r.Line != line:
				t.Fatalf("%s departs from %s at line %d, but the linux profile now runs the script to:\n%v\n"+
					"review the copy against what the stack sends (teardown drill --profile linux --svg)", cp, base, line, r)
			}
		})
	}
}

// departure is the line (from 1) where a linux copy leaves its script:
// the first line they do not share, which in the copy must open a
// comment that points to docs/drill.md. It says what is wrong otherwise.
func departure(base, cp string) (int, string) {
	b, c := strings.Split(base, "\n"), strings.Split(cp, "\n")
	i := 0
	for i < len(b) && i < len(c) && b[i] == c[i] {
		i++
	}
	if i == len(c) {
		return 0, "the copy adds nothing to its script"
	}
	var comment []string
	for j := i; j < len(c) && strings.HasPrefix(strings.TrimSpace(c[j]), "//"); j++ {
		comment = append(comment, c[j])
	}
	if len(comment) == 0 {
		return 0, fmt.Sprintf("line %d departs from the script without a comment saying how", i+1)
	}
	if !strings.Contains(strings.Join(comment, " "), "docs/drill.md") {
		return 0, fmt.Sprintf("the comment at line %d does not point to docs/drill.md", i+1)
	}
	return i + 1, ""
}

func TestDeparture_TheFirstLineNotSharedOpensTheComment(t *testing.T) {
	base := "a\nb\nc\n"
	cases := []struct {
		cp   string
		line int
		says string
	}{
		{"a\n// ours differs (docs/drill.md)\nd\n", 2, ""},
		{"a\nb\n// we stop here;\n// docs/drill.md says why\n", 3, ""},
		{"a\nd\n", 0, "without a comment"},
		{"a\n// ours differs\nd\n", 0, "does not point to docs/drill.md"},
		{base, 0, "adds nothing"},
	}
	for _, c := range cases {
		line, err := departure(base, c.cp)
		if line != c.line || (c.says == "") != (err == "") || !strings.Contains(err, c.says) {
			t.Errorf("departure of %q: got line %d, %q; want line %d, %q", c.cp, line, err, c.line, c.says)
		}
	}
}
