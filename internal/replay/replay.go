// Package replay helps seeded tests say how to run a failure again: the
// go test command that selects exactly the failed test (and sub-test),
// with the flags that reproduce it. Tests only.
package replay

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// OnFailure arranges that, if t fails, its log ends with the command
// that replays it:
//
//	replay: go test ./stack -run '^TestSoak$/^seed=860$'
//
// flags are added as they are ("-seed=860"). Call it at the top of the
// test or sub-test that draws from the seed.
func OnFailure(t testing.TB, flags ...string) {
	t.Helper()
	t.Cleanup(func() {
		if t.Failed() {
			t.Log("replay: " + Command(t, flags...))
		}
	})
}

// Command returns the go test command that runs t alone (run from the
// module's root), with flags.
func Command(t testing.TB, flags ...string) string {
	var run []string
	for _, part := range strings.Split(t.Name(), "/") {
		run = append(run, "^"+regexp.QuoteMeta(part)+"$")
	}
	args := []string{"go", "test", pkgDir(), "-run", shellQuote(strings.Join(run, "/"))}
	for _, f := range flags {
		args = append(args, shellQuote(f))
	}
	return strings.Join(args, " ")
}

// pkgDir is the directory go test runs the test in (the package's),
// relative to the module root: "./stack". It is "." when no go.mod is
// found above it.
func pkgDir() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	for root := wd; ; {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			rel, err := filepath.Rel(root, wd)
			if err != nil || rel == "." {
				return "."
			}
			return "./" + filepath.ToSlash(rel)
		}
		up := filepath.Dir(root)
		if up == root {
			return "."
		}
		root = up
	}
}

// shellQuote quotes s for a POSIX shell when it holds anything but
// letters, digits and -_=./,:@+.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_=./,:@+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
