// Package docs holds no code: its test checks that the repository's
// documents and comments point only at files the repository has.
package docs

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var (
	// mdName is a Markdown file named anywhere: prose, comment or link.
	mdName = regexp.MustCompile(`[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b`)
	// mdLink is the target of a Markdown link (the part in parentheses).
	mdLink = regexp.MustCompile(`\]\(([^)\s#]+)(#[^)]*)?\)`)
	// tickedPath is a repository path in backticks: a word with a slash
	// and no spaces, such as `stack/backlog_test.go` or `internal/vm/cmd/`.
	tickedPath = regexp.MustCompile("`([a-z][A-Za-z0-9_.-]*/[A-Za-z0-9_./-]*)`")
)

// topDirs are the repository's top-level entries; a backticked path is
// checked only when it starts with one of them (so that `10.7.0.0/24`
// or `tcp/ip` are not taken for paths).
func topDirs(t *testing.T, root string) map[string]bool {
	t.Helper()
	entries, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range entries {
		out[e.Name()] = true
	}
	return out
}

// exists reports whether ref names a file or directory of the repository,
// read relative to the referring file's directory or to the root.
func exists(root, dir, ref string) bool {
	for _, base := range []string{dir, root} {
		if _, err := os.Stat(filepath.Join(base, filepath.FromSlash(ref))); err == nil {
			return true
		}
	}
	return false
}

// refs returns the repository paths text refers to, each once: Markdown
// files named anywhere, Markdown link targets, and backticked paths under
// a top-level entry of the repository.
func refs(text string, top map[string]bool) []string {
	var out []string
	for _, m := range mdName.FindAllString(text, -1) {
		if !strings.Contains(m, "://") {
			out = append(out, strings.TrimPrefix(m, "./"))
		}
	}
	for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
		if target := m[1]; !strings.Contains(target, "://") && !strings.HasPrefix(target, "mailto:") {
			out = append(out, target)
		}
	}
	for _, m := range tickedPath.FindAllStringSubmatch(text, -1) {
		p := m[1]
		first, _, _ := strings.Cut(p, "/")
		if top[first] && !strings.ContainsAny(p, "*") {
			out = append(out, strings.TrimSuffix(p, "/"))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// TestReferences_PointAtFilesTheRepoHas reads every .go and .md file of
// the repository and fails for each reference to a Markdown file, a
// Markdown link target or a backticked repository path that the
// repository does not have.
func TestReferences_PointAtFilesTheRepoHas(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("the repository root %s has no go.mod: %v", root, err)
	}
	top := topDirs(t, root)
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".go" && ext != ".md" {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, ref := range refs(string(b), top) {
			checked++
			if !exists(root, filepath.Dir(path), ref) {
				t.Errorf("%s refers to %s, which the repository does not have", rel, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no reference found at all: the scan is broken")
	}
}
