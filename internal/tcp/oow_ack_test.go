package tcp

import (
	"github.com/teardown-lab/teardown/internal/wire"
	"testing"
	"time"
)

// RFC 5961 §7 and RFC 9293 §3.10.7.4: the ACK that answers a pure ACK
// outside the window is rate-limited as challenge ACKs are (Linux
// tcp_invalid_ratelimit, 500 ms a connection): 100 such segments draw one.
// Two hosts answering each other's out-of-window ACKs would loop for ever.
func TestEstablished_OutOfWindowSegmentsRateLimited(t *testing.T) {
	h := newHarness(t, Established)
	ack := seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1}
	sent := 0
	for i := range 100 {
		h.recv(seg{flags: ACK, seq: remoteISS + 100000 + seqnumSize(i), ack: localISS + 1})
		sent += len(h.drain())
	}
	if sent != 1 {
		t.Fatalf("100 segments beyond the window drew %d ACKs, want 1", sent)
	}
	if got := h.c.Counters().ACKsRateLimited; got != 99 {
		t.Errorf("ACKsRateLimited = %d, want 99", got)
	}
	h.advance(500 * time.Millisecond)
	h.recv(seg{flags: ACK, seq: remoteISS + 100000, ack: localISS + 1})
	h.wantSent("after the interval, another", ack)
	// Data in the window is still acknowledged as ever.
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "ok"})
	h.wantSent("in-window data", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 3})
}

// Linux shares one limit between the two kinds of answer: an out-of-window
// segment uses up the interval's challenge ACK too.
func TestEstablished_OutOfWindowThenRSTShareTheLimit(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK, seq: remoteISS + 100000, ack: localISS + 1})
	h.wantSent("dup ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.recv(seg{flags: RST, seq: remoteISS + 100})
	h.wantNothingMore()
	h.wantState(Established)
}

// A retransmission of the last segment taken (its ACK was lost) is not an
// invalid segment: each one is acknowledged, as Linux does.
func TestCloseWait_RetransmittedFINAlwaysAcked(t *testing.T) {
	h := newHarness(t, CloseWait)
	for range 3 {
		h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
		h.wantSent("ACK of the FIN again", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 2})
	}
}

// Segments that carry data are answered every time, out of the window or
// old duplicates, as Linux does (tcp_oow_rate_limited: "data packets
// without SYNs are not likely part of an ACK loop"): an old duplicate's
// ACK carries the D-SACK block by which the sender learns its
// retransmission was spurious (RFC 2883), and holding it back made SACK
// recovery retransmit more than NewReno (TestLoop_SACKFewerRetransmitsThanNewReno).
func TestEstablished_DataOutsideTheWindowAlwaysAnswered(t *testing.T) {
	h := newHarnessPeer(t, Established, wire.TCPOptions{SACKPermitted: true}, func(c *Config) { c.NoSACK = false })
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "0123456789"})
	if got := h.drain(); len(got) != 1 || got[0].Ack != remoteISS+11 {
		t.Fatalf("ACK of the data: %v", fmtSegs(got))
	}
	for i := range 20 {
		h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "01234"})
		got := h.drain()
		if len(got) != 1 || got[0].Options.NumSACK != 1 || got[0].Options.SACK[0].Left != remoteISS+1 {
			t.Fatalf("old duplicate %d: sent %v, want one ACK with its D-SACK block", i, fmtSegs(got))
		}
	}
	for i := range 20 {
		h.recv(seg{flags: ACK | PSH, seq: remoteISS + 100000 + seqnumSize(i), ack: localISS + 1, payload: "x"})
		if got := h.drain(); len(got) != 1 {
			t.Fatalf("data beyond the window %d: sent %v, want one ACK", i, fmtSegs(got))
		}
	}
	if got := h.c.Counters().ACKsRateLimited; got != 0 {
		t.Errorf("ACKsRateLimited = %d, want 0", got)
	}
}
