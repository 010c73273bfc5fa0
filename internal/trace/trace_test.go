package trace

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/teardown-lab/teardown/internal/wire"
)

func TestTCPKind_ContractOrder(t *testing.T) {
	for _, c := range []struct {
		f    wire.TCPFlags
		want string
	}{
		{wire.SYN, "SYN"},
		{wire.SYN | wire.ACK, "SYN|ACK"},
		{wire.ACK | wire.FIN, "FIN|ACK"},
		{wire.RST, "RST"},
		{wire.ACK | wire.RST, "RST|ACK"},
		{wire.ACK | wire.PSH, "PSH|ACK"},
		{wire.ACK | wire.PSH | wire.FIN, "FIN|PSH|ACK"},
	} {
		if got := TCPKind(c.f); got != c.want {
			t.Errorf("TCPKind(%08b) = %q, want %q (order SYN|FIN|RST|PSH|ACK)", c.f, got, c.want)
		}
		if err := validTCPKind(c.want); err != nil {
			t.Errorf("validTCPKind(%q): %v", c.want, err)
		}
	}
	for _, bad := range []string{"ACK|PSH", "ACK|SYN", "FIN|FIN", "", "NOPE", "SYN|"} {
		if validTCPKind(bad) == nil {
			t.Errorf("validTCPKind(%q) accepted a kind out of the contract's order", bad)
		}
	}
	if DCCPKind(wire.DCCPCloseReq) != "CloseReq" || DCCPKind(wire.DCCPDataAck) != "DataAck" {
		t.Errorf("DCCPKind spells %q, %q", DCCPKind(wire.DCCPCloseReq), DCCPKind(wire.DCCPDataAck))
	}
}

func TestPacket_AckValid(t *testing.T) {
	for _, c := range []struct {
		p    Packet
		want bool
	}{
		{Packet{Proto: ProtoTCP, Kind: "SYN"}, false},
		{Packet{Proto: ProtoTCP, Kind: "RST"}, false},
		{Packet{Proto: ProtoTCP, Kind: "RST|ACK"}, true},
		{Packet{Proto: ProtoDCCP, Kind: "Request"}, false},
		{Packet{Proto: ProtoDCCP, Kind: "Data"}, false},
		{Packet{Proto: ProtoDCCP, Kind: "Reset"}, true},
	} {
		if got := c.p.AckValid(); got != c.want {
			t.Errorf("%s %s: AckValid = %v, want %v", c.p.Proto, c.p.Kind, got, c.want)
		}
	}
}

// pktEvents wraps packets in events, in order.
func pktEvents(ps ...Packet) []Event {
	evs := make([]Event, len(ps))
	for i := range ps {
		evs[i] = Event{Kind: KindPacket, Host: ps[i].From, Packet: &ps[i]}
	}
	return evs
}

func TestRelative(t *testing.T) {
	const a, b = 0xFFFFFFF0, 77 // a's ISN wraps past 2^32
	tcp := func(from, to, kind string, seq, ack uint64) Packet {
		return Packet{From: from, To: to, Proto: ProtoTCP, Kind: kind, Seq: seq, Ack: ack}
	}
	evs := pktEvents(
		tcp("a", "b", "SYN", a, 0),
		tcp("b", "a", "SYN|ACK", b, a+1),
		tcp("a", "b", "PSH|ACK", a+1, b+1),
		tcp("a", "b", "FIN|ACK", (a+21)&0xFFFFFFFF, b+1), // seq wrapped
		tcp("b", "a", "ACK", b+1, (a+22)&0xFFFFFFFF),
		tcp("a", "b", "SYN", 5000, 0), // a new incarnation on the same ports
		tcp("a", "b", "ACK", 5001, 99),
	)
	want := [][2]uint64{{0, 0}, {0, 1}, {1, 1}, {21, 1}, {1, 22}, {0, 0}, {1, 22}}
	rel := NewRelative(evs)
	for i, e := range evs {
		s, k, known := rel.Next(e.Packet)
		if s != want[i][0] || (e.Packet.AckValid() && (k != want[i][1] || !known)) {
			t.Errorf("packet %d (%s): relative seq=%d ack=%d known=%v, want seq=%d ack=%d", i, e.Packet.Kind, s, k, known, want[i][0], want[i][1])
		}
	}
}

