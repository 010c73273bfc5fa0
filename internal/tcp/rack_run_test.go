package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// A run sent as one (Config.GSOMaxPayload) is one RACK record. When it is
// deemed lost with several holes among SACKed segments, resending its
// first hole must not make RACK forget the others: each hole is resent
// in turn, none of the SACKed segments is.
func TestRACK_LostRunResendsEveryHole(t *testing.T) {
	const mss = 1000
	una := seqnum.V32(5000)
	at := func(i int) seqnum.V32 { return una.Add(seqnum.Size32(i * mss)) }
	var r rack
	var sb Scoreboard
	sb.Init(una, mss)
	t0 := clock.Instant(time.Second)
	r.sent(at(0), at(6), t0, false) // the run: segments 0-5
	r.sent(at(6), at(7), t0.Add(time.Microsecond), false)
	// 1, 3, 5 and 6 arrive; 0, 2 and 4 were lost.
	now := t0.Add(10 * time.Millisecond)
	sb.Update(una, at(7), []wire.SACKBlock{{Left: at(5), Right: at(7)}, {Left: at(3), Right: at(4)}, {Left: at(1), Right: at(2)}})
	r.onACK(&rackACK{now: now, sndUna: una, sb: &sb})
	if lost, _ := r.detectLoss(now.Add(time.Millisecond), 0); lost != 1 {
		t.Fatalf("%d records deemed lost, want the run", lost)
	}
	var resent []int
	for range 10 {
		s, ok := r.nextLost(una, &sb, mss)
		if !ok {
			break
		}
		resent = append(resent, int(s.Seq.Sub(una))/mss)
		r.sent(s.Seq, s.Seq.Add(seqnum.Size32(s.Len)), now.Add(time.Millisecond), true)
	}
	if len(resent) != 3 || resent[0] != 0 || resent[1] != 2 || resent[2] != 4 {
		t.Fatalf("resent segments %v, want [0 2 4]", resent)
	}
}

// The tail of a run is SACKed, a segment before it lost: the SACKed
// segments were sent after the lost one (RFC 8985 §6.2's
// RACK_sent_after breaks the tie of a shared send time by sequence
// number), so RACK deems it lost one reordering window later, as it
// would had the run gone segment by segment, instead of waiting for a
// probe or the RTO.
func TestRACK_SACKedTailOfARunMarksTheHoleBeforeIt(t *testing.T) {
	const mss = 1000
	una := seqnum.V32(5000)
	at := func(i int) seqnum.V32 { return una.Add(seqnum.Size32(i * mss)) }
	var r rack
	var sb Scoreboard
	sb.Init(una, mss)
	t0 := clock.Instant(time.Second)
	r.sent(at(0), at(4), t0, false) // the run: segments 0-3, the last in flight
	// 0 and 1 arrive, 2 is lost, 3 arrives.
	now := t0.Add(10 * time.Millisecond)
	sb.Update(at(2), at(4), []wire.SACKBlock{{Left: at(3), Right: at(4)}})
	r.onACK(&rackACK{now: now, sndUna: at(2), sb: &sb})
	if lost, _ := r.detectLoss(now.Add(time.Millisecond), 0); lost != 1 {
		t.Fatalf("%d records deemed lost, want the run's hole", lost)
	}
	s, ok := r.nextLost(at(2), &sb, mss)
	if !ok || s.Seq != at(2) || s.Len != mss {
		t.Fatalf("resends %+v (%v), want segment 2 alone", s, ok)
	}
	// Segments sent after the run are still judged by their own times.
	r.sent(at(4), at(5), now, false)
	if lost, timeout := r.detectLoss(now.Add(time.Millisecond), 0); lost != 0 || timeout != 0 {
		t.Fatalf("new data: %d deemed lost, timer %v; want neither", lost, timeout)
	}
}
