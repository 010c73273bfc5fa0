package tcp

import (
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// The wire details a packetdrill script sees where Linux and the RFC part
// (drill/testdata/linux_*.pkt pin them against the kernel).

// rfcWire is linux with the RFC's wire details, as other profiles have.
func rfcWire() profile.Profile {
	p := profile.Linux
	p.Name, p.DelayFINACK, p.TSRecentFromDuplicate = "rfc-wire", false, false
	p.PushPastHalfWindow = false
	return p
}

// Under linux the ACK of a FIN after data waits for the delayed-ACK
// timer; under the RFC's rule it leaves at once.
func TestEstablished_FINAfterDataACK(t *testing.T) {
	for _, tc := range []struct {
		p     profile.Profile
		waits bool
	}{{profile.Linux, true}, {rfcWire(), false}} {
		h := newHarness(t, Established, withProfile(tc.p))
		h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "hello"})
		h.wantSent("quick ACK of the first data", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 6})
		h.app.Read(10)
		h.recv(seg{flags: FIN | ACK, seq: remoteISS + 6, ack: localISS + 1})
		if tc.waits {
			h.wantNothingMore()
			h.advance(h.c.Config().DelayedACK - time.Millisecond)
			h.wantNothingMore()
			h.advance(time.Millisecond)
		}
		h.wantSent(tc.p.Name+": ACK of the FIN", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 7})
		h.wantState(CloseWait)
	}
}

// A close before the delayed ACK is due sends one segment: FIN and ACK.
func TestCloseWait_CloseBeforeDelayedACK(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "hello"})
	h.wantSent("quick ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 6})
	h.recv(seg{flags: FIN | ACK | PSH, seq: remoteISS + 6, ack: localISS + 1, payload: "bye"})
	h.wantNothingMore()
	h.app.Read(10)
	h.app.Close()
	h.wantSent("FIN carrying the ACK", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 10})
	h.wantState(LastAck)
}

func tsPeer() wire.TCPOptions {
	return wire.TCPOptions{HasTimestamp: true, TSVal: 100, SACKPermitted: true}
}

func tsOn(c *Config) { c.NoTimestamps, c.NoSACK = false, false }

// An abort's RST carries the timestamp option (RFC 7323 §3.2).
func TestEstablished_AbortRSTHasTimestamp(t *testing.T) {
	h := newHarnessPeer(t, Established, tsPeer(), tsOn)
	h.app.Abort()
	out := h.wantSent("RST", seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 1})
	if o := out[0].Options; !o.HasTimestamp || o.TSEcr != 100 {
		t.Errorf("RST options %+v, want TS ecr 100", o)
	}
}

func tsSeg(s seg, val uint32) *Segment {
	return &Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: 8000, Payload: []byte(s.payload),
		Options: wire.TCPOptions{HasTimestamp: true, TSVal: val, TSEcr: 1}}
}

// A retransmitted data+FIN: a D-SACK block over data and FIN; linux
// echoes the retransmission's TSval, the RFC keeps the earlier one.
func TestCloseWait_DuplicateDataFIN(t *testing.T) {
	for _, tc := range []struct {
		p   profile.Profile
		ecr uint32
	}{{profile.Linux, 300}, {rfcWire(), 200}} {
		h := newHarnessPeer(t, Established, tsPeer(), tsOn, withProfile(tc.p))
		df := seg{flags: FIN | ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "hello"}
		h.recvSeg(tsSeg(df, 200))
		h.advance(h.c.Config().DelayedACK)
		h.wantSent("ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 7})
		h.recvSeg(tsSeg(df, 300))
		out := h.wantSent("ACK with D-SACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 7})
		o := out[0].Options
		if o.NumSACK != 1 || o.SACK[0] != (wire.SACKBlock{Left: remoteISS + 1, Right: remoteISS + 7}) || o.TSEcr != tc.ecr {
			t.Errorf("%s: options %+v, want D-SACK %d:%d and ecr %d", tc.p.Name, o, remoteISS+1, remoteISS+7, tc.ecr)
		}
	}
}

// A duplicate of out-of-order data: its D-SACK block, then the SACK block
// holding it (RFC 2883 §4.1.2).
func TestEstablished_DuplicateOutOfOrder(t *testing.T) {
	h := newHarnessPeer(t, Established, tsPeer(), tsOn)
	ooo := seg{flags: ACK, seq: remoteISS + 101, ack: localISS + 1, payload: "0123456789"}
	h.recvSeg(tsSeg(ooo, 200))
	h.wantSent("dup ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.recvSeg(tsSeg(ooo, 300))
	out := h.wantSent("dup ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	b := wire.SACKBlock{Left: remoteISS + 101, Right: remoteISS + 111}
	if o := out[0].Options; o.NumSACK != 2 || o.SACK[0] != b || o.SACK[1] != b {
		t.Errorf("options %+v, want D-SACK and SACK %v", o, b)
	}
}

// A write the peer's window (8000) cuts short: linux sets PSH on the
// segment that ends more than half that window past the last PSH (Linux's
// forced push; drill/testdata/tcp_close_unsent.pkt), the RFC's rule only
// where the send queue empties, which it does not here.
func TestEstablished_WriteCutShortByWindow(t *testing.T) {
	for _, tc := range []struct {
		p      profile.Profile
		pushed []int // segment ends, past ISS+1, that carry PSH
	}{{profile.Linux, []int{5000}}, {rfcWire(), nil}} {
		h := newHarnessPeer(t, Established, wire.TCPOptions{HasMSS: true, MSS: 1000}, withProfile(tc.p))
		h.app.Write(string(make([]byte, 10000)))
		var pushed []int
		sent := h.drain()
		for _, s := range sent {
			if s.Flags.Has(PSH) {
				pushed = append(pushed, int(s.Seq.Sub(localISS+1))+len(s.Payload))
			}
		}
		if len(sent) != 8 || fmt.Sprint(pushed) != fmt.Sprint(tc.pushed) {
			t.Errorf("%s: %d segments, PSH on those ending at %v; want 8, PSH at %v", tc.p.Name, len(sent), pushed, tc.pushed)
		}
	}
}