func TestRelative_DCCP48AndUnknownReverse(t *testing.T) {
	const top = 1<<48 - 2
	evs := pktEvents(
		Packet{From: "c", To: "s", Proto: ProtoDCCP, Kind: "DataAck", Seq: top, Ack: 10},
		Packet{From: "c", To: "s", Proto: ProtoDCCP, Kind: "DataAck", Seq: 1, Ack: 10}, // wrapped 48-bit
		Packet{From: "x", To: "y", Proto: ProtoTCP, Kind: "ACK", Seq: 9, Ack: 1234},    // y never sends
	)
	rel := NewRelative(evs)
	if s, _, _ := rel.Next(evs[0].Packet); s != 0 {
		t.Errorf("first DCCP seq relative %d, want 0", s)
	}
	if s, _, _ := rel.Next(evs[1].Packet); s != 3 {
		t.Errorf("DCCP seq after the 48-bit wrap relative %d, want 3", s)
	}
	if _, k, known := rel.Next(evs[2].Packet); known || k != 1234 {
		t.Errorf("ack without a reverse base = %d known=%v, want the raw 1234, unknown", k, known)
	}
	labels := evs[2].Packet.labels(0, 1234, false)
	if !strings.Contains(labels[0], "ack=raw:1234") {
		t.Errorf("label %q should mark an ack it could not make relative", labels[0])
	}
}

