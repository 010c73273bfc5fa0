package tcp

import (
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
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

// Out-of-order bytes are kept at their places in the receive ring, so a
// byte far beyond RCV.NXT would make the ring take memory for the whole
// way there. A sparse one is dropped and counted instead: a single byte
// at the edge of a 1 MiB window leaves the connection holding no more
// than the 64 KiB floor. A dense flight with a hole at its start is kept
// whole, however far it reaches.
func TestEstablished_SparseOutOfOrderByteTakesNoMemory(t *testing.T) {
	big := func(c *Config) { c.RecvBuffer, c.NoWindowScaling = 1<<20, false }
	h := newHarnessPeer(t, Established, wire.TCPOptions{HasWScale: true, WScale: 7}, big)
	edge := remoteISS + 1 + seqnum.V32(1<<20) - 1
	h.recv(seg{flags: ACK, seq: edge, ack: localISS + 1, payload: "x"})
	h.drain()
	if got := h.c.Counters().Drops[DropOutOfOrderFull]; got != 1 || h.c.BufferMemory() > sparseRingFloor {
		t.Errorf("one byte at the window's edge: %d dropped, %d bytes of buffer memory; want it dropped and at most %d",
			got, h.c.BufferMemory(), sparseRingFloor)
	}

	h = newHarnessPeer(t, Established, wire.TCPOptions{HasWScale: true, WScale: 7}, big)
	payload := strings.Repeat("d", 1000)
	for i := 1; i < 200; i++ { // segment 0 is lost
		h.recv(seg{flags: ACK, seq: remoteISS + 1 + seqnum.V32(1000*i), ack: localISS + 1, payload: payload})
		h.drain()
	}
	if got := h.c.Counters().Drops[DropOutOfOrderFull]; got != 0 || h.c.ooo.held() != 199*1000 {
		t.Errorf("a flight of 199 segments after a hole: %d dropped, %d bytes held; want none dropped, all held", got, h.c.ooo.held())
	}
}
