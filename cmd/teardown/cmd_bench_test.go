package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// From inside the work tree, bench finds the bench module at the root.
func TestFindBenchDirFromSubdirectory(t *testing.T) {
	root := t.TempDir()
	sub := filepath.Join(root, "stack", "deep")
	os.MkdirAll(sub, 0o755)
	os.MkdirAll(filepath.Join(root, "bench"), 0o755)
	os.WriteFile(filepath.Join(root, "bench", "go.mod"), []byte("module x\n"), 0o644)
	t.Chdir(sub)
	got, err := findBenchDir()
	if err != nil || got != filepath.Join(root, "bench") {
		t.Errorf("findBenchDir() = %q, %v; want %q", got, err, filepath.Join(root, "bench"))
	}
}

// Outside any work tree and with no binary, the error says what to do.
func TestBenchExplainsMissingModule(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("TEARDOWN_BENCH", "")
	t.Setenv("PATH", t.TempDir())
	_, err := benchCommand(nil)
	if err == nil || !strings.Contains(err.Error(), "bench/go.mod") || !strings.Contains(err.Error(), "teardown-bench") {
		t.Errorf("benchCommand error %v, want an explanation naming bench/go.mod and teardown-bench", err)
	}
}

// The flags reach the suite's binary; --vm without --dccp is refused
// before anything runs.
func TestBenchPassesItsFlagsOn(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "fake-bench")
	os.WriteFile(script, []byte("#!/bin/sh\necho \"args: $*\"\n"), 0o755)
	t.Setenv("TEARDOWN_BENCH", script)
	code, out, errOut := runCLI("bench", "--quick", "--dccp")
	if code != 0 || strings.TrimSpace(out) != "args: --quick --dccp" {
		t.Fatalf("bench --quick --dccp: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCLI("bench", "--dccp", "--json", "--vm")
	if code != 0 || strings.TrimSpace(out) != "args: --json --dccp --vm" {
		t.Fatalf("bench --dccp --json --vm: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, out, errOut = runCLI("bench", "--vm")
	if code == 0 || out != "" || !strings.Contains(errOut, "--dccp") {
		t.Fatalf("bench --vm: exit %d, stdout %q, stderr %q; want a usage error", code, out, errOut)
	}
}
