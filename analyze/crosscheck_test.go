package analyze

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/lab"
)

// The vocabulary fields are checked against independent tools on the
// same files: tshark's tcp.completeness and tcptrace's "complete conn".
// Where they disagree with us for a reason we understand, the reason is a
// class of docs/analyze.md; an unexplained disagreement fails the test.

// toolPath finds a Debian tool or skips loudly.
func toolPath(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("SKIP LOUDLY: %s not found: apt-get install %s (scripts/test.sh does)", name, pkg)
	}
	return p
}

// tsharkStream is what tshark says of one TCP stream.
type tsharkStream struct {
	first, last  int // frame numbers
	startsSYN    bool
	completeness int // on its last frame
}

// tsharkStreams runs tshark (two passes) over file and returns its
// streams by their first frame.
func tsharkStreams(t *testing.T, file string) map[int]*tsharkStream {
	t.Helper()
	out, err := exec.Command(toolPath(t, "tshark", "tshark"), "-2", "-n", "-r", file, "-Y", "tcp",
		"-T", "fields", "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.flags", "-e", "tcp.completeness").Output()
	if err != nil {
		t.Fatalf("tshark %s: %v", file, err)
	}
	byStream := map[int]*tsharkStream{}
	for line := range strings.Lines(string(out)) {
		f := strings.Split(strings.TrimSpace(line), "\t")
		if len(f) != 4 {
			continue
		}
		num, _ := strconv.Atoi(f[0])
		id, _ := strconv.Atoi(f[1])
		flags, _ := strconv.ParseUint(strings.TrimPrefix(f[2], "0x"), 16, 16)
		comp, _ := strconv.Atoi(f[3])
		s := byStream[id]
		if s == nil {
			s = &tsharkStream{first: num, startsSYN: flags&0x02 != 0}
			byStream[id] = s
		}
		s.last, s.completeness = num, comp
	}
	byFirst := map[int]*tsharkStream{}
	for _, s := range byStream {
		byFirst[s.first] = s
	}
	return byFirst
}

// tcptraceConns runs tcptrace -l over file and returns "complete conn"
// (yes, no, RESET) by the connection's two endpoints, sorted: one value
// per tcptrace connection, in order (tcptrace starts a new connection
// after an RST).
func tcptraceConns(t *testing.T, file string) map[string][]string {
	t.Helper()
	out, err := exec.Command(toolPath(t, "tcptrace", "tcptrace"), "-n", "-l", file).Output()
	if err != nil {
		t.Fatalf("tcptrace %s: %v", file, err)
	}
	conns := map[string][]string{}
	var a, b string
	hosts := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) >= 3 && f[0] == "host": // host a: and b:, then c: and d: ...
			if hosts++; hosts%2 == 1 {
				a = f[2]
			} else {
				b = f[2]
			}
		case len(f) >= 3 && f[0] == "complete" && f[1] == "conn:":
			conns[pairKey(a, b)] = append(conns[pairKey(a, b)], f[2])
		}
	}
	return conns
}

func pairKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return a + " " + b
}

// ourTcptrace says what tcptrace's "complete conn" would be for the
// connections of one 4-tuple: RESET when any carried an RST, yes when
// SYNs and FINs went both ways, otherwise no.
func ourTcptrace(cs []*Connection) string {
	var rst, synO, synR, finO, finR bool
	for _, c := range cs {
		rst = rst || *c.Completeness&CompleteRST != 0
		synO = synO || strings.ContainsAny(c.History, "SHQ")
		synR = synR || strings.ContainsAny(c.History, "shq")
		finO = finO || strings.ContainsAny(c.History, "FI")
		finR = finR || strings.ContainsAny(c.History, "fi")
	}
	switch {
	case rst:
		return "RESET"
	case synO && synR && finO && finR:
		return "yes"
	}
	return "no"
}

// crossCheck compares rep (of file) with tshark and tcptrace and returns
// the disagreements, one line each.
func crossCheck(t *testing.T, file string, rep *Report) (checked int, diffs []string) {
	t.Helper()
	checked, diffs = tsharkCheck(t, file, rep)
	byPair := map[string][]*Connection{}
	for _, c := range rep.Connections {
		if c.Proto == "tcp" {
			byPair[pairKey(c.Client, c.Server)] = append(byPair[pairKey(c.Client, c.Server)], c)
		}
	}
	for pair, theirs := range tcptraceConns(t, file) {
		cs := byPair[pair]
		if cs == nil {
			diffs = append(diffs, "tcptrace connection "+pair+": not ours")
			continue
		}
		if got := ourTcptrace(cs); got != theirs[0] {
			diffs = append(diffs, fmt.Sprintf("%s (history %s): complete conn %s, tcptrace %s", pair, cs[0].History, got, theirs[0]))
		}
		if len(theirs) > len(cs) {
			diffs = append(diffs, fmt.Sprintf("%s (history %s): tcptrace splits at an RST into %d connections %v, analyze has %d",
				pair, cs[0].History, len(theirs), theirs, len(cs)))
		}
	}
	return checked, diffs
}

