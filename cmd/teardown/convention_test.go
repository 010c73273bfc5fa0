package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/lab"
)

// The CLI's conventions, checked over every command: usage errors exit 2
// with one "teardown: " prefix and a hint where the help is; -h, -help,
// --help and 'help CMD' print one text to stdout; help fits 80 columns;
// values out of range and flags that do not apply are refused.

func commandNames() []string {
	var names []string
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// wantUsageError checks that args fail as a usage error of command cmd
// whose message contains every string of want.
func wantUsageError(t *testing.T, cmd string, args []string, want ...string) {
	t.Helper()
	code, out, errOut := runCLI(args...)
	if code != 2 || out != "" {
		t.Errorf("%q: exit %d, stdout %q; want exit 2 and nothing on stdout", args, code, out)
	}
	hint := "\nrun 'teardown help " + cmd + "' for usage\n"
	if cmd == "help" {
		hint = "\nrun 'teardown help' for the list of commands\n"
	}
	if !strings.HasPrefix(errOut, "teardown: ") || !strings.HasSuffix(errOut, hint) {
		t.Errorf("%q: stderr %q; want \"teardown: MESSAGE\" then %q", args, errOut, hint)
	}
	for _, w := range want {
		if !strings.Contains(errOut, w) {
			t.Errorf("%q: stderr %q does not say %q", args, errOut, w)
		}
	}
	wantPlainWords(t, args, errOut)
}

// wantPlainWords checks that an error message shows no Go internals and
// no doubled prefix.
func wantPlainWords(t *testing.T, args []string, msg string) {
	t.Helper()
	for _, bad := range []string{"teardown: teardown", "netip.", "strconv.", "Parse", "parse error", "flag provided", "-help\n"} {
		if strings.Contains(msg, bad) {
			t.Errorf("%q: message %q shows %q", args, msg, bad)
		}
	}
}

func TestEveryCommand_UnknownFlagIsAUsageError(t *testing.T) {
	for _, name := range commandNames() {
		wantUsageError(t, name, []string{name, "--no-such-flag"}, "unknown flag --no-such-flag")
		wantUsageError(t, name, []string{name, "-x"}, "unknown flag --x")
	}
}

func TestEveryCommand_HelpFlagsAndHelpCommandPrintOneText(t *testing.T) {
	for _, name := range commandNames() {
		code, want, errOut := runCLI("help", name)
		if code != 0 || errOut != "" || !strings.HasPrefix(want, "usage: teardown "+name) {
			t.Errorf("help %s: exit %d, stdout %q, stderr %q", name, code, want, errOut)
			continue
		}
		for _, h := range []string{"-h", "-help", "--help"} {
			code, out, errOut := runCLI(name, h)
			if code != 0 || errOut != "" || out != want {
				t.Errorf("%s %s: exit %d, stderr %q, stdout differs from 'help %s':\n%s", name, h, code, errOut, name, out)
			}
		}
	}
	_, list, _ := runCLI("help")
	for _, h := range []string{"-h", "--help"} {
		if code, out, _ := runCLI(h); code != 0 || out != list {
			t.Errorf("teardown %s: exit %d, output differs from 'teardown help'", h, code)
		}
	}
}

func TestEveryHelpText_FitsEightyColumns(t *testing.T) {
	texts := map[string]string{}
	_, texts["teardown help"], _ = runCLI("help")
	_, _, texts["teardown"] = runCLI()
	for _, name := range commandNames() {
		_, texts["help "+name], _ = runCLI("help", name)
	}
	for what, text := range texts {
		for _, l := range strings.Split(text, "\n") {
			if n := len([]rune(strings.ReplaceAll(l, "\t", "        "))); n > helpWidth {
				t.Errorf("%s: %d columns: %q", what, n, l)
			}
		}
	}
}

// Every flag a command takes is in its synopsis, and the synopsis names
// no flag the command does not take.
func TestEveryCommand_SynopsisNamesItsFlags(t *testing.T) {
	for _, name := range commandNames() {
		_, help, _ := runCLI("help", name)
		synopsis, flagsPart, _ := strings.Cut(help, "\nFlags:\n")
		synopsis, _, _ = strings.Cut(synopsis, "\n\n")
		for _, l := range strings.Split(flagsPart, "\n") {
			if f, ok := strings.CutPrefix(l, "  --"); ok {
				f, _, _ = strings.Cut(f, " ")
				if !strings.Contains(synopsis, "[--"+f+"]") && !strings.Contains(synopsis, "[--"+f+" ") &&
					!strings.Contains(synopsis, "--"+f+" |") && !strings.Contains(synopsis, "| --"+f+"]") {
					t.Errorf("%s takes --%s but its synopsis does not show it:\n%s", name, f, synopsis)
				}
			}
		}
		for _, w := range strings.Fields(synopsis) {
			if f, ok := strings.CutPrefix(strings.Trim(w, "[]|"), "--"); ok && !strings.Contains(flagsPart, "  --"+f+"\n") &&
				!strings.Contains(flagsPart, "  --"+f+" ") {
				t.Errorf("%s's synopsis shows --%s, which it does not take", name, f)
			}
		}
	}
}

func TestFlagValues_OutOfRangeRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "tcp-echo-one", "--width", "-5"}, "--width -5: must be a whole number from 48 to 1000"},
		{[]string{"run", "tcp-echo-one", "--width", "100000"}, "--width 100000: must be a whole number from 48 to 1000"},
		{[]string{"run", "tcp-echo-one", "--width", "47"}, "from 48 to 1000"},
		{[]string{"run", "tcp-echo-one", "--width", "wide"}, "--width wide: not a whole number"},
		{[]string{"run", "tcp-echo-one", "--width"}, "--width needs a value"},
		{[]string{"run", "tcp-echo-one", "--seed", "-1"}, "--seed -1: must be a whole number from 1 to"},
		{[]string{"run", "tcp-echo-one", "--seed", "0"}, "--seed 0: must be a whole number from 1 to"},
		{[]string{"run", "tcp-echo-one", "--seed", "18446744073709551616"}, "from 1 to 18446744073709551615"},
		{[]string{"run", "tcp-echo-one", "--profile", "bsd"}, "--profile bsd: want one of"},
		{[]string{"run", "tcp-echo-one", "--pcap", ""}, "--pcap : an empty value"},
		{[]string{"run", "tcp-echo-one", "--json=maybe"}, "--json=maybe: want true or false"},
		{[]string{"serve", "echo", "--port", "65536"}, "--port 65536: must be a whole number from 0 to 65535"},
		{[]string{"dial", "echo", "--port", "-7"}, "--port -7: must be a whole number from 0 to 65535"},
		{[]string{"serve", "echo", "--count", "-1"}, "--count -1: must be a whole number from 0"},
		{[]string{"serve", "echo", "--proto", "dccp", "--service", "4294967296"}, "--service 4294967296: must be a whole number from 0 to 4294967295"},
		{[]string{"serve", "echo", "--proto", "udp"}, "--proto udp: want one of tcp, dccp"},
		{[]string{"dial", "echo", "--link", "eth"}, "--link eth: want one of sim, tun, udp"},
		{[]string{"serve", "echo", "--link", "tun", "--net", "10.7.0.0"}, "--net 10.7.0.0: not a network in CIDR form"},
		{[]string{"dial", "echo", "--proto", "dccp", "--link", "udp", "--peer", "localhost"}, "--peer localhost: not an IP address and port"},
		{[]string{"serve", "echo", "--proto", "dccp", "--link", "udp", "--local", "1.2.3.4"}, "--local 1.2.3.4: not an IP address and port"},
	} {
		wantUsageError(t, c.args[0], c.args, c.want)
	}
}

