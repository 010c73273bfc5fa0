package tcp

import (
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The RACK-TLP tests run over newSACKHarnessWith with a 10 ms handshake:
// SRTT 10 ms, RTO 210 ms (SRTT + RTOMin), send MSS 1000.
const rackRTT = 10 * time.Millisecond

func newRACKHarness(t *testing.T) *harness {
	t.Helper()
	return newSACKHarnessWith(t, false, rackRTT)
}

// sackACKWnd is sackACK with the given window.
func (h *harness) sackACKWnd(una int, wnd uint16, ranges ...int) {
	h.t.Helper()
	s := &Segment{Seq: remoteISS + 1, Ack: segN(una), Flags: ACK, Window: wnd}
	for i := 0; i+1 < len(ranges); i += 2 {
		s.Options.SACK[s.Options.NumSACK] = wire.SACKBlock{Left: segN(ranges[i]), Right: segN(ranges[i+1])}
		s.Options.NumSACK++
	}
	h.recvSeg(s)
}

func count(segs []int, n int) int {
	k := 0
	for _, s := range segs {
		if s == n {
			k++
		}
	}
	return k
}

// Segment 1 is lost, and so is its fast retransmission. New data sent
// after the retransmission arrives: RACK (RFC 8985 §6.2) deems the
// retransmission lost one RTT after it went out and sends segment 1 a
// third time, without a timeout. RFC 6675 alone cannot (HighRxt is past
// segment 1), and waits for the RTO.
func TestEstablished_RACKDetectsLostRetransmission(t *testing.T) {
	for _, noRACK := range []bool{false, true} {
		h := newSACKHarnessWith(t, noRACK, rackRTT)
		h.app.Write(strings.Repeat("x", 16000))
		wantSegs(t, "the peer's window", h.sentSegs(), 1, 2, 3, 4, 5, 6, 7, 8)
		h.advance(rackRTT)
		h.sackACKWnd(1, 16000, 2, 5) // 2-4 arrived: segment 1 is lost
		wantSegs(t, "RFC 6675 §5 step 4.3", h.sentSegs(), 1)
		h.advance(time.Millisecond)
		h.sackACKWnd(1, 16000, 2, 9) // 5-8 arrived: room for new data
		first := h.sentSegs()
		if len(first) == 0 || first[0] != 9 {
			t.Fatalf("noRACK %v: after the retransmission sent %v, want new data from segment 9", noRACK, first)
		}
		top := first[len(first)-1]
		h.advance(rackRTT)
		h.sackACKWnd(1, 16000, 2, top+1) // all but segment 1 and its retransmission
		again := h.sentSegs()
		c := h.c.Counters()
		if noRACK {
			if count(again, 1) != 0 || c.RTOs != 0 {
				t.Fatalf("RFC 6675 alone resent %v (RTOs %d): want segment 1 only after the RTO", again, c.RTOs)
			}
			h.advanceToDeadline()
			if got := h.sentSegs(); count(got, 1) != 1 || h.c.Counters().RTOs != 1 {
				t.Fatalf("RFC 6675 alone: after the deadline sent %v, counters %+v: want segment 1 by the RTO", got, h.c.Counters())
			}
			continue
		}
		if count(again, 1) != 1 {
			t.Fatalf("RACK: one RTT after the retransmission, sent %v: want segment 1 again", again)
		}
		if c.RTOs != 0 || c.RACKLost == 0 {
			t.Errorf("counters %+v: want RACK losses and no timeout", c)
		}
		h.sackACKWnd(top+1, 16000)
		if h.c.lr.sb.Recovering() {
			t.Error("still recovering after the ACK of everything sent")
		}
	}
}

// The last two segments of a transfer are lost. No ACK will come for
// them; the probe timeout (2*SRTT, RFC 8985 §7.2) fires long before the
// RTO, resends the last segment (§7.3), and the ACK of the probe lets RACK
// find the other loss.
func TestEstablished_TLPRepairsLostTail(t *testing.T) {
	h := newRACKHarness(t)
	h.app.Write(strings.Repeat("x", 4000))
	wantSegs(t, "four segments", h.sentSegs(), 1, 2, 3, 4)
	h.advance(rackRTT)
	h.sackACK(3) // 1 and 2 arrived, 3 and 4 are lost
	acked := h.now
	h.advanceToDeadline()
	if waited := h.now.Sub(acked); waited >= h.c.RTO() || waited > 3*rackRTT {
		t.Fatalf("the probe went out %v after the last ACK: want about 2*SRTT, before the RTO %v", waited, h.c.RTO())
	}
	wantSegs(t, "RFC 8985 §7.3: the probe resends the last segment", h.sentSegs(), 4)
	h.advance(rackRTT)
	h.sackACK(3, 4, 5) // the probe arrived
	wantSegs(t, "RACK: segment 3, sent before the delivered probe, is lost", h.sentSegs(), 3)
	h.sackACK(5)
	c := h.c.Counters()
	if c.RTOs != 0 || c.TLPs != 1 || c.Retransmits != 2 {
		t.Errorf("counters %+v: want one probe, two retransmissions, no timeout", c)
	}
	if h.c.NextDeadline() != 0 {
		t.Errorf("a timer is still armed after everything was acknowledged")
	}
}

// Segment 1 arrives 1 ms after segment 2 (min_RTT/4 = 2.5 ms of
// reordering window, RFC 8985 §6.2 step 4): no retransmission, and RACK
// notes the reordering. Had it not arrived, the reordering timer would
// have resent it when the window passed, long before the RTO.
func TestEstablished_ReorderingWithinRACKWindowNoRetransmit(t *testing.T) {
	for _, lost := range []bool{false, true} {
		h := newRACKHarness(t)
		h.app.Write(strings.Repeat("x", 8000))
		h.sentSegs()
		h.advance(rackRTT)
		h.sackACK(1, 2, 3) // segment 2 overtook segment 1
		wantSegs(t, "one SACKed segment within the reordering window", h.sentSegs())
		sacked := h.now
		if !lost {
			h.advance(time.Millisecond)
			h.sackACK(3) // segment 1 arrives
			wantSegs(t, "reordered, not lost: nothing is resent", h.sentSegs())
			h.sackACK(9)
			if c := h.c.Counters(); c.Retransmits != 0 || c.RACKLost != 0 || c.RTOs != 0 {
				t.Errorf("counters %+v: want no retransmission for reordering within the window", c)
			}
			if !h.c.lr.rack.reorderingSeen {
				t.Error("RACK did not note the reordering (RFC 8985 §6.2 step 3)")
			}
			continue
		}
		h.advanceToDeadline()
		if waited := h.now.Sub(sacked); waited > rackRTT/4 {
			t.Fatalf("the reordering timer fired %v after the SACK, want within min_RTT/4", waited)
		}
		wantSegs(t, "RACK's reordering timer: segment 1 is lost", h.sentSegs(), 1)
		if c := h.c.Counters(); c.RTOs != 0 || c.RACKLost != 1 {
			t.Errorf("counters %+v: want one RACK loss, no timeout", c)
		}
	}
}
