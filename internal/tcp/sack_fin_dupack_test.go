package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// With SACK negotiated but no data ever sent, the loss-recovery state is
// not there (it comes with the first data segment). Three duplicate ACKs
// while only our FIN is outstanding start NewReno's fast retransmit (RFC
// 5681 §3.2); the retransmission must come from the plain path, not from
// a SACK recovery that does not exist — a crash on this input would let
// any peer bring the host down.
func TestDupACKsWithOnlyFINOutstandingUnderSACK(t *testing.T) {
	h := newHarnessPeer(t, FinWait1, wire.TCPOptions{SACKPermitted: true}, func(c *Config) { c.NoSACK = false })
	if _, sack, _ := h.c.Negotiated(); !sack {
		t.Fatal("the harness did not negotiate SACK")
	}
	for range 3 {
		h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	}
	got := h.drain() // must not panic
	for _, s := range got {
		if s.Flags&wire.FIN != 0 && s.Seq == localISS+1 {
			return // the FIN went again: fine
		}
	}
	h.wantState(FinWait1)
}
