package trace

import (
	"encoding/xml"
	"strconv"
	"strings"
	"testing"
)

// No fixture's SVG has overlapping, protruding or cut texts.
func TestSVG_TextsNeitherOverlapNorAreCut(t *testing.T) {
	for _, f := range fixtures {
		if err := CheckSVG(SVG(f.tr(), SVGOptions{})); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
	}
}

// A burst of packets leaving one host at one instant, with long labels,
// long state reasons and a long note: every text keeps clear of the
// others, and the long ones wrap (the SVG grows) instead of being cut.
func TestSVG_BurstAndLongTextsStayApart(t *testing.T) {
	tr := echoOneNaive()
	reason := strings.Repeat("a reason that goes on and on ", 6)
	tr.AddState(at(4), "server", StateChange{From: "CLOSED", To: "CLOSED", Reason: reason})
	for i := range 6 {
		_, p := tcpPkt("server", "client", "ACK", isnS+2, isnC+6, 1448, 4)
		p.Seq += uint64(1448 * i)
		p.Extra = "retransmission of a long, long stretch of data"
		tr.AddPacket(at(4), p)
	}
	tr.AddNote(at(4), "", strings.Repeat("a note across the whole diagram ", 8))
	doc := SVG(tr, SVGOptions{})
	if err := CheckSVG(doc); err != nil {
		t.Fatal(err)
	}
	short := SVG(echoOneNaive(), SVGOptions{})
	if svgHeight(t, doc) <= svgHeight(t, short)+6*svgRowH {
		t.Errorf("the SVG did not grow for six more packets and long texts: %.0f px vs %.0f",
			svgHeight(t, doc), svgHeight(t, short))
	}
	for _, word := range []string{"retransmission", "reason that goes", "across the whole"} {
		if !strings.Contains(string(doc), word) {
			t.Errorf("%q is missing from the SVG", word)
		}
	}
}

// CheckSVG finds two texts drawn over each other, a rotated text and a
// cut one.
func TestCheckSVG_RejectsOverlapRotationAndCuts(t *testing.T) {
	head := `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" font-size="13">`
	for name, doc := range map[string]string{
		"overlap": head + `<text x="10" y="50">RST|ACK seq=2</text><text x="60" y="55">PSH|ACK</text></svg>`,
		"rotated": head + `<text x="10" y="50" transform="rotate(10 10 50)">ACK</text></svg>`,
		"cut":     head + `<text x="10" y="50">close with 4 unread by…</text></svg>`,
		"outside": head + `<text x="390" y="50">sticks out</text></svg>`,
	} {
		if err := CheckSVG([]byte(doc)); err == nil {
			t.Errorf("%s: CheckSVG accepted it", name)
		}
	}
	ok := head + `<text x="10" y="50">RST|ACK</text><text x="10" y="70">PSH|ACK</text>` +
		`<text x="390" y="90" text-anchor="end">right</text></svg>`
	if err := CheckSVG([]byte(ok)); err != nil {
		t.Errorf("two lines apart: %v", err)
	}
}

// The estimate errs on the wide side of DejaVu Sans: a line of capitals
// is wider than a line as long of narrow letters, and bold is wider.
func TestTextWidth_Conservative(t *testing.T) {
	if a, b := textWidth("WWWW", 10, false), textWidth("iiii", 10, false); a <= b {
		t.Errorf("WWWW %.1f px, iiii %.1f px", a, b)
	}
	if a, b := textWidth("ACK seq=1", 10, true), textWidth("ACK seq=1", 10, false); a <= b {
		t.Errorf("bold %.1f px, regular %.1f px", a, b)
	}
	// DejaVu Sans Book's advances sum to 5.07 em for "ACK seq=1".
	if w := textWidth("ACK seq=1", 100, false); w < 507 {
		t.Errorf("ACK seq=1 at 100 px estimated %.0f px, narrower than DejaVu Sans draws it (507)", w)
	}
}

