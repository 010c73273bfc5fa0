package main

import (
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/internal/trace"
)

// diagramWidth is the text diagram's width when --width is not given: the
// terminal's, when stdout is one (COLUMNS if the shell exports it, else
// what the terminal says its width is), and otherwise trace.DefaultWidth
// (80), so that a redirected or piped run prints the same bytes wherever
// it runs. The result is kept within --width's bounds.
func diagramWidth(stdout io.Writer, getenv func(string) string) int {
	f, ok := stdout.(*os.File)
	if !ok {
		return trace.DefaultWidth
	}
	cols, isTerm := terminalColumns(f)
	if !isTerm {
		return trace.DefaultWidth
	}
	if n, err := strconv.Atoi(strings.TrimSpace(getenv("COLUMNS"))); err == nil && n > 0 {
		cols = n
	}
	if cols <= 0 {
		return trace.DefaultWidth
	}
	return min(max(cols, trace.MinWidth), maxWidth)
}
