package main

import (
	"bytes"
	"os"
	"testing"

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