// tsharkCheck compares rep's TCP connections with tshark's streams (it
// reads every link type and tunnel analyze does) and returns the
// disagreements.
func tsharkCheck(t *testing.T, file string, rep *Report) (checked int, diffs []string) {
	t.Helper()
	streams := tsharkStreams(t, file)
	for _, c := range rep.Connections {
		if c.Proto != "tcp" {
			continue
		}
		s := streams[c.FirstPacket]
		switch {
		case s == nil:
			diffs = append(diffs, fmt.Sprintf("connection %d (#%d): no tshark stream starts there", c.ID, c.FirstPacket))
		case !s.startsSYN:
			// tshark 4.0 shows the final value only for streams opened by
			// a SYN (docs/analyze.md); nothing to compare.
		case s.first == s.last && s.completeness != *c.Completeness && s.completeness != *c.Completeness&CompleteSYN:
			// tshark 4.0 shows a one-packet stream's value before that
			// packet, but for its SYN bit (docs/analyze.md)
			diffs = append(diffs, fmt.Sprintf("connection %d (#%d, history %s): completeness %d, one-packet tshark %d",
				c.ID, c.FirstPacket, c.History, *c.Completeness, s.completeness))
		case s.first == s.last:
			checked++
		case s.completeness != *c.Completeness:
			diffs = append(diffs, fmt.Sprintf("connection %d (#%d, history %s): completeness %d, tshark %d",
				c.ID, c.FirstPacket, c.History, *c.Completeness, s.completeness))
		default:
			checked++
		}
	}
	return checked, diffs
}

// Every scenario's capture, in every variant, agrees with tshark and
// tcptrace.
func TestCrossCheck_LabCaptures(t *testing.T) {
	if testing.Short() {
		t.Skip("runs every scenario and two tools per capture")
	}
	toolPath(t, "tshark", "tshark")
	toolPath(t, "tcptrace", "tcptrace")
	dir := t.TempDir()
	for _, sc := range lab.Scenarios() {
		if sc.Group == "dccp" {
			continue
		}
		for _, v := range sc.VariantNames() {
			name := sc.ID + "-" + v
			res, err := lab.Run(sc.ID, lab.Options{Variant: v})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			file := filepath.Join(dir, name+".pcap")
			if err := os.WriteFile(file, res.Pcap, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err := Reader(bytes.NewReader(res.Pcap), Options{})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			checked, diffs := crossCheck(t, file, rep)
			for _, d := range diffs {
				t.Errorf("%s: %s", name, d)
			}
			if checked == 0 {
				t.Errorf("%s: no connection compared with tshark", name)
			}
		}
	}
}

// corpusDir is the shared, read-only capture corpus (never copied here).
const corpusDir = "../../shared/captures/esnet-curated-pcaps/tcp/control"

// diffClasses sort the corpus's disagreements by the docs/analyze.md
// section that explains them, matched on the disagreement's line.
var diffClasses = []struct{ match, doc string }{
	{"no tshark stream starts there", "streams split differently"},
	{"one-packet tshark", "tshark 4.0 and one-packet streams"},
	{"tcptrace splits at an RST", "tcptrace ends a connection at any RST"},
	{"complete conn", "tcptrace and multi-flag segments"},
	{"tshark", "tshark 4.0 completeness on odd flag mixes"},
}

// The public corpus of flag combinations (every combination one way and
// answered, two files): disagreements are counted by class and logged,
// with examples, for docs/analyze.md; the test fails if the corpus stops
// being compared at all.
func TestCrossCheck_FlagCorpus(t *testing.T) {
	dir, err := filepath.Abs(filepath.Join("..", corpusDir))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SKIP: the shared capture corpus is not here (%v): nothing to compare", err)
	}
	for _, name := range []string{"one_way_all_flags.pcap", "two_way_all_flags.pcap"} {
		file := filepath.Join(dir, name)
		rep, err := File(file, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checked, diffs := crossCheck(t, file, rep)
		t.Logf("%s: %d connections, %d agree with tshark, %d disagreements", name, len(rep.Connections), checked, len(diffs))
		if checked == 0 {
			t.Errorf("%s: no connection agreed with tshark", name)
		}
		for _, cl := range diffClasses {
			var in []string
			diffs = slices.DeleteFunc(diffs, func(d string) bool {
				if strings.Contains(d, cl.match) {
					in = append(in, d)
					return true
				}
				return false
			})
			if len(in) > 0 {
				t.Logf("  %d: %s, e.g. %s", len(in), cl.doc, strings.Join(in[:min(3, len(in))], "; "))
			}
		}
	}
}
