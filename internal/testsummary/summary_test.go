package testsummary

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const modA, modB, modC = "example.com/m/a", "example.com/m/b", "example.com/m/c"

// stream turns events into the lines go test -json prints.
func stream(t *testing.T, evs ...Event) []string {
	t.Helper()
	var lines []string
	for _, e := range evs {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(b))
	}
	return lines
}

func out(pkg, test, s string) Event {
	return Event{Action: "output", Package: pkg, Test: test, Output: s + "\n"}
}
func end(pkg, test, action string, secs float64) Event {
	return Event{Action: action, Package: pkg, Test: test, Elapsed: secs}
}

// A race pass: a passes one test, skips one (saying why) and fails a
// subtest; b does not build; c has no test files.
func racePass(t *testing.T) []string {
	return stream(t,
		Event{Action: "start", Package: modA},
		out(modA, "TestOK", "=== RUN   TestOK"), end(modA, "TestOK", "pass", 0.1),
		out(modA, "TestTUN", "=== RUN   TestTUN"),
		out(modA, "TestTUN", "    tun_test.go:24: SKIPPING TUN TEST: need root"),
		out(modA, "TestTUN", "--- SKIP: TestTUN (0.00s)"), end(modA, "TestTUN", "skip", 0),
		out(modA, "TestAlloc", "    alloc_test.go:67: skips under -race"), end(modA, "TestAlloc", "skip", 0),
		out(modA, "TestParent", "=== RUN   TestParent"),
		out(modA, "TestParent/seed=7", "    x_test.go:9: got 3 RSTs, want 2"),
		out(modA, "TestParent/seed=7", "--- FAIL: TestParent/seed=7 (0.00s)"),
		end(modA, "TestParent/seed=7", "fail", 0), end(modA, "TestParent", "fail", 0),
		end(modA, "", "fail", 2.5),
		Event{Action: "build-output", ImportPath: modB + " [" + modB + ".test]", Output: "b.go:3:1: syntax error\n"},
		Event{Action: "build-fail", ImportPath: modB + " [" + modB + ".test]"},
		Event{Action: "fail", Package: modB, FailedBuild: modB + " [" + modB + ".test]"},
		out(modC, "", "?   \texample.com/m/c\t[no test files]"), end(modC, "", "skip", 0),
	)
}

func TestPass_ProgressLinePerPackageThatRanTests(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewPass("race", start)
	var got []string
	for _, l := range racePass(t) {
		if k := p.Line(l); k != nil {
			if s := p.Progress(k, start.Add(75*time.Second)); s != "" {
				got = append(got, s)
			}
		}
	}
	if len(got) != 2 {
		t.Fatalf("want a line for a and for b (c has no tests), got %q", got)
	}
	for _, want := range []string{"[ 1m15s]", "race", "FAIL", modA, "2.5s", "5 tests, 2 skipped, 2 failed"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("a's line %q lacks %q", got[0], want)
		}
	}
	if !strings.Contains(got[1], "FAIL") || !strings.Contains(got[1], modB) {
		t.Errorf("b's line %q does not say it failed", got[1])
	}
	if !p.Failed() {
		t.Error("a pass with failed packages is not Failed")
	}
}

func TestPass_RunningNamesStartedUnfinishedPackages(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := NewPass("race", start)
	if s := p.Running(start); !strings.Contains(s, "building") {
		t.Errorf("before any package starts: %q, want it to say it is building", s)
	}
	for _, l := range stream(t, Event{Action: "start", Package: modA}, Event{Action: "start", Package: modC},
		end(modC, "", "pass", 1)) {
		p.Line(l)
	}
	s := p.Running(start.Add(3 * time.Minute))
	if !strings.Contains(s, modA) || strings.Contains(s, modC) || !strings.Contains(s, "3m00s") {
		t.Errorf("heartbeat %q: want a (running) named, c (done) not, and the time", s)
	}
}

func TestReport_SkipsWithReasonsAndFailuresWithOutput(t *testing.T) {
	race := NewPass("race", time.Time{})
	for _, l := range racePass(t) {
		race.Line(l)
	}
	// The pass without -race runs the allocation test that race skipped.
	alloc := NewPass("alloc", time.Time{})
	for _, l := range stream(t, end(modA, "TestAlloc", "pass", 0), end(modA, "", "pass", 0.2)) {
		alloc.Line(l)
	}
	var b strings.Builder
	if !Report(&b, []*Pass{race, alloc}) {
		t.Error("Report says nothing failed")
	}
	rep := b.String()
	for _, want := range []string{
		"SKIPPED: 1 test did not run",
		"TestTUN\n        tun_test.go:24: SKIPPING TUN TEST: need root\n",
		"(1 test skipped in one pass ran in another",
		"--- FAIL race  " + modA + " TestParent/seed=7\n    x_test.go:9: got 3 RSTs, want 2\n",
		modB + " (the package, no failing test)\n    b.go:3:1: syntax error\n",
		"race  2 packages with tests: 1 passed, 2 skipped, 2 failed",
		"\nFAIL\n",
	} {
		if !strings.Contains(rep, want) {
			t.Errorf("report lacks %q:\n%s", want, rep)
		}
	}
	for _, not := range []string{"=== RUN", "--- SKIP", "TestParent\n", "alloc_test.go:67"} {
		if strings.Contains(rep, not) {
			t.Errorf("report shows %q (framework line, a parent failing only through its subtest, or a skip covered by another pass):\n%s", not, rep)
		}
	}
}

func TestReport_CleanRunSaysPass(t *testing.T) {
	p := NewPass("bench", time.Time{})
	for _, l := range stream(t, end(modA, "TestOK", "pass", 0), end(modA, "", "pass", 0.1)) {
		p.Line(l)
	}
	var b strings.Builder
	if Report(&b, []*Pass{p}) || !strings.Contains(b.String(), "PASS, nothing skipped") {
		t.Errorf("clean pass reported as:\n%s", b.String())
	}
}

// When go test cannot start (a bad flag, no module), its message is all
// there is: the pass fails and the report shows the message.
func TestReport_NoEventsButMessagesIsAFailure(t *testing.T) {
	p, err := ReadPass("race", "", strings.NewReader("flag provided but not defined: -bogus\n"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if !Report(&b, []*Pass{p}) || !strings.Contains(b.String(), "-bogus") {
		t.Errorf("report of a go test that did not start:\n%s", b.String())
	}
}

func TestPass_StripShortensPackagePaths(t *testing.T) {
	p := NewPass("race", time.Time{})
	p.Strip = "example.com/m/"
	var line string
	for _, l := range stream(t, end(modA, "TestOK", "pass", 0), end(modA, "", "pass", 0.1)) {
		if k := p.Line(l); k != nil {
			line = p.Progress(k, time.Time{})
		}
	}
	if !strings.Contains(line, " a ") || strings.Contains(line, "example.com") || !strings.HasSuffix(line, "  1 test") {
		t.Errorf("progress line %q: want the path without the module and \"1 test\"", line)
	}
}

// A result go test took from its cache says so instead of a duration.
func TestPass_CachedResultSaysCached(t *testing.T) {
	p := NewPass("race", time.Time{})
	var line string
	for _, l := range stream(t, end(modA, "TestOK", "pass", 0), out(modA, "", "ok  \texample.com/m/a\t(cached)"),
		end(modA, "", "pass", 0)) {
		if k := p.Line(l); k != nil {
			line = p.Progress(k, time.Time{})
		}
	}
	if !strings.Contains(line, "(cached)") || strings.Contains(line, "0.0s") {
		t.Errorf("progress line %q: want (cached) instead of a duration", line)
	}
}
