package trace

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// fixtures are the hand-built traces of fixtures_test.go by golden name.
var fixtures = []struct {
	name string
	tr   func() *Trace
}{
	{"tcp-echo-one-naive", echoOneNaive},
	{"tcp-echo-one-linger", echoOneLinger},
	{"dccp-simultaneous-close", dccpSimultaneousClose},
	{"lossy", lossyTrace},
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/trace -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./internal/trace -update refreshes it); got:\n%s", name, got)
	}
}

func TestText_Golden(t *testing.T) {
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			tr := f.tr()
			if err := tr.Validate(); err != nil {
				t.Fatalf("fixture is not a valid trace: %v", err)
			}
			golden(t, f.name+".golden", Text(tr, TextOptions{}))
			golden(t, f.name+".ascii.golden", Text(tr, TextOptions{ASCII: true, Width: 80}))
		})
	}
}

func TestText_Deterministic(t *testing.T) {
	for _, f := range fixtures {
		if a, b := Text(f.tr(), TextOptions{}), Text(f.tr(), TextOptions{}); a != b {
			t.Errorf("%s: two renderings of the same trace differ", f.name)
		}
	}
}

func TestText_NoLineLongerThanWidth(t *testing.T) {
	for _, f := range fixtures {
		for _, w := range []int{MinWidth, 60, 80, 100, 132} {
			for _, ascii := range []bool{false, true} {
				out := Text(f.tr(), TextOptions{Width: w, ASCII: ascii})
				for i, l := range strings.Split(out, "\n") {
					if n := utf8.RuneCountInString(l); n > w {
						t.Errorf("%s width %d ascii %v: line %d has %d runes: %q", f.name, w, ascii, i+1, n, l)
					}
				}
			}
		}
	}
}

func TestText_WidthBelowMinimumIsRaised(t *testing.T) {
	out := Text(echoOneNaive(), TextOptions{Width: 10})
	longest := 0
	for l := range strings.SplitSeq(out, "\n") {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	if longest > MinWidth || longest < MinWidth-10 {
		t.Errorf("width 10: longest line %d runes, want it laid out at MinWidth %d", longest, MinWidth)
	}
}

func TestText_ASCIIOnly(t *testing.T) {
	tr := echoOneNaive()
	// Non-ASCII in every free-text field the renderer shows.
	tr.Hosts[0] = "clïent"
	for i := range tr.Events {
		if e := &tr.Events[i]; e.Host == "client" {
			e.Host = "clïent"
			if e.Call != nil {
				e.Call.Host = "clïent"
			}
			if e.Packet != nil {
				e.Packet.From = "clïent"
			}
		} else if e.Packet != nil {
			e.Packet.To = "clïent"
		}
	}
	tr.AddCall(at(9), Call{Host: "server", Name: CallSend, Result: ResultOK, Bytes: 4, Detail: "é→"})
	tr.AddState(at(9), "server", StateChange{From: "A", To: "B", Reason: "§ 3.5 — “why”"})
	tr.AddNote(at(9), "", "notes · too …")
	tr.Explanation += " Ünïcödé → everywhere."
	out := Text(tr, TextOptions{ASCII: true})
	for i, c := range out {
		if c >= utf8.RuneSelf {
			t.Fatalf("ASCII mode wrote %q at byte %d:\n%s", c, i, out)
		}
	}
	if !strings.Contains(out, `send("\u00e9\u2192")`) {
		t.Errorf("ASCII mode should show data with escapes, want send(\"\\u00e9\\u2192\") in:\n%s", out)
	}
	if !strings.Contains(out, "S 3.5 -- \"why\"") {
		t.Errorf("ASCII mode should spell § — “” as S -- \"\" in:\n%s", out)
	}
}

func TestText_BlockedCallShowsStartAndReturn(t *testing.T) {
	out := Text(echoOneNaive(), TextOptions{Width: 100}) // room for the whole return label
	lines := strings.Split(out, "\n")
	start, end := -1, -1
	for i, l := range lines {
		if strings.Contains(l, "recv(64) blocks") {
			start = i
		}
		if strings.Contains(l, `recv(64) → data "h"`) && strings.Contains(l, "┘") {
			end = i
		}
	}
	if start < 0 || end <= start+1 {
		t.Fatalf("want a start row and a later return row for the client's blocking recv, got rows %d and %d:\n%s", start, end, out)
	}
	runeCol := func(l, s string) int { return utf8.RuneCountInString(l[:max(strings.Index(l, s), 0)]) }
	col := runeCol(lines[start], "┐")
	for i := start + 1; i < end; i++ {
		if !strings.Contains(lines[i], "┆") || runeCol(lines[i], "┆") != col {
			t.Errorf("row %d: the blocked recv's bar should continue at column %d: %q", i, col, lines[i])
		}
	}
	if runeCol(lines[end], "┘") != col {
		t.Errorf("the return row's ┘ should sit in the bar's column %d: %q", col, lines[end])
	}
	lossy := Text(lossyTrace(), TextOptions{Width: 100})
	if !strings.Contains(lossy, "recv(16) still blocked") || !strings.Contains(lossy, "still blocked when the run ended") {
		t.Errorf("a call that never returns should say so in the diagram and the list:\n%s", lossy)
	}
}

func TestText_DroppedPacketEndsInX(t *testing.T) {
	out := Text(lossyTrace(), TextOptions{Width: 100}) // room for "(retransmission)"
	var drop string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.Contains(l, "len=3") && !strings.Contains(l, "retransmission") {
			drop = l
		}
	}
	if !strings.Contains(drop, "──x ") || !strings.HasSuffix(drop, "lost") || strings.Contains(drop, ">") {
		t.Errorf("the dropped packet's arrow should stop in an x and say lost, got %q", drop)
	}
}

