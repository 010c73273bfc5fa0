package main

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
)

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// oneLine undoes the wrapping of help text.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestNoArgumentsListsCommandsAndFails(t *testing.T) {
	code, out, errOut := runCLI()
	if code != 2 {
		t.Fatalf("exit %d, want 2: a bare 'teardown' is a usage error", code)
	}
	if out != "" || !strings.Contains(errOut, "help") || !strings.Contains(errOut, "version") {
		t.Fatalf("the command list goes to stderr and names every command; stdout=%q stderr=%q", out, errOut)
	}
}

func TestHelpListsEveryRegisteredCommand(t *testing.T) {
	code, out, _ := runCLI("help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for name, c := range commands {
		if !strings.Contains(out, name) || !strings.Contains(oneLine(out), c.short) {
			t.Errorf("help does not list %q with its summary %q", name, c.short)
		}
	}
}

func TestHelpForEachCommandShowsItsUsage(t *testing.T) {
	for name, c := range commands {
		code, out, errOut := runCLI("help", name)
		if code != 0 {
			t.Errorf("help %s: exit %d, stderr %q", name, code, errOut)
			continue
		}
		if !strings.Contains(oneLine(out), "usage: teardown "+c.usage) {
			t.Errorf("help %s does not print its usage line; got %q", name, out)
		}
	}
}

func TestHelpUnknownCommand(t *testing.T) {
	code, _, errOut := runCLI("help", "nosuch")
	if code != 2 || !strings.Contains(errOut, `unknown command "nosuch"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestUnknownCommandFails(t *testing.T) {
	code, _, errOut := runCLI("frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestVersionNamesGoToolchain(t *testing.T) {
	code, out, _ := runCLI("version")
	if code != 0 || !strings.HasPrefix(out, "teardown ") || !strings.Contains(out, runtime.Version()) {
		t.Fatalf("exit %d, out %q", code, out)
	}
	if code, _, _ := runCLI("version", "extra"); code != 2 {
		t.Fatalf("version with an argument: exit %d, want 2", code)
	}
}
