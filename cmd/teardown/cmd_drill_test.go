package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/drill"
)

func TestDrill_CorpusPassesUnderLinux(t *testing.T) {
	// The scripts drill/known.go lists are skipped by drill's tests; here
	// only the others run, each in its linux profile's reviewed copy
	// (drill/testdata/linux/) where it has one.
	all, err := filepath.Glob("../../drill/testdata/*.pkt")
	if err != nil || len(all) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	var files []string
	for _, f := range all {
		if cp := filepath.Join(filepath.Dir(f), "linux", filepath.Base(f)); fileExists(cp) {
			f = cp
		}
		if _, known := drill.LinuxProfileDiffers[filepath.Base(f)]; !known {
			files = append(files, f)
		}
	}
	code, out, errOut := runCLI(append([]string{"drill"}, files...)...)
	if code != 0 || !strings.Contains(out, " 0 failed, 0 unsupported") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// A failing script makes the exit status 1; --json reports each result
// with its line, and an unsupported one apart from the failures.
func TestDrill_JSONCountsFailuresAndUnsupportedApart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pkt")
	shell := filepath.Join(dir, "shell.pkt")
	os.WriteFile(bad, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0)\n"), 0o644)
	os.WriteFile(shell, []byte("`tc qdisc add dev tun0 root pfifo`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"), 0o644)
	code, out, errOut := runCLI("drill", "--json", bad, shell)
	if code != 1 || !strings.Contains(errOut, "1 of 2 scripts failed") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var sum drillSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if sum.Failed != 1 || sum.Unsupported != 1 || sum.Results[0].Line != 2 || sum.Results[1].Line != 1 {
		t.Fatalf("got %+v", sum)
	}
}

// --tolerance_usecs overrides the scripts' tolerance: a FIN expected 20 ms
// late fails at the default 4 ms and passes at 30 ms.
func TestDrill_ToleranceFlagWidensTiming(t *testing.T) {
	src, err := os.ReadFile("../../drill/testdata/shutdown_then_close.pkt")
	if err != nil {
		t.Fatal(err)
	}
	late := strings.Replace(string(src), "+0   > F. 301:301(0) ack 1", "+.02 > F. 301:301(0) ack 1", 1)
	if late == string(src) {
		t.Fatal("the script changed")
	}
	name := filepath.Join(t.TempDir(), "late.pkt")
	os.WriteFile(name, []byte(late), 0o644)
	if code, out, _ := runCLI("drill", name); code != 1 || !strings.Contains(out, "too early") {
		t.Fatalf("default tolerance: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI("drill", "--tolerance_usecs", "30000", name); code != 0 {
		t.Fatalf("30 ms tolerance: exit %d\n%s%s", code, out, errOut)
	}
}

// --profile chooses our stack's behaviour; with --kernel there is none.
func TestDrill_KernelRejectsProfile(t *testing.T) {
	code, _, errOut := runCLI("drill", "--kernel", "--profile", "linux", "../../drill/testdata/listen_backlog.pkt")
	if code == 0 || !strings.Contains(errOut, "--profile applies only without --kernel") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// As root, a script that holds on Linux passes against the kernel (with
// the kernel tests' slack: real time on a busy machine).
func TestDrill_KernelRunsAScript(t *testing.T) {
	if err := drill.KernelAvailable(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL DRILL TEST (needs root): %v", err)
	}
	code, out, errOut := runCLI("drill", "--kernel", "--tolerance_usecs", "40000", "../../drill/testdata/rst_before_accept.pkt")
	if code != 0 || !strings.Contains(out, "1 passed, 0 failed, 0 unsupported (Linux kernel)") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// --svg and --pcap draw one script's run and write its capture; with
// more than one script they are refused.
func TestDrill_SVGAndPcapOfOneScript(t *testing.T) {
	script := "../../drill/testdata/tcp_echo_one.pkt"
	capture := filepath.Join(t.TempDir(), "run.pcap")
	code, out, errOut := runCLI("drill", "--svg", "-", "--pcap", capture, script)
	if code != 0 || !strings.Contains(out, "<svg") || !strings.Contains(out, "RST|ACK") {
		t.Fatalf("exit %d, stderr %q, stdout %.200q", code, errOut, out)
	}
	if b, err := os.ReadFile(capture); err != nil || len(b) < 24+7*40 {
		t.Fatalf("capture: %d bytes, %v", len(b), err)
	}
	if code, _, errOut := runCLI("drill", "--svg", "x.svg", script, script); code != 2 || !strings.Contains(errOut, "one script") {
		t.Fatalf("two scripts: exit %d, %q", code, errOut)
	}
}

// --define gives the scripts symbols, as packetdrill's -D.
func TestDrill_DefineGivesSymbols(t *testing.T) {
	name := filepath.Join(t.TempDir(), "def.pkt")
	os.WriteFile(name, []byte("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = FD\n+0 close(FD) = 0\n"), 0o644)
	if code, out, errOut := runCLI("drill", "--define", "FD=3", name); code != 0 || !strings.Contains(out, "1 passed") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI("drill", name); code != 1 || !strings.Contains(out, `bad result "FD"`) {
		t.Fatalf("without --define: exit %d\n%s", code, out)
	}
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}
