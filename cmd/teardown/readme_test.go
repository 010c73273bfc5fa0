package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var updateREADME = flag.Bool("update", false, "rewrite README.md's sample outputs from the current output")

// block is one fenced code block of README.md.
type block struct {
	lang       string   // the fence's info string: go, sh, or empty
	lines      []string // the lines between the fences
	start, end int      // line indexes of the opening and closing fences
	before     string   // the paragraph just above the block
}

// TestREADME keeps every code block of README.md true: a Go block is a
// verbatim excerpt of a file that go test compiles and runs, a sample
// output is what the command it names prints today, and every command of
// a shell block is one the CLI accepts (run for real when it is cheap).
func TestREADME(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(root, "README.md")
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(text), "\n")
	blocks := fencedBlocks(t, lines)
	if len(blocks) == 0 {
		t.Fatal("README.md has no code block; the parser is broken")
	}
	rewritten := false
blocks:
	for _, b := range blocks {
		switch b.lang {
		case "go":
			checkGoExcerpt(t, root, b)
		case "sh":
			for _, l := range b.lines {
				checkShellLine(t, root, l)
			}
		case "":
			if got, ok := checkSampleOutput(t, b); !ok && *updateREADME {
				lines = slices.Concat(lines[:b.start+1], got, lines[b.end:])
				rewritten = true
				break blocks // the other blocks' line numbers are stale: run again
			}
		default:
			t.Errorf("README.md line %d: a %q block, which this test cannot check", b.start+1, b.lang)
		}
	}
	if rewritten {
		if err := os.WriteFile(readme, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Log("README.md rewritten; run the test again")
	}
}

// fencedBlocks returns README's ``` blocks with the paragraph above each.
func fencedBlocks(t *testing.T, lines []string) []block {
	var bs []block
	for i := 0; i < len(lines); i++ {
		info, ok := strings.CutPrefix(lines[i], "```")
		if !ok {
			continue
		}
		b := block{lang: strings.TrimSpace(info), start: i}
		p := i - 1
		for p >= 0 && strings.TrimSpace(lines[p]) == "" {
			p--
		}
		var para []string
		for ; p >= 0 && strings.TrimSpace(lines[p]) != "" && !strings.HasPrefix(lines[p], "```"); p-- {
			para = append([]string{lines[p]}, para...)
		}
		b.before = strings.Join(para, " ")
		for i++; i < len(lines) && lines[i] != "```"; i++ {
			b.lines = append(b.lines, lines[i])
		}
		if i == len(lines) {
			t.Fatalf("README.md line %d: a code block that is never closed", b.start+1)
		}
		b.end = i
		bs = append(bs, b)
	}
	return bs
}

var goFile = regexp.MustCompile("`([\\w./-]+\\.go)`")

// checkGoExcerpt wants the paragraph above a Go block to name the file the
// block comes from, and the block to be that file's lines between
// "// README:begin" and "// README:end".
func checkGoExcerpt(t *testing.T, root string, b block) {
	m := goFile.FindAllStringSubmatch(b.before, -1)
	if m == nil {
		t.Errorf("README.md line %d: the paragraph above the Go block names no `file.go` it comes from", b.start+1)
		return
	}
	name := m[len(m)-1][1]
	src, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Errorf("README.md line %d: %v", b.start+1, err)
		return
	}
	_, rest, ok1 := strings.Cut(string(src), "// README:begin\n")
	region, _, ok2 := strings.Cut(rest, "// README:end\n")
	if !ok1 || !ok2 {
		t.Errorf("%s has no region between // README:begin and // README:end", name)
		return
	}
	want := strings.TrimRight(region, "\n")
	if got := strings.Join(b.lines, "\n"); got != want {
		t.Errorf("README.md line %d: the Go block differs from the README region of %s; copy it from there:\n%s",
			b.start+1, name, lineDiff(got, want))
	}
}

var sampleCommand = regexp.MustCompile("This is `teardown ([^`]+)`")

// checkSampleOutput wants the paragraph above an untyped block to say
// "This is `teardown ARGS`" and the block to be what that prints. It
// returns the current output's lines and whether they match.
func checkSampleOutput(t *testing.T, b block) ([]string, bool) {
	m := sampleCommand.FindStringSubmatch(b.before)
	if m == nil {
		t.Errorf("README.md line %d: the paragraph above the block does not say which command printed it (This is `teardown ...`)", b.start+1)
		return nil, true
	}
	code, out, errOut := runCLI(strings.Fields(m[1])...)
	if code != 0 {
		t.Errorf("README.md line %d: teardown %s: exit %d: %s", b.start+1, m[1], code, errOut)
		return nil, true
	}
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if slices.Equal(got, b.lines) {
		return got, true
	}
	if !*updateREADME {
		t.Errorf("README.md line %d: the sample of `teardown %s` is stale (go test ./cmd/teardown -run TestREADME -update rewrites it):\n%s",
			b.start+1, m[1], lineDiff(strings.Join(b.lines, "\n"), strings.Join(got, "\n")))
	}
	return got, false
}

// outside are the commands of the kernel's side of a shell block.
var outside = map[string]bool{"printf": true, "nc": true}

// checkShellLine checks one line of a shell block: each command of the
// pipeline is a script of the repository, a teardown invocation the CLI
// accepts, or one of the outside tools.
func checkShellLine(t *testing.T, root, line string) {
	if i := strings.Index(line, "#"); i >= 0 {
		line = line[:i]
	}
	for cmd := range strings.SplitSeq(line, "|") {
		f := strings.Fields(cmd)
		if len(f) > 0 && f[0] == "sudo" {
			f = f[1:]
		}
		switch {
		case len(f) == 0:
		case len(f) >= 3 && f[0] == "go" && f[1] == "run" && f[2] == "./cmd/teardown":
			checkInvocation(t, f[3:])
		case f[0] == "teardown":
			checkInvocation(t, f[1:])
		case strings.Contains(f[0], "/"):
			st, err := os.Stat(filepath.Join(root, f[0]))
			if err != nil || st.Mode()&0o111 == 0 {
				t.Errorf("README runs %s, which is not an executable file of the repository", f[0])
			}
		case !outside[f[0]]:
			t.Errorf("README runs %q, which this test does not know", strings.TrimSpace(cmd))
		}
	}
}

// checkInvocation runs teardown with args the way the README does. The
// cheap commands run for real, in a scratch directory for the files they
// write; bench runs with a stand-in for the suite's binary; serve and dial
// only parse their flags (--help after them), for they wait for a peer, and
// so does web, which serves until interrupted.
func checkInvocation(t *testing.T, args []string) {
	t.Run(strings.Join(args, "_"), func(t *testing.T) {
		if len(args) == 0 {
			t.Fatal("teardown without a command")
		}
		switch args[0] {
		case "serve", "dial", "web":
			args = append(args, "--help")
		case "bench":
			stub, err := exec.LookPath("true")
			if err != nil {
				t.Skip("no true(1) to stand in for teardown-bench")
			}
			t.Setenv("TEARDOWN_BENCH", stub)
		}
		t.Chdir(t.TempDir())
		code, out, errOut := runCLI(args...)
		if code != 0 {
			t.Fatalf("teardown %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	})
}

// lineDiff shows the first line where got and want differ, with context.
func lineDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	at := func(ls []string) string {
		if i < len(ls) {
			return ls[i]
		}
		return "(end)"
	}
	return fmt.Sprintf("line %d of the block:\n  README: %s\n  want:   %s", i+1, at(g), at(w))
}
