package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/profile"
)

// The scripts of testdata/ describe how the linux profile ends
// connections; each must pass.
func TestCorpus_LinuxProfilePasses(t *testing.T) {
	files, err := filepath.Glob("testdata/*.pkt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := runFile(t, f, Options{Profile: profile.Linux})
			if r.Status != Pass {
				t.Fatal(r)
			}
		})
	}
}

// A run is deterministic: the same script gives the same result, the
// same way, every time (here: a failure's text, with its live times).
func TestRun_SameScriptSameResult(t *testing.T) {
	src := strings.Replace(readFile(t, "testdata/connect_blocking_read.pkt"), "ack 202", "ack 203", 1)
	var first string
	for i := 0; i < 3; i++ {
		r := run(t, src, Options{})
		if r.Status != Fail {
			t.Fatalf("the changed script passed: %v", r)
		}
		if i == 0 {
			first = r.String()
		} else if r.String() != first {
			t.Fatalf("run %d:\n%s\nrun 0:\n%s", i, r, first)
		}
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func runFile(t *testing.T, name string, opts Options) Result {
	t.Helper()
	s, err := Parse(name, []byte(readFile(t, name)))
	if err != nil {
		t.Fatal(err)
	}
	return Run(s, opts)
}

func run(t *testing.T, src string, opts Options) Result {
	t.Helper()
	s, err := Parse("test.pkt", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return Run(s, opts)
}