func TestFlags_NotApplyingRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "all", "--variant", "naive"}, "--variant applies only to one scenario"},
		{[]string{"run", "all", "--width", "90"}, "--width applies only to one scenario"},
		{[]string{"run", "all", "--pcap", "x.pcap"}, "--pcap applies only to one scenario"},
		{[]string{"run", "tcp-echo-one", "--json", "--width", "90"}, "--width applies only to the text diagram"},
		{[]string{"run", "tcp-echo-one", "--json", "--ascii"}, "--ascii applies only to the text diagram"},
		{[]string{"run", "tcp-echo-one", "--pcap", "-", "--json"}, "--json applies only when stdout"},
		{[]string{"run", "tcp-echo-one", "--pcap", "-", "--svg", "-"}, "both want stdout"},
		{[]string{"run", "tcp-echo-one", "--mermaid", "-", "--plantuml", "-"}, "both want stdout"},
		{[]string{"run", "all", "--mermaid", "x.mmd"}, "--mermaid applies only to one scenario"},
		{[]string{"serve", "echo", "--tun", "td1"}, "--tun applies only with --link tun"},
		{[]string{"serve", "echo", "--link", "udp", "--proto", "dccp", "--net", "10.9.0.0/24"}, "--net applies only with --link tun"},
		{[]string{"dial", "echo", "--local", "127.0.0.2:6511"}, "--local applies only with --link udp"},
		{[]string{"dial", "echo", "--service", "5"}, "--service applies only with --proto dccp"},
		{[]string{"dial", "echo", "--count", "1"}, "unknown flag --count for dial"},
		{[]string{"bench", "--vm"}, "--vm applies only with --dccp"},
		{[]string{"list", "extra"}, "list takes no arguments"},
		{[]string{"help", "run", "serve"}, "at most one command"},
	} {
		wantUsageError(t, c.args[0], c.args, c.want)
	}
}

