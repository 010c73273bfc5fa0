package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teardown-lab/teardown/internal/trace"
)

func fakeEnv(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// Output that is not a terminal gets the default width, whatever COLUMNS
// says, so that redirected runs print the same bytes everywhere.
func TestDiagramWidth_NotATerminal(t *testing.T) {
	if got := diagramWidth(&bytes.Buffer{}, fakeEnv(map[string]string{"COLUMNS": "132"})); got != trace.DefaultWidth {
		t.Errorf("a buffer: width %d, want %d", got, trace.DefaultWidth)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if got := diagramWidth(w, fakeEnv(map[string]string{"COLUMNS": "132"})); got != trace.DefaultWidth {
		t.Errorf("a pipe: width %d, want %d", got, trace.DefaultWidth)
	}
}

// On a terminal the width is the terminal's, or COLUMNS when the shell
// exports it, kept within --width's bounds.
func TestDiagramWidth_Terminal(t *testing.T) {
	tty := openPTY(t, 132)
	for _, c := range []struct {
		columns string
		want    int
	}{
		{"", 132},
		{"101", 101},
		{"junk", 132},
		{"20", trace.MinWidth},
		{"5000", maxWidth},
	} {
		if got := diagramWidth(tty, fakeEnv(map[string]string{"COLUMNS": c.columns})); got != c.want {
			t.Errorf("a 132-column terminal, COLUMNS=%q: width %d, want %d", c.columns, got, c.want)
		}
	}
}

// teardown run writing to anything but a terminal prints the lab's golden
// text, at the default width, whatever COLUMNS says; --width overrides.
func TestRun_WidthWhenNotATerminal(t *testing.T) {
	t.Setenv("COLUMNS", "132")
	want, err := os.ReadFile(filepath.Join("..", "..", "lab", "testdata", "golden", "tcp-echo-one", "naive.txt"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI("run", "tcp-echo-one")
	if code != 0 || out != string(want) {
		t.Errorf("run tcp-echo-one: exit %d, %s; the output differs from the lab's golden:\n%s", code, errOut, out)
	}
	_, out, _ = runCLI("run", "tcp-echo-one", "--width", "120")
	widest := 0
	for l := range strings.SplitSeq(out, "\n") {
		widest = max(widest, utf8.RuneCountInString(l))
	}
	if widest != 120 {
		t.Errorf("run tcp-echo-one --width 120: the widest line has %d runes", widest)
	}
}
