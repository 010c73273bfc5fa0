package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/lab"
)

func TestListNamesEveryScenarioWithVariants(t *testing.T) {
	code, out, _ := runCLI("list")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, s := range lab.Scenarios() {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, s.ID+" ") {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, strings.Join(s.VariantNames(), ",")) {
			t.Errorf("list has no line for %s with its variants: %q", s.ID, line)
		}
		if !s.Runnable() && !strings.Contains(line, "not runnable yet") {
			t.Errorf("list does not mark %s as not runnable", s.ID)
		}
	}
	if strings.Contains(out, "not runnable") {
		t.Errorf("list marks scenarios as not runnable:\n%s", out)
	}
	if _, again, _ := runCLI("list"); again != out {
		t.Errorf("list output is not stable")
	}
}

func TestRunPrintsDiagramVerdictAndWhy(t *testing.T) {
	code, out, errOut := runCLI("run", "tcp-echo-one", "--width", "90")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"tcp-echo-one", "RST|ACK", `recv(64) → data "h"`, "reset", "Verdict", "Why", "RFC 2525 §2.17"} {
		if !strings.Contains(out, want) {
			t.Errorf("run output lacks %q", want)
		}
	}
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > 90 {
			t.Errorf("line longer than --width 90: %q", l)
		}
	}
}

func TestRunWritesJSONPcapAndSVG(t *testing.T) {
	dir := t.TempDir()
	pcapPath, svgPath := filepath.Join(dir, "x.pcap"), filepath.Join(dir, "x.svg")
	code, out, errOut := runCLI("run", "tcp-echo-one", "--variant", "linger", "--json", "--pcap", pcapPath, "--svg", svgPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep struct {
		Scenario, Variant, Profile string
		Wire                       []struct{ Kind string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json output is not one JSON object: %v", err)
	}
	if rep.Scenario != "tcp-echo-one" || rep.Variant != "linger" || rep.Profile != "linux" || len(rep.Wire) == 0 {
		t.Errorf("JSON names %+v", rep)
	}
	for _, w := range rep.Wire {
		if strings.Contains(w.Kind, "RST") {
			t.Errorf("linger variant: %s on the wire", w.Kind)
		}
	}
	p, _ := os.ReadFile(pcapPath)
	s, _ := os.ReadFile(svgPath)
	if len(p) < 24 || string(p[:4]) != "\x4d\x3c\xb2\xa1" && string(p[:4]) != "\xa1\xb2\x3c\x4d" {
		t.Errorf("--pcap did not write a nanosecond pcap (%d bytes)", len(p))
	}
	if !strings.Contains(string(s), "<svg") {
		t.Errorf("--svg did not write an SVG")
	}
	// The analyzer reads our own capture back: the server closed first.
	code, aout, aerr := runCLI("analyze", pcapPath)
	if code != 0 || !strings.Contains(aout, "1 connections") && !strings.Contains(aout, "1 connection") {
		t.Errorf("analyze of our pcap: exit %d, %q %q", code, aout, aerr)
	}
	if aerr != "" {
		t.Errorf("analyze wrote to a stderr that is not a terminal (progress goes only to terminals): %q", aerr)
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run"}, "tcp-echo-one"},
		{[]string{"run", "nosuch"}, "tcp-primes"},
		{[]string{"run", "tcp-echo-one", "--variant", "x"}, "naive, shutdown, linger"},
		{[]string{"run", "tcp-echo-one", "--profile", "x"}, "discard-on-rst"},
		{[]string{"analyze"}, "one capture file"},
	} {
		code, _, errOut := runCLI(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 naming %q", c.args, code, errOut, c.want)
		}
	}
	for _, s := range lab.Scenarios() {
		if !s.Runnable() {
			code, _, errOut := runCLI("run", s.ID)
			if code != 2 || !strings.Contains(errOut, "not runnable yet") || !strings.Contains(errOut, s.Needs) {
				t.Errorf("run %s: exit %d, %q; want 2 and what it needs", s.ID, code, errOut)
			}
			break
		}
	}
}

func TestRunAllSummarisesEveryVariantQuietly(t *testing.T) {
	code, out, errOut := runCLI("run", "all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("run all printed progress to a non-terminal stderr: %q", errOut)
	}
	n := 0
	for _, s := range lab.Scenarios() {
		n += len(s.Variants)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n+1 || !strings.HasPrefix(lines[0], "SCENARIO") {
		t.Fatalf("%d lines for %d variants:\n%s", len(lines), n, out)
	}
	for _, s := range lab.Scenarios() {
		if !strings.Contains(out, s.ID+" ") {
			t.Errorf("run all does not list %s", s.ID)
		}
	}
	if strings.Contains(out, "not runnable") {
		t.Errorf("run all reports scenarios that cannot run:\n%s", out)
	}
	if !strings.Contains(out, "tcp-echo-one  ") || !strings.Contains(out, "4 bytes") {
		t.Errorf("summary lacks tcp-echo-one naive's 4 lost bytes:\n%s", out)
	}
}

func TestServeAndDialOverSimAndBadFlags(t *testing.T) {
	code, out, errOut := runCLI("serve", "echo-one", "--link", "sim", "--variant", "shutdown")
	if code != 0 || !strings.Contains(out, `recv(64) → data "h"`) || !strings.Contains(out, "recv(64) → eof") {
		t.Errorf("serve echo-one --link sim --variant shutdown: exit %d, want the client's \"h\" then EOF:\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI("dial", "primes", "--link", "sim")
	if code != 0 || !strings.Contains(out, `data "ERROR\n"`) {
		t.Errorf("dial primes --link sim: exit %d, want B's ERROR in the transcript:\n%s", code, out)
	}
	code, _, errOut = runCLI("serve", "echo", "--offload")
	if code != 2 || !strings.Contains(errOut, "--link tun") {
		t.Errorf("--offload without --link tun: exit %d, %q; want a usage error", code, errOut)
	}
	code, _, errOut = runCLI("serve", "echo", "--link", "udp")
	if code != 2 || !strings.Contains(errOut, "--proto dccp") {
		t.Errorf("--link udp without --proto dccp: exit %d, %q; want a usage error", code, errOut)
	}
	code, out, errOut = runCLI("serve", "echo-one", "--proto", "dccp", "--service", "42")
	if code != 0 || !strings.Contains(out, "Request") || !strings.Contains(out, `recv(1)    → data "h"`) ||
		!strings.Contains(out, `recv(64)       → data "h"`) {
		t.Errorf("serve echo-one --proto dccp: exit %d, want a DCCP handshake and \"h\" both ways:\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCLI("dial", "echo", "--proto", "dccp", "--variant", "shutdown")
	if code != 2 || !strings.Contains(errOut, "naive, linger") {
		t.Errorf("dccp --variant shutdown: exit %d, %q; want a usage error naming naive, linger", code, errOut)
	}
	code, _, errOut = runCLI("dial", "nosuch")
	if code != 2 || !strings.Contains(errOut, "echo-one") {
		t.Errorf("unknown app: exit %d, %q; want 2 naming the apps", code, errOut)
	}
}
