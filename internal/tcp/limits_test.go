package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Limits a hostile peer meets in ESTABLISHED that had no test of their
// own (docs/security.md's table cites these).

// The out-of-order queue keeps at most maxOOORanges disjoint ranges: a
// peer that sends every other byte cannot make it grow without bound;
// the segment that would need one more range is dropped and counted.
func TestEstablished_OutOfOrderQueueFull(t *testing.T) {
	h := newHarness(t, Established)
	for i := range maxOOORanges + 1 {
		h.recv(seg{flags: ACK, seq: remoteISS + 1 + seqnum.V32(2*(i+1)), ack: localISS + 1, payload: "x"})
		h.drain()
	}
	if got := h.c.Counters().Drops[DropOutOfOrderFull]; got != 1 {
		t.Fatalf("Drops[out-of-order-full] = %d after %d disjoint ranges, want 1", got, maxOOORanges+1)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 1 + seqnum.V32(2*(maxOOORanges+1)), ack: localISS + 1, payload: "x"})
	h.drain()
	if got := h.c.Counters().Drops[DropOutOfOrderFull]; got != 2 {
		t.Fatalf("Drops[out-of-order-full] = %d: a retransmission of the dropped range must be dropped again while full", got)
	}
}

// RFC 5961 §5.2: an ACK older than SND.UNA minus the largest window the
// peer offered (a blind data injection's guess) is dropped and draws a
// challenge ACK, rate-limited as the others.
func TestEstablished_ACKTooOld(t *testing.T) {
	h := newHarness(t, Established)
	una := localISS + 1
	// The peer offered 8000 bytes of window: SND.UNA - 9000 is too old.
	old := seg{flags: ACK, seq: remoteISS + 1, ack: una - 9000, payload: "inject"}
	h.recv(old)
	h.wantSent("RFC 5961 §5.2: challenge ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.recv(old)
	h.wantNothingMore() // within the challenge ACK interval: silent
	if got := h.c.Counters().Drops[DropACKTooOld]; got != 2 {
		t.Fatalf("Drops[ack-too-old] = %d, want 2", got)
	}
	if n := h.c.Readable(); n != 0 {
		t.Fatalf("Readable = %d: the injected data was taken", n)
	}
}