func TestText_SectionsListEveryCall(t *testing.T) {
	tr := echoOneNaive()
	out := Text(tr, TextOptions{})
	_, apps, ok := strings.Cut(out, "What each application saw\n")
	if !ok {
		t.Fatalf("no applications section:\n%s", out)
	}
	n := 0
	for _, e := range tr.Events {
		if e.Kind == KindCall {
			n++
		}
	}
	got := strings.Count(apps, "→ ")
	if got != n {
		t.Errorf("applications section lists %d calls, the trace has %d:\n%s", got, n, apps)
	}
	for _, want := range []string{"Verdict\n  Data lost: 4 bytes", "client saw: recv: connection reset by peer", "Why\n  The server closed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestWrap(t *testing.T) {
	text := "aaa bbb ccc dddddddddddddddd e"
	got := wrap(text, 9, "  ")
	want := []string{"  aaa bbb", "  ccc", "  ddddddd", "  ddddddd", "  dd e"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("wrap = %q, want %q", got, want)
	}
	for _, l := range wrap(strings.Repeat("word ", 50), 20, "    ") {
		if utf8.RuneCountInString(l) > 20 {
			t.Errorf("wrapped line longer than 20: %q", l)
		}
	}
	if got := wrap("", 20, "  "); len(got) != 0 {
		t.Errorf("wrap of nothing = %q, want no lines", got)
	}
}

func TestFit(t *testing.T) {
	if got := fit(5, "…", "too long", "short", "x"); got != "short" {
		t.Errorf("fit picks %q, want the first form that fits", got)
	}
	if got := fit(4, "…", "abcdef"); got != "abc…" {
		t.Errorf("fit cuts to %q, want abc…", got)
	}
	if got := fit(2, "...", "abcdef"); got != "ab" {
		t.Errorf("fit with no room for the ellipsis = %q, want ab", got)
	}
}

func TestFmtMS(t *testing.T) {
	for ns, want := range map[int64]string{0: "0.000", 1_500_000: "1.500", 499: "0.000", 500: "0.001",
		64_123_456_789: "64123.457", -2_000_000: "-2.000"} {
		if got := fmtMS(ns); got != want {
			t.Errorf("fmtMS(%d) = %q, want %q", ns, got, want)
		}
	}
}

// A state change's reason and a note too long for their room wrap over
// lines of their own, at any width: no word of them is lost.
func TestText_LongReasonWrapsNotCut(t *testing.T) {
	tr := echoOneNaive()
	reason := "close with 4 unread bytes: RFC 2525 §2.17 makes the close send RST instead of FIN"
	tr.AddState(at(4), "server", StateChange{From: "CLOSED", To: "CLOSED", Reason: reason})
	note := "at 2 s: accept queue 3, SYN queue 1, and a remark long enough to wrap twice over"
	tr.AddNote(at(4), "server", note)
	tr.AddNote(at(4), "", note)
	for _, w := range []int{MinWidth, 80, 120} {
		out := Text(tr, TextOptions{Width: w})
		for _, word := range strings.Fields(reason + " " + note) {
			if !strings.Contains(out, word) {
				t.Errorf("width %d: %q of a reason or note is missing:\n%s", w, word, out)
			}
		}
		// At the least width the state's [FROM → TO] and packet labels
		// may still be cut; from the default width on, nothing is.
		if w >= DefaultWidth && strings.Contains(strings.ReplaceAll(out, "blocks…", ""), "…") {
			t.Errorf("width %d: a text is cut with …:\n%s", w, out)
		}
		for l := range strings.SplitSeq(out, "\n") {
			if n := utf8.RuneCountInString(l); n > w {
				t.Errorf("width %d: a line of %d runes: %q", w, n, l)
			}
		}
	}
}
