package tcp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// newSACKHarness returns an established harness whose handshake agreed on
// SACK (and nothing else): send MSS 1000, peer window 8000, cwnd at the
// initial window of 10 segments.
func newSACKHarness(t *testing.T) *harness {
	t.Helper()
	return newSACKHarnessWith(t, false, 0)
}

// newSACKHarnessRFC6675 is newSACKHarness with RACK-TLP off: loss
// detection by RFC 6675's duplicate ACK threshold and the RTO alone.
func newSACKHarnessRFC6675(t *testing.T) *harness {
	t.Helper()
	return newSACKHarnessWith(t, true, 0)
}

// newSACKHarnessWith is newSACKHarness with RACK-TLP off when noRACK, and
// a handshake that takes rtt (the first RTT sample).
func newSACKHarnessWith(t *testing.T, noRACK bool, rtt time.Duration) *harness {
	t.Helper()
	cfg := testConfig()
	cfg.NoSACK, cfg.NoDelay, cfg.NoRACK = false, true, noRACK
	h := &harness{t: t, now: startTime, cfg: cfg}
	h.app = appDriver{h}
	h.c = NewActive(h.now, &cfg, localISS)
	h.drain()
	h.advance(rtt)
	h.recvSeg(&Segment{Seq: remoteISS, Ack: localISS + 1, Flags: SYN | ACK, Window: 8000,
		Options: wire.TCPOptions{HasMSS: true, MSS: 1000, SACKPermitted: true}})
	h.wantSent("ACK of SYN-ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	if _, sack, _ := h.c.Negotiated(); !sack {
		t.Fatal("SACK not negotiated")
	}
	return h
}

// segN is the sequence number of the n-th data segment (from 1) of 1000 bytes.
func segN(n int) seqnum.V32 { return localISS + 1 + seqnum.V32((n-1)*1000) }

// sackACK delivers an ACK of everything before segment una with SACK
// blocks for the segment ranges [from, to) given as pairs.
func (h *harness) sackACK(una int, ranges ...int) {
	h.t.Helper()
	s := &Segment{Seq: remoteISS + 1, Ack: segN(una), Flags: ACK, Window: 8000}
	for i := 0; i+1 < len(ranges); i += 2 {
		s.Options.SACK[s.Options.NumSACK] = wire.SACKBlock{Left: segN(ranges[i]), Right: segN(ranges[i+1])}
		s.Options.NumSACK++
	}
	h.recvSeg(s)
}

// sentSegs drains the Conn and returns the segment numbers of the data
// segments sent.
func (h *harness) sentSegs() []int {
	var out []int
	for _, s := range h.drain() {
		if len(s.Payload) > 0 {
			out = append(out, int(s.Seq.Sub(localISS+1))/1000+1)
		}
	}
	return out
}

func wantSegs(t *testing.T, why string, got []int, want ...int) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: sent segments %v, want %v", why, got, want)
	}
}

func TestSACK_ThreeDupACKsRetransmitOnlyTheHole(t *testing.T) {
	h := newSACKHarness(t)
	h.app.Write(strings.Repeat("x", 8000))
	wantSegs(t, "the window's worth", h.sentSegs(), 1, 2, 3, 4, 5, 6, 7, 8)
	h.sackACK(1, 2, 3)
	h.sackACK(1, 2, 4)
	wantSegs(t, "two duplicate ACKs: not yet (RFC 6675 §5 DupThresh)", h.sentSegs())
	h.sackACK(1, 2, 5)
	wantSegs(t, "RFC 6675 §5 step 4.3: the first unSACKed segment again", h.sentSegs(), 1)
	h.sackACK(1, 2, 9)
	wantSegs(t, "everything else was SACKed: nothing is resent", h.sentSegs())
	h.sackACK(9)
	if c := h.c.Counters(); c.Retransmits != 1 || c.FastRetransmits != 1 || c.RTOs != 0 {
		t.Errorf("counters %+v: want 1 retransmission from 1 recovery, no timeout", c)
	}
	if h.c.lr.sb.InRecovery() {
		t.Error("still in recovery after the ACK of the recovery point")
	}
}

