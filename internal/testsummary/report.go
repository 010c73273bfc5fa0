package testsummary

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// maxLines bounds the output shown for one failure: a timeout's goroutine
// dump runs to thousands of lines, and its head says what hung.
const maxLines = 150

// ReadPass reads a whole saved stream (the log written while the pass ran).
func ReadPass(label, strip string, r io.Reader) (*Pass, error) {
	p := NewPass(label, zeroTime)
	p.Strip = strip
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		p.Line(sc.Text())
	}
	return p, sc.Err()
}

// Report writes the final summary of the passes: one line of counts per
// pass, every skipped test with its reason, and every failure with its
// output. It reports whether anything failed.
//
// A test skipped in one pass but passed in another pass of the same package
// is not listed (the allocation tests skip under -race and run in the pass
// without it); the summary says how many there were.
func Report(w io.Writer, passes []*Pass) (failed bool) {
	fmt.Fprintln(w, "\n=== test summary")
	ran := map[string]bool{} // package + "\x00" + test that passed in some pass
	for _, p := range passes {
		for _, k := range p.Packages {
			for _, t := range k.Tests {
				if t.Action == "pass" {
					ran[k.Path+"\x00"+t.Name] = true
				}
			}
		}
	}
	var skips, fails []string
	covered := 0
	for _, p := range passes {
		var pass, fail, skip, pkgs int
		for _, path := range p.order {
			k := p.Packages[path]
			a, b, c := k.Counts()
			pass, fail, skip = pass+a, fail+b, skip+c
			if a+b+c > 0 || k.Action == "fail" {
				pkgs++
			}
			for _, t := range sortedTests(k) {
				switch {
				case t.Action == "skip" && ran[k.Path+"\x00"+t.Name]:
					covered++
				case t.Action == "skip":
					skips = append(skips, fmt.Sprintf("  %-5s %s %s\n%s", p.Label, p.name(k.Path), t.Name,
						indent(reason(t.Output), "        ")))
				case t.Action == "fail" && !(len(t.Output) == 0 && hasFailedChild(k, t.Name)):
					fails = append(fails, fmt.Sprintf("--- FAIL %-5s %s %s\n%s", p.Label, p.name(k.Path), t.Name,
						indent(capped(t.Output), "    ")))
				}
			}
			if k.Action == "fail" && b == 0 {
				// Nothing to blame a test for: a build failure, a panic outside
				// any test, a timeout, a race report after the tests.
				fails = append(fails, fmt.Sprintf("--- FAIL %-5s %s (the package, no failing test)\n%s",
					p.Label, p.name(k.Path), indent(capped(k.Output), "    ")))
			}
		}
		if len(p.Packages) == 0 && len(p.Stray) > 0 {
			fails = append(fails, fmt.Sprintf("--- FAIL %-5s go test did not run\n%s", p.Label,
				indent(capped(p.Stray), "    ")))
		}
		fmt.Fprintf(w, "%-5s %s with tests: %d passed, %d skipped, %d failed\n", p.Label, plural(pkgs, "package"), pass, skip, fail)
		failed = failed || p.Failed()
	}
	if covered > 0 {
		fmt.Fprintf(w, "(%s skipped in one pass ran in another, e.g. the allocation tests under -race)\n", plural(covered, "test"))
	}
	if len(skips) > 0 {
		fmt.Fprintf(w, "\nSKIPPED: %s did not run:\n", plural(len(skips), "test"))
		fmt.Fprint(w, strings.Join(skips, ""))
	}
	if len(fails) > 0 {
		fmt.Fprintf(w, "\nFAILED (%d):\n", len(fails))
		fmt.Fprint(w, strings.Join(fails, ""))
	}
	switch {
	case failed:
		fmt.Fprintln(w, "\nFAIL")
	case len(skips) > 0:
		fmt.Fprintf(w, "\nPASS, with %s skipped (see above)\n", plural(len(skips), "test"))
	default:
		fmt.Fprintln(w, "\nPASS, nothing skipped")
	}
	return failed
}

// reason is a skipped test's output: its t.Skip message, with the
// file:line go test put before it.
func reason(out []string) []string {
	var r []string
	for _, l := range out {
		if l = strings.TrimSpace(l); l != "" {
			r = append(r, l)
		}
	}
	if len(r) == 0 {
		return []string{"(no reason given)"}
	}
	return r
}

func capped(lines []string) []string {
	if len(lines) <= maxLines {
		return lines
	}
	return append(lines[:maxLines:maxLines], fmt.Sprintf("... (%d more lines)", len(lines)-maxLines))
}

func indent(lines []string, prefix string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(prefix + l + "\n")
	}
	return b.String()
}
