package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
)

func TestTimeWait_AcceptsNewSYN(t *testing.T) {
	rcvNxt := remoteISS + 2 // after the peer's FIN
	const recent = 5000     // TS.Recent of the old incarnation
	ts := func(v uint32) wire.TCPOptions { return wire.TCPOptions{HasTimestamp: true, TSVal: v} }
	tests := []struct {
		name    string
		tsOK    bool // the old incarnation used timestamps
		staleTS bool // TS.Recent is older than 24 days
		seg     Segment
		want    bool
	}{
		{"no timestamps, SYN beyond RCV.NXT (RFC 1122 §4.2.2.13)", false, false,
			Segment{Seq: rcvNxt + 1, Flags: SYN}, true},
		{"no timestamps, SYN at RCV.NXT", false, false, Segment{Seq: rcvNxt, Flags: SYN}, false},
		{"no timestamps, SYN below RCV.NXT: maybe an old duplicate", false, false,
			Segment{Seq: rcvNxt - 100, Flags: SYN}, false},
		{"no timestamps before, SYN with one below RCV.NXT (Linux, not RFC 6191)", false, false,
			Segment{Seq: rcvNxt - 100, Flags: SYN, Options: ts(9)}, false},
		{"SYN,ACK is not an opening SYN", false, false, Segment{Seq: rcvNxt + 1, Flags: SYN | ACK}, false},
		{"SYN,RST is not an opening SYN", false, false, Segment{Seq: rcvNxt + 1, Flags: SYN | RST}, false},
		{"newer timestamp, sequence number below (RFC 6191 §2)", true, false,
			Segment{Seq: rcvNxt - 100, Flags: SYN, Options: ts(recent + 1)}, true},
		{"equal timestamp, sequence number beyond", true, false,
			Segment{Seq: rcvNxt + 1, Flags: SYN, Options: ts(recent)}, true},
		{"equal timestamp, sequence number below", true, false,
			Segment{Seq: rcvNxt - 1, Flags: SYN, Options: ts(recent)}, false},
		{"older timestamp fails PAWS even beyond RCV.NXT (RFC 7323 §5.3)", true, false,
			Segment{Seq: rcvNxt + 1, Flags: SYN, Options: ts(recent - 1)}, false},
		{"older timestamp against a TS.Recent idle 24 days (RFC 7323 §5.5)", true, true,
			Segment{Seq: rcvNxt + 1, Flags: SYN, Options: ts(recent - 1)}, true},
		{"timestamps before, SYN without one beyond RCV.NXT", true, false,
			Segment{Seq: rcvNxt + 1, Flags: SYN}, true},
		{"timestamps before, SYN without one below RCV.NXT", true, false,
			Segment{Seq: rcvNxt - 1, Flags: SYN}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, TimeWait)
			if h.c.rcvNxt != rcvNxt {
				t.Fatalf("RCV.NXT %d, want %d", h.c.rcvNxt, rcvNxt)
			}
			h.c.tsOK, h.c.tsRecent, h.c.tsRecentAt = tt.tsOK, recent, h.now
			if tt.staleTS {
				h.now = h.now.Add(25 * 24 * time.Hour)
			}
			before := *h.c
			if got := h.c.acceptsNewSYN(h.now, &tt.seg); got != tt.want {
				t.Errorf("AcceptsNewSYN = %v, want %v", got, tt.want)
			}
			if h.c.state != before.state || h.c.timers != before.timers || h.c.stats != before.stats {
				t.Error("AcceptsNewSYN changed the connection")
			}
			h.wantNothingMore()
		})
	}
}

func TestNotTimeWait_SYNNeverReincarnates(t *testing.T) {
	for _, st := range []State{Established, FinWait2, CloseWait, LastAck} {
		h := newHarness(t, st)
		if _, ok := h.c.Reincarnate(h.now, &Segment{Seq: remoteISS + 100000, Flags: SYN}, 1); ok {
			t.Errorf("%v: a SYN was accepted as a new incarnation", st)
		}
	}
}

// Reincarnate is the host's one question: whether the SYN opens a new
// incarnation, and with which ISS — beyond the old incarnation's
// sequence numbers, or the host's fresh ISN when that lies further.
func TestTimeWait_SYNReincarnates(t *testing.T) {
	beyond := localISS + 2 + 65537 // SND.NXT + a maximal unscaled window + 2
	tests := []struct {
		name    string
		seq     seqnumSize
		fresh   seqnumSize
		wantISS seqnumSize
		wantOK  bool
	}{
		{"fresh ISN below the old sequence space: beyond it", remoteISS + 10, beyond - 1000, beyond, true},
		{"fresh ISN further on: the fresh one", remoteISS + 10, beyond + 1000, beyond + 1000, true},
		{"SYN below RCV.NXT: no new incarnation", remoteISS, beyond + 1000, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, TimeWait)
			before := *h.c
			iss, ok := h.c.Reincarnate(h.now, &Segment{Seq: tt.seq, Flags: SYN}, tt.fresh)
			if ok != tt.wantOK || iss != tt.wantISS {
				t.Errorf("Reincarnate = %d, %v; want %d, %v", iss, ok, tt.wantISS, tt.wantOK)
			}
			if h.c.state != before.state || h.c.timers != before.timers {
				t.Error("Reincarnate changed the connection")
			}
			h.wantNothingMore()
		})
	}
}

func TestTimeWait_NextIncarnationISS(t *testing.T) {
	h := newHarness(t, TimeWait)
	iss := h.c.nextIncarnationISS()
	// Our FIN took localISS+1; the new ISS must lie a maximal unscaled
	// window beyond, so that no old segment is taken for a new one.
	if want := localISS + 2 + 65537; iss != want {
		t.Errorf("NextIncarnationISS = %d, want SND.NXT + 65537 = %d", iss, want)
	}
	h.c.sndMax = seqnumSize(1<<32 - 65537) // the new ISS would wrap to 0
	if h.c.nextIncarnationISS() == 0 {
		t.Error("NextIncarnationISS returned 0")
	}
}

// RFC 7323 §3.2 would drop a segment without a timestamp once they were
// negotiated; Linux accepts it, and so do we.
func TestEstablished_SegmentWithoutTimestampAccepted(t *testing.T) {
	h := newHarness(t, Established)
	h.c.tsOK, h.c.tsRecent, h.c.tsRecentAt = true, 1000, h.now
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "bare"})
	if h.c.Readable() != 4 {
		t.Fatalf("readable %d, want the 4 bytes of the segment without TSopt (as Linux)", h.c.Readable())
	}
	if h.c.tsRecent != 1000 {
		t.Errorf("TS.Recent changed to %d by a segment without a timestamp", h.c.tsRecent)
	}
}
