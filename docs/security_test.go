package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	// citedTest is a test or fuzz function named in backticks.
	citedTest = regexp.MustCompile("`((?:Test|Fuzz)[A-Za-z0-9_]+)`")
	// testFunc is the declaration of one in a _test.go file.
	testFunc = regexp.MustCompile(`(?m)^func ((?:Test|Fuzz)[A-Za-z0-9_]+)\(`)
)

// repoTests returns the names of every test and fuzz function of the
// repository.
func repoTests(t *testing.T, root string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			names[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// TestSecurityTable_CitesTestsTheRepoHas fails for each test named in
// security.md that the repository does not have, and for each row of its
// tables that names no test and is not marked as in progress or open:
// the table's promise is that every claim has a test that shows it.
func TestSecurityTable_CitesTestsTheRepoHas(t *testing.T) {
	b, err := os.ReadFile("security.md")
	if err != nil {
		t.Fatal(err)
	}
	have := repoTests(t, "..")
	rows := 0
	for i, line := range strings.Split(string(b), "\n") {
		cited := citedTest.FindAllStringSubmatch(line, -1)
		for _, m := range cited {
			if !have[m[1]] {
				t.Errorf("security.md:%d cites %s, which no _test.go file declares", i+1, m[1])
			}
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		if !strings.HasPrefix(line, "|") || strings.HasPrefix(line, "|---") || len(cells) < 5 ||
			strings.TrimSpace(cells[0]) == "Attack or limit" || strings.TrimSpace(cells[0]) == "Source" {
			continue
		}
		rows++
		last := strings.TrimSpace(cells[len(cells)-1])
		if len(cited) == 0 && !strings.Contains(last, "in progress") && !strings.Contains(last, "open") {
			t.Errorf("security.md:%d: a row with no test, not marked in progress or open: %s", i+1, line)
		}
	}
	if rows < 20 {
		t.Fatalf("security.md: %d table rows found; the table's layout changed under this test", rows)
	}
}