// A packet that arrives while nothing else happens ends on a row of its
// own arrival time, not on the next event's row.
func TestSVG_ArrivalOnItsOwnTimeRow(t *testing.T) {
	tr := echoOneNaive()
	_, p := tcpPkt("server", "client", "RST", isnS+2, 0, 0, 5)
	tr.AddPacket(at(5), p) // arrives at 6 ms; the next event is at 12 ms
	tr.AddCall(at(12), Call{Host: "client", Name: CallClose, Result: ResultOK})
	els := svgElements(t, SVG(tr, SVGOptions{}))
	rowY := map[string]float64{} // time label → its row's y
	var texts []string
	dec := xml.NewDecoder(strings.NewReader(string(SVG(tr, SVGOptions{}))))
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "text" && attr(se, "text-anchor") == "end" {
			var s string
			dec.DecodeElement(&s, &se) //nolint:errcheck // well-formed, checked above
			y, _ := strconv.ParseFloat(attr(se, "y"), 64)
			rowY[s] = y - 4
			texts = append(texts, s)
		}
	}
	y6, ok := rowY["6.000"]
	if !ok {
		t.Fatalf("no 6.000 row on the time axis (%q)", texts)
	}
	found := false
	for _, se := range els {
		if se.Name.Local == "line" && attr(se, "stroke") == svgColors["rst"] {
			y2, _ := strconv.ParseFloat(attr(se, "y2"), 64)
			y1, _ := strconv.ParseFloat(attr(se, "y1"), 64)
			if y1 > rowY["5.000"]-svgRowH && y1 <= rowY["5.000"] {
				found = true
				if y2 != y6 {
					t.Errorf("the RST sent at 5 ms ends at y=%.1f, the 6 ms row is at %.1f (12 ms at %.1f)", y2, y6, rowY["12.000"])
				}
			}
		}
	}
	if !found {
		t.Error("no RST arrow leaves at 5 ms")
	}
}

// Each arrow carries a tooltip with its frame number and why it was sent.
func TestSVG_ArrowTooltips(t *testing.T) {
	tr := echoOneNaive()
	n := 0
	for _, e := range tr.Events {
		if e.Kind == KindPacket {
			n++
			e.Packet.Frame = n
		}
	}
	doc := string(SVG(tr, SVGOptions{}))
	if got := strings.Count(doc, "<title>"); got != n {
		t.Errorf("%d tooltips for %d packets", got, n)
	}
	for _, want := range []string{
		"<title>frame 1: SYN seq=0, client → server, sent at 0.000 ms, arrived at 1.000 ms.",
		// The RST follows the server's close() and says the rule its
		// change to CLOSED followed.
		"frame 6: RST|ACK seq=2 ack=6, server → client, sent at 3.000 ms, arrived at 4.000 ms. " +
			"Sent after the application&#39;s close(); the stack made ESTABLISHED → CLOSED (close with 4 bytes unread).",
		"frame 2: SYN|ACK seq=0 ack=1, server → client, sent at 1.000 ms, arrived at 2.000 ms. " +
			"Sent while server handled frame 1 (SYN), which had just arrived; the stack made LISTEN → SYN-RECEIVED (SYN received).",
		// A return is the stack waking the application: connect()
		// returning did not send the ACK, the SYN|ACK's arrival did.
		"frame 3: ACK seq=1 ack=1, client → server, sent at 2.000 ms, arrived at 3.000 ms. " +
			"Sent while client handled frame 2 (SYN|ACK), which had just arrived; the stack made SYN-SENT → ESTABLISHED.",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("no tooltip %q", want)
		}
	}
}

// A retransmission, sent when nothing arrived and no call was made, is
// put down to a timer.
func TestSVG_TooltipOfARetransmissionSaysTimer(t *testing.T) {
	doc := string(SVG(lossyTrace(), SVGOptions{}))
	for _, tip := range strings.Split(doc, "<title>")[1:] {
		tip, _, _ = strings.Cut(tip, "</title>")
		if strings.Contains(tip, "(retransmission)") && !strings.Contains(tip, "Sent on a timer") {
			t.Errorf("the retransmission's tooltip: %s", tip)
		}
	}
	if !strings.Contains(doc, "(retransmission)") {
		t.Error("the lossy fixture has no retransmission")
	}
}

func svgHeight(t *testing.T, doc []byte) float64 {
	t.Helper()
	h, _ := strconv.ParseFloat(attr(svgElements(t, doc)[0], "height"), 64)
	return h
}