func TestRelative_ConnectionsKeptApartByPort(t *testing.T) {
	evs := pktEvents(
		Packet{From: "c", To: "s", SrcPort: 1, DstPort: 80, Proto: ProtoTCP, Kind: "SYN", Seq: 100},
		Packet{From: "c", To: "s", SrcPort: 2, DstPort: 80, Proto: ProtoTCP, Kind: "SYN", Seq: 900},
		Packet{From: "c", To: "s", SrcPort: 1, DstPort: 80, Proto: ProtoTCP, Kind: "ACK", Seq: 101},
	)
	rel := NewRelative(evs)
	for i, want := range []uint64{0, 0, 1} {
		if s, _, _ := rel.Next(evs[i].Packet); s != want {
			t.Errorf("packet %d: relative seq %d, want %d", i, s, want)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, f := range fixtures {
		if err := f.tr().Validate(); err != nil {
			t.Errorf("%s: %v", f.name, err)
		}
	}
	bad := map[string]func(tr *Trace){
		"out of order": func(tr *Trace) { tr.AddNote(at(-1), "", "late") },
		"unknown host": func(tr *Trace) { tr.AddNote(at(99), "mars", "hi") },
		"unknown call": func(tr *Trace) { tr.AddCall(at(99), Call{Host: "client", Name: "listen", Result: ResultOK}) },
		"unknown result": func(tr *Trace) {
			tr.AddCall(at(99), Call{Host: "client", Name: CallRecv, Result: "maybe"})
		},
		"bad tcp kind": func(tr *Trace) {
			tr.AddPacket(at(99), Packet{From: "client", To: "server", Proto: ProtoTCP, Kind: "ACK|FIN"})
		},
		"bad dccp kind": func(tr *Trace) {
			tr.AddPacket(at(99), Packet{From: "client", To: "server", Proto: ProtoDCCP, Kind: "Fin"})
		},
		"from not host": func(tr *Trace) {
			tr.Events = append(tr.Events, Event{T: at(99), Host: "server", Kind: KindPacket,
				Packet: &Packet{From: "client", To: "server", Proto: ProtoTCP, Kind: "ACK"}})
		},
		"return before call": func(tr *Trace) {
			tr.Return(at(99), &Call{Host: "client", Name: CallRecv}, ResultEOF, 0, "")
		},
		"returned blocked": func(tr *Trace) {
			c := tr.AddCall(at(99), Call{Host: "client", Name: CallRecv})
			tr.Return(at(99), c, ResultBlocked, 0, "")
		},
		"missing payload": func(tr *Trace) { tr.Events = append(tr.Events, Event{T: at(99), Host: "client", Kind: KindState}) },
		"unknown kind":    func(tr *Trace) { tr.Events = append(tr.Events, Event{T: at(99), Kind: 42}) },
	}
	for name, spoil := range bad {
		tr := echoOneNaive()
		spoil(tr)
		if err := tr.Validate(); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}

func TestAddCall_BlockedUntilReturn(t *testing.T) {
	var tr Trace
	c := tr.AddCall(at(1), Call{Host: "h", Name: CallAccept})
	if c.Result != ResultBlocked || tr.Events[0].Call != c {
		t.Fatalf("a call added without a result should be blocked and stored by pointer")
	}
	tr.Return(at(2), c, ResultOK, 0, "")
	if c.Result != ResultOK || tr.Events[1].Kind != KindReturn || tr.Events[1].Call != c || tr.Events[1].Host != "h" {
		t.Errorf("Return should fill the call and append a return event at its host: %+v", tr.Events[1])
	}
}

// TestRender_Robust draws traces the lab should not make: hosts missing
// from Hosts, nil payloads, no events, three hosts. Nothing may panic and
// lines stay within the width.
func TestRender_Robust(t *testing.T) {
	three := &Trace{Hosts: []string{"client", "middlebox", "server"}}
	three.AddCall(at(0), Call{Host: "middlebox", Name: CallRecv, Arg: "1"})
	three.AddPacket(at(0), Packet{From: "client", To: "server", Proto: ProtoTCP, Kind: "SYN", Seq: 1, Arrive: at(2)})
	three.AddState(at(1), "middlebox", StateChange{From: "A", To: "B", Reason: "a reason that is rather long"})
	three.AddPacket(at(1), Packet{From: "server", To: "middlebox", Proto: ProtoTCP, Kind: "RST", Dropped: true})
	three.AddNote(at(1), "middlebox", "a note at the middle host")
	three.AddPacket(at(2), Packet{From: "ghost", To: "client", Proto: ProtoTCP, Kind: "RST", Arrive: at(3)})
	three.Events = append(three.Events, Event{T: at(3), Kind: KindCall}, Event{T: at(3), Kind: KindPacket},
		Event{T: at(3), Kind: KindState, Host: "client"}, Event{T: at(3), Kind: 99})
	for _, tr := range []*Trace{{}, {Hosts: []string{"solo"}}, three} {
		for _, w := range []int{0, MinWidth, 70} {
			out := Text(tr, TextOptions{Width: w})
			for l := range strings.SplitSeq(out, "\n") {
				if utf8.RuneCountInString(l) > max(w, MinWidth) && w != 0 {
					t.Errorf("line longer than %d: %q", w, l)
				}
			}
		}
		svgElements(t, SVG(tr, SVGOptions{}))
		if err := CheckSVG(SVG(tr, SVGOptions{})); err != nil {
			t.Errorf("%d hosts: %v", len(tr.Hosts), err)
		}
		_ = tr.Report()
	}
	out := Text(three, TextOptions{})
	if !strings.Contains(out, "ghost") {
		t.Errorf("a host missing from Hosts should get its own column:\n%s", out)
	}
}

// A failed send shows the data it tried to send (Arg) and the error
// (Detail), not the error as if it were the data.
func TestFailedSendLabelShowsDataNotError(t *testing.T) {
	c := Call{Name: CallSend, Arg: `"OK"`, Result: ResultReset, Detail: "connection reset by peer"}
	if got := c.label(true); got != `send("OK")` {
		t.Errorf("label = %s, want send(\"OK\")", got)
	}
	if got := c.outcome(true); got != "reset: connection reset by peer" {
		t.Errorf("outcome = %s", got)
	}
	ok := Call{Name: CallSend, Result: ResultOK, Bytes: 5, Detail: "hello"}
	if got := ok.label(true); got != `send("hello")` {
		t.Errorf("label = %s, want send(\"hello\")", got)
	}
}