func TestSACK_TwoHolesOneRecovery(t *testing.T) {
	h := newSACKHarness(t)
	h.app.Write(strings.Repeat("x", 9000)) // a ninth segment waits for the window
	h.sentSegs()
	var rtx []int
	// Segments 1 and 4 are lost; every other one arrives and is SACKed.
	for _, ranges := range [][]int{{2, 3}, {2, 4}, {5, 6, 2, 4}, {5, 7, 2, 4}, {5, 8, 2, 4}, {5, 9, 2, 4}} {
		h.sackACK(1, ranges...)
		rtx = append(rtx, h.sentSegs()...)
	}
	wantSegs(t, "RFC 6675: exactly the two holes are resent, SACKed data never", rtx, 1, 4)
	h.sackACK(4, 5, 9) // the retransmitted 1 arrived
	wantSegs(t, "the partial ACK moved the window: new data", h.sentSegs(), 9)
	h.sackACK(10) // and 4, and 9
	if c := h.c.Counters(); c.Retransmits != 2 || c.FastRetransmits != 1 || c.RTOs != 0 {
		t.Errorf("counters %+v: want 2 retransmissions in 1 recovery, no timeout", c)
	}
}

func TestSACK_RescueRetransmissionOfTheTail(t *testing.T) {
	h := newSACKHarnessRFC6675(t)
	h.app.Write(strings.Repeat("x", 8000)) // nothing more to send: the tail matters
	h.sentSegs()
	var rtx []int
	for _, ranges := range [][]int{{2, 3}, {2, 4}, {2, 5}} {
		h.sackACK(1, ranges...)
		rtx = append(rtx, h.sentSegs()...)
	}
	wantSegs(t, "segment 1 is resent; 5-8 may still be in flight", rtx, 1)
	h.sackACK(1, 6, 7, 2, 5) // 5 is lost too, 6 arrived: not yet deemed lost
	wantSegs(t, "RFC 6675 §4 NextSeg rule 3: an unSACKed hole below SACKed data", h.sentSegs(), 5)
	h.sackACK(1, 6, 8, 2, 5)
	wantSegs(t, "rule 4: one rescue retransmission of the highest unSACKed segment", h.sentSegs(), 8)
	h.sackACK(1, 6, 9, 2, 5)
	wantSegs(t, "the rescue is used once per recovery", h.sentSegs())
	h.sackACK(9)
	if c := h.c.Counters(); c.Retransmits != 3 || c.RTOs != 0 {
		t.Errorf("counters %+v: want 3 retransmissions (one a rescue), no timeout", c)
	}
}

func TestSACK_TimeoutSkipsSACKedData(t *testing.T) {
	h := newSACKHarnessRFC6675(t)
	h.app.Write(strings.Repeat("x", 8000))
	h.sentSegs()
	h.sackACK(1, 3, 4) // only segment 3 arrived: too little to start recovery
	wantSegs(t, "one SACKed segment is no loss signal yet", h.sentSegs())
	h.advanceToDeadline()
	wantSegs(t, "RFC 6675 §5.1: the timeout resends SND.UNA's segment, cwnd 1 SMSS", h.sentSegs(), 1)
	var rtx []int
	for una := 2; una <= 8; {
		h.sackACK(una, 3, 4)
		got := h.sentSegs()
		rtx = append(rtx, got...)
		if len(got) == 0 {
			break
		}
		una = got[len(got)-1] + 1
	}
	wantSegs(t, "after the timeout every hole is resent in order and SACKed segment 3 is not", rtx, 2, 4, 5, 6, 7, 8)
	h.sackACK(9)
	if c := h.c.Counters(); c.Retransmits != 7 || c.RTOs != 1 {
		t.Errorf("counters %+v: want 7 retransmissions, 1 timeout", c)
	}
	if h.c.lr.sb.Recovering() {
		t.Error("still recovering after everything was acknowledged")
	}
}

func TestSACK_FINRetransmittedAfterTimeout(t *testing.T) {
	h := newSACKHarnessRFC6675(t)
	h.app.Write(strings.Repeat("x", 2000))
	h.app.CloseWrite()
	got := h.drain()
	if len(got) != 2 || got[1].Flags&FIN == 0 {
		t.Fatalf("sent %v, want two segments, the second with FIN", fmtSegs(got))
	}
	h.sackACK(2) // the first segment arrives, the second and the FIN are lost
	h.advanceToDeadline()
	h.wantSent("the timeout resends the tail with its FIN",
		seg{flags: FIN | PSH | ACK, seq: segN(2), ack: remoteISS + 1, payload: strings.Repeat("x", 1000)})
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: segN(3) + 1})
	h.wantState(FinWait2)
}
