package drill

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/profile"
)

// corpusScript is a script of testdata/ and the profile it describes:
// testdata/NAME.pkt the linux profile, testdata/PROFILE/NAME.pkt the
// reviewed copy of NAME.pkt for a profile that differs there on purpose.
// testdata/linux/NAME.pkt is such a copy for the linux profile itself:
// NAME.pkt then describes Linux alone (kernelOnly) and the copy our linux
// profile, which departs from Linux on purpose from a line the copy
// marks (ours: not run on the kernel).
type corpusScript struct {
	path, profile string
	kernelOnly    bool // the kernel runs it; our linux profile runs its copy
	ours          bool // a copy for linux: what our stack does, not Linux
}

func corpus(t *testing.T) []corpusScript {
	t.Helper()
	top, err := filepath.Glob("testdata/*.pkt")
	if err != nil || len(top) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	var out []corpusScript
	for _, f := range top {
		_, err := os.Stat(linuxCopy(f))
		out = append(out, corpusScript{path: f, profile: "linux", kernelOnly: err == nil})
	}
	copies, _ := filepath.Glob("testdata/*/*.pkt")
	for _, f := range copies {
		p := filepath.Base(filepath.Dir(f))
		if _, err := profile.ByName(p); err != nil {
			t.Fatalf("%s: the directory names no profile: %v", f, err)
		}
		if _, err := os.Stat(filepath.Join("testdata", filepath.Base(f))); err != nil {
			t.Fatalf("%s is a copy of no script of testdata/", f)
		}
		out = append(out, corpusScript{path: f, profile: p, ours: p == "linux"})
	}
	return out
}

// linuxCopy is where the linux profile's reviewed copy of a script of
// testdata/ would be.
func linuxCopy(base string) string {
	return filepath.Join("testdata", "linux", filepath.Base(base))
}

// The scripts of testdata/ describe how the linux profile ends
// connections, and the copies in testdata/PROFILE/ how that profile
// does; each must pass under its profile. A script with a copy in
// testdata/linux/ describes Linux only: the copy runs in its place, and
// TestCorpus_LinuxCopiesDifferWhereTheySay holds the script to failing
// where the copy says.
func TestCorpus_EachScriptPassesUnderItsProfile(t *testing.T) {
	for _, c := range corpus(t) {
		if c.kernelOnly {
			continue
		}
		t.Run(strings.TrimPrefix(c.path, "testdata/"), func(t *testing.T) {
			if why, ok := LinuxProfileDiffers[strings.TrimPrefix(c.path, "testdata/")]; ok {
				t.Skip("KNOWN DIVERGENCE OF THE LINUX PROFILE FROM LINUX: " + why)
			}
			p, _ := profile.ByName(c.profile)
			r := runFile(t, c.path, Options{Profile: p})
			if r.Status != Pass {
				t.Fatal(r)
			}
		})
	}
}

// The other profiles differ from linux where they say they do, and the
// scripts catch it at the line that shows it.
func TestCorpus_OtherProfilesFailWhereTheyDiffer(t *testing.T) {
	cases := []struct {
		profile, script string
		line            int
		says            string
	}{
		{"no-rst-on-close", "close_unread_rst.pkt", 16, "flags F., expected R."},
		{"discard-on-rst", "rst_before_accept.pkt", 16, "read returned -1 ECONNRESET"},
		{"vos-17.1", "rst_before_accept.pkt", 15, "accept(...) blocked"},
		{"vos-legacy", "shutdown_then_close.pkt", 10, "no packet sent"},
	}
	for _, c := range cases {
		p, err := profile.ByName(c.profile)
		if err != nil {
			t.Fatal(err)
		}
		r := runFile(t, filepath.Join("testdata", c.script), Options{Profile: p})
		if r.Status != Fail || r.Line != c.line || !strings.Contains(r.Message, c.says) {
			t.Errorf("%s under %s: want a failure at line %d saying %q, got:\n%v", c.script, c.profile, c.line, c.says, r)
		}
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