func TestErrors_OnePrefixAndPlainWords(t *testing.T) {
	for _, args := range [][]string{{"nosuch"}, {"help", "nosuch"}} {
		code, _, errOut := runCLI(args...)
		if code != 2 || !strings.HasPrefix(errOut, "teardown: unknown command \"nosuch\"\n") ||
			!strings.Contains(errOut, "run 'teardown help' for the list of commands") {
			t.Errorf("%q: exit %d, stderr %q", args, code, errOut)
		}
	}
	missing := filepath.Join(t.TempDir(), "none.pcap")
	code, _, errOut := runCLI("analyze", missing)
	if code != 1 || errOut != "teardown: open "+missing+": no such file or directory\n" {
		t.Errorf("analyze of a missing file: exit %d, stderr %q", code, errOut)
	}
	t.Setenv("TEARDOWN_BENCH", "/bin/false")
	code, _, errOut = runCLI("bench")
	if code != 1 || !strings.HasPrefix(errOut, "teardown: bench: /bin/false failed") {
		t.Errorf("bench whose binary fails: exit %d, stderr %q", code, errOut)
	}
	wantPlainWords(t, []string{"bench"}, errOut)
}

// "-" is stdout for --pcap, --svg, --mermaid and --plantuml (and nothing else is printed), and
// stdin for analyze: run | analyze - reads our own capture back.
func TestDash_StdoutForOutputsStdinForAnalyze(t *testing.T) {
	dir := t.TempDir()
	file, svgFile := filepath.Join(dir, "x.pcap"), filepath.Join(dir, "x.svg")
	if code, _, errOut := runCLI("run", "tcp-echo-one", "--pcap", file, "--svg", svgFile); code != 0 {
		t.Fatalf("run --pcap FILE --svg FILE: exit %d: %s", code, errOut)
	}
	want, _ := os.ReadFile(file)
	wantSVG, _ := os.ReadFile(svgFile)
	code, pcap, errOut := runCLI("run", "tcp-echo-one", "--pcap", "-")
	if code != 0 || pcap != string(want) {
		t.Fatalf("run --pcap -: exit %d (%s); stdout is not the bytes --pcap FILE writes (%d vs %d bytes)",
			code, errOut, len(pcap), len(want))
	}
	code, svg, _ := runCLI("run", "tcp-echo-one", "--svg", "-")
	if code != 0 || svg != string(wantSVG) || !strings.Contains(svg, "<svg") {
		t.Errorf("run --svg -: exit %d; want the SVG that --svg FILE writes, alone on stdout:\n%.200s", code, svg)
	}
	for _, c := range []struct{ flag, start string }{{"mermaid", "sequenceDiagram\n"}, {"plantuml", "@startuml\n"}} {
		name := filepath.Join(dir, "x."+c.flag)
		if code, _, errOut := runCLI("run", "tcp-echo-one", "--"+c.flag, name); code != 0 {
			t.Fatalf("run --%s FILE: exit %d: %s", c.flag, code, errOut)
		}
		inFile, _ := os.ReadFile(name)
		code, out, _ := runCLI("run", "tcp-echo-one", "--"+c.flag, "-")
		if code != 0 || out != string(inFile) || !strings.HasPrefix(out, c.start) {
			t.Errorf("run --%s -: exit %d; want what --%s FILE writes, alone on stdout:\n%.200s", c.flag, code, c.flag, out)
		}
	}
	old := stdin
	t.Cleanup(func() { stdin = old })
	viaStdin := runWithStdin(t, pcap, "analyze", "-")
	_, viaFile, _ := runCLI("analyze", file)
	if viaStdin != viaFile || !strings.Contains(viaFile, "1 connection") {
		t.Errorf("analyze - read from stdin:\n%s\nanalyze FILE:\n%s", viaStdin, viaFile)
	}
}

func runWithStdin(t *testing.T, in string, args ...string) string {
	t.Helper()
	stdin = bytes.NewReader([]byte(in))
	code, out, errOut := runCLI(args...)
	if code != 0 {
		t.Fatalf("%q: exit %d: %s", args, code, errOut)
	}
	return out
}

// 'run all --json' is one JSON object whose runs are what 'run ID --json'
// prints, one per variant.
func TestRunAllJSON_OneObjectWithEveryRun(t *testing.T) {
	code, out, errOut := runCLI("run", "all", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	dec := json.NewDecoder(strings.NewReader(out))
	var all struct {
		Seed uint64
		Runs []map[string]any
	}
	if err := dec.Decode(&all); err != nil || dec.More() {
		t.Fatalf("run all --json is not one JSON document: %v", err)
	}
	n := 0
	for _, s := range lab.Scenarios() {
		n += len(s.Variants)
	}
	if len(all.Runs) != n || all.Seed != lab.DefaultSeed {
		t.Fatalf("%d runs (seed %d) for %d variants", len(all.Runs), all.Seed, n)
	}
	_, one, _ := runCLI("run", "tcp-echo-one", "--variant", "linger", "--json")
	var want map[string]any
	if err := json.Unmarshal([]byte(one), &want); err != nil {
		t.Fatal(err)
	}
	for _, r := range all.Runs {
		if r["scenario"] == "tcp-echo-one" && r["variant"] == "linger" {
			if !reflect.DeepEqual(r, want) {
				t.Errorf("run all's tcp-echo-one/linger differs from 'run tcp-echo-one --variant linger --json'")
			}
			return
		}
	}
	t.Errorf("run all --json has no tcp-echo-one/linger")
}
