package tcp

import (
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// The calls a host makes to keep its own scheduling from looking like
// loss to the peer (stack: deferred segments, link writes that block):
// ClosesWindow and ACKNow on the receiving side, ProbeResends and
// SkipProbe on the sending side.

// A segment that leaves the sender less than one full segment of the
// window it was last told of closes the window: the sender can send
// nothing more. One that leaves room for another segment does not. The
// edge is the one on the wire (ACK + window), as the sender sees it.
func TestEstablished_ClosesWindowWithinOneSegmentOfTheEdge(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: strings.Repeat("d", 1000)})
	h.advance(h.cfg.DelayedACK)
	acks := h.drain()
	if len(acks) == 0 {
		t.Fatal("no ACK for the data")
	}
	last := acks[len(acks)-1]
	edge := last.Ack.Add(seqnum.Size32(last.Window) << h.c.rcvShift)
	const mss = 1000 // the peer's segments so far
	for _, tc := range []struct {
		end    seqnum.V32
		closes bool
	}{
		{edge - 2*mss, false},
		{edge - mss - 1, false},
		{edge - mss + 1, true},
		{edge, true},
	} {
		seq := tc.end - 100
		if got := h.c.ClosesWindow(seq, 100); got != tc.closes {
			t.Errorf("segment ending %d bytes before the edge: ClosesWindow = %v, want %v", edge.Sub(tc.end), got, tc.closes)
		}
	}
}

// ACKNow sends the ACK of a lone segment at once instead of at the
// delayed-ACK timer.
func TestEstablished_ACKNowSkipsTheDelay(t *testing.T) {
	h := newHarness(t, Established)
	seq := remoteISS + 1
	data := func() {
		h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: strings.Repeat("d", 1000)})
		seq += 1000
	}
	for range 8 { // past the quick ACKs of a new flow (at most RecvBuffer/(2*MSS))
		data()
		h.app.Read(1000)
		h.drain()
	}
	data()
	if got := h.drain(); len(got) != 0 {
		t.Fatalf("a lone full-sized segment drew %v at once; want its ACK delayed (RFC 5681 §4.2)", fmtSegs(got))
	}
	h.c.ACKNow()
	h.wantSent("the ACK, at once", seg{flags: ACK, seq: localISS + 1, ack: seq})
}

// A probe timeout with no new data to send would resend the last
// segment; the host learns when that segment was sent, and may cancel the
// probe (the segment has not left it yet). Nothing is sent then, nothing
// is counted as retransmitted, and the retransmission timer still guards
// the flight: when it expires, the lost head goes again.
func TestEstablished_ProbeHeldWhileTheTailIsInTheHost(t *testing.T) {
	h := newRACKHarness(t)
	sent := h.now
	h.app.Write(strings.Repeat("x", 4000))
	wantSegs(t, "four segments", h.sentSegs(), 1, 2, 3, 4)
	h.advance(rackRTT)
	h.sackACK(3)
	if at, ok := h.c.ProbeResends(); ok {
		t.Fatalf("ProbeResends before the probe timeout: %v", at)
	}
	h.advanceToDeadline()
	at, ok := h.c.ProbeResends()
	if !ok || at != sent {
		t.Fatalf("at the probe timeout ProbeResends = %v, %v; want the tail's send time %v, true", at, ok, sent)
	}
	h.c.SkipProbe()
	wantSegs(t, "the probe held", h.sentSegs())
	if c := h.c.Counters(); c.Retransmits != 0 || c.TLPs != 1 {
		t.Fatalf("counters %+v: want the probe timeout counted and nothing retransmitted", c)
	}
	h.advanceToDeadline()
	if got := h.sentSegs(); len(got) == 0 || got[0] != 3 {
		t.Fatalf("after the retransmission timeout sent %v, want segment 3 first", got)
	}
	if c := h.c.Counters(); c.RTOs != 1 {
		t.Fatalf("counters %+v: want one RTO", c)
	}
}
