// Package testsummary reads the event stream of `go test -json` and says,
// while the tests run, which package finished how (pass or fail, how long,
// how many tests, how many skipped), and at the end which tests did not run
// and why, and which failed with their output. scripts/test.sh pipes every
// go test pass through it (scripts/testsummary.go is the program), because
// plain `go test` hides skip reasons unless -v is given and prints nothing
// until a package is done.
package testsummary

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Event is one line of `go test -json` (see `go doc cmd/test2json`).
type Event struct {
	Time        time.Time
	Action      string // start, run, pause, cont, pass, fail, skip, output, bench, build-output, build-fail
	Package     string
	ImportPath  string // build-output and build-fail events
	Test        string
	Elapsed     float64 // seconds, on pass, fail and skip
	Output      string
	FailedBuild string // on a package's fail: the package whose build failed
}

// Test is one test or subtest as it ended.
type Test struct {
	Name   string
	Action string   // pass, fail or skip; "" while running
	Output []string // what the test printed, without the framework's own lines
}

// Package is one package's run in one pass.
type Package struct {
	Path    string
	Action  string // pass, fail or skip ("" while running)
	Elapsed time.Duration
	Started bool
	Cached  bool // go test reused the result of an earlier run
	Tests   map[string]*Test
	order   []string
	Output  []string // package-level lines: panics, timeouts, "FAIL" lines
}

// Counts returns how many tests (subtests included) passed, failed and skipped.
func (p *Package) Counts() (pass, fail, skip int) {
	for _, t := range p.Tests {
		switch t.Action {
		case "pass":
			pass++
		case "fail":
			fail++
		case "skip":
			skip++
		}
	}
	return pass, fail, skip
}

// Pass collects the events of one go test invocation.
type Pass struct {
	Label    string
	Packages map[string]*Package
	order    []string
	build    map[string][]string // build output by import path
	Stray    []string            // lines of the stream that were not JSON events
	Start    time.Time
	// Strip is cut from the front of package paths when they are shown
	// (the module path, so that lines stay short).
	Strip string
}

// name is how package path is shown.
func (p *Pass) name(path string) string {
	if s := strings.TrimPrefix(path, p.Strip); s != "" {
		return s
	}
	return path
}

// NewPass returns an empty pass called label (e.g. "race", "alloc").
func NewPass(label string, start time.Time) *Pass {
	return &Pass{Label: label, Packages: map[string]*Package{}, build: map[string][]string{}, Start: start}
}

func (p *Pass) pkg(path string) *Package {
	k, ok := p.Packages[path]
	if !ok {
		k = &Package{Path: path, Tests: map[string]*Test{}}
		p.Packages[path] = k
		p.order = append(p.order, path)
	}
	return k
}

// Line feeds one line of the stream. It returns the package that this line
// finished, if any, so that the caller can print its progress line.
func (p *Pass) Line(line string) *Package {
	var e Event
	if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &e) != nil {
		if strings.TrimSpace(line) != "" {
			p.Stray = append(p.Stray, line)
		}
		return nil
	}
	return p.Event(e)
}

// Event feeds one decoded event; see Line.
func (p *Pass) Event(e Event) *Package {
	switch e.Action {
	case "build-output":
		p.build[e.ImportPath] = append(p.build[e.ImportPath], strings.TrimRight(e.Output, "\n"))
		return nil
	case "build-fail":
		return nil
	}
	if e.Package == "" {
		return nil
	}
	k := p.pkg(e.Package)
	if e.Test == "" {
		switch e.Action {
		case "start":
			k.Started = true
		case "output":
			k.Output = append(k.Output, strings.TrimRight(e.Output, "\n"))
			if strings.HasPrefix(e.Output, "ok ") && strings.Contains(e.Output, "(cached)") {
				k.Cached = true
			}
		case "pass", "fail", "skip":
			k.Action, k.Elapsed = e.Action, time.Duration(e.Elapsed*float64(time.Second))
			if e.FailedBuild != "" {
				k.Output = append(k.Output, p.build[e.FailedBuild]...)
			}
			return k
		}
		return nil
	}
	t, ok := k.Tests[e.Test]
	if !ok {
		t = &Test{Name: e.Test}
		k.Tests[e.Test] = t
		k.order = append(k.order, e.Test)
	}
	switch e.Action {
	case "output":
		if !frameworkLine(e.Output) {
			// go test indents what a test logs by four spaces.
			t.Output = append(t.Output, strings.TrimPrefix(strings.TrimRight(e.Output, "\n"), "    "))
		}
	case "pass", "fail", "skip":
		t.Action = e.Action
	}
	return nil
}

// frameworkLine reports whether a test's output line is go test's own
// bookkeeping ("=== RUN", "--- SKIP: ...") rather than what the test said.
func frameworkLine(s string) bool {
	t := strings.TrimLeft(s, " ")
	for _, p := range []string{"=== RUN", "=== PAUSE", "=== CONT", "=== NAME", "--- PASS", "--- FAIL", "--- SKIP", "--- BENCH"} {
		if strings.HasPrefix(t, p) {
			return true
		}
	}
	return false
}

// Progress is the line printed when package k finishes, at time now; "" for
// packages that ran no test and did not fail (no test files, or none
// matched -run), which would only be noise.
func (p *Pass) Progress(k *Package, now time.Time) string {
	pass, fail, skip := k.Counts()
	if k.Action != "fail" && pass+fail+skip == 0 {
		return ""
	}
	status := "ok  "
	if k.Action == "fail" {
		status = "FAIL"
	}
	counts := plural(pass+fail+skip, "test")
	if skip > 0 {
		counts += fmt.Sprintf(", %d skipped", skip)
	}
	if fail > 0 {
		counts += fmt.Sprintf(", %d failed", fail)
	}
	took := fmt.Sprintf("%7.1fs", k.Elapsed.Seconds())
	if k.Cached {
		took = "(cached)"
	}
	return fmt.Sprintf("[%s] %-5s %s %-32s %8s  %s", clock(now.Sub(p.Start)), p.Label, status, p.name(k.Path), took, counts)
}

// Running is the heartbeat line printed when nothing finished for a while:
// the packages whose tests have started and not ended yet.
func (p *Pass) Running(now time.Time) string {
	var names []string
	for _, path := range p.order {
		if k := p.Packages[path]; k.Started && k.Action == "" {
			names = append(names, p.name(path))
		}
	}
	what := "building or waiting for the first package"
	if len(names) > 0 {
		what = "still running " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("[%s] %-5s ... %s", clock(now.Sub(p.Start)), p.Label, what)
}

// Failed reports whether any package failed or the stream held no events
// at all while it had other lines (go test itself could not start).
func (p *Pass) Failed() bool {
	for _, k := range p.Packages {
		if k.Action == "fail" {
			return true
		}
	}
	return len(p.Packages) == 0 && len(p.Stray) > 0
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// clock formats d as minutes and seconds, e.g. " 3m07s".
func clock(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%2dm%02ds", s/60, s%60)
}

func sortedTests(k *Package) []*Test {
	ts := make([]*Test, 0, len(k.order))
	for _, n := range k.order {
		ts = append(ts, k.Tests[n])
	}
	return ts
}

func hasFailedChild(k *Package, name string) bool {
	return slices.ContainsFunc(k.order, func(n string) bool {
		return strings.HasPrefix(n, name+"/") && k.Tests[n].Action == "fail"
	})
}

// zeroTime starts passes read back from a log, whose progress lines are
// not printed again.
var zeroTime time.Time
