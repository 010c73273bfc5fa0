package cc

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// hsPath drives one algorithm through rounds of slow start: the sender
// keeps cwnd bytes in flight, in 1000-byte segments, and each ACK covers
// one segment and carries the round's RTT sample.
type hsPath struct {
	a   Algorithm
	una seqnum.V32
}

const hsMSS = 1000

// round runs one round trip whose ACKs all measure rtt and returns the
// cwnd at its end.
func (p *hsPath) round(rtt time.Duration) int {
	end := p.una.Add(seqnum.Size32(p.a.CWnd()))
	for p.una.LessThan(end) {
		p.una = p.una.Add(hsMSS)
		nxt := p.una.Add(seqnum.Size32(p.a.CWnd()))
		p.a.OnAck(t0, Ack{Acked: hsMSS, SRTT: rtt, CwndLimited: true, RTT: rtt, Una: p.una, SndNxt: nxt})
	}
	return p.a.CWnd()
}

func hsPhaseOf(a Algorithm) uint8 {
	switch x := a.(type) {
	case *Cubic:
		return x.hs.phase
	case *NewReno:
		return x.hs.phase
	}
	return 255
}

func bothAlgorithms() []Algorithm { return []Algorithm{NewCubic(hsMSS), NewNewReno(hsMSS)} }

// An RTT that grows by more than RttThresh (here the 4 ms floor: 20 ms /
// 8 is less) moves slow start into CSS, which grows a quarter as fast;
// after CSS_ROUNDS rounds slow start ends with ssthresh = cwnd, and the
// next ACK is congestion avoidance (RFC 9406 §4.2).
func TestHyStart_RTTGrowthExitsIntoCSSThenAvoidance(t *testing.T) {
	for _, a := range bothAlgorithms() {
		p := &hsPath{a: a}
		for range 3 {
			p.round(20 * time.Millisecond)
		}
		if hsPhaseOf(a) != hsPhaseSlowStart || !a.InSlowStart() {
			t.Fatalf("%s: phase %d after steady RTTs, want slow start", a.Name(), hsPhaseOf(a))
		}
		// Growth of 3 ms is below the threshold: still slow start.
		before := a.CWnd()
		if after := p.round(23 * time.Millisecond); hsPhaseOf(a) != hsPhaseSlowStart || after < 2*before-2*hsMSS {
			t.Fatalf("%s: 3 ms more RTT: phase %d, cwnd %d -> %d; want slow start, doubling", a.Name(), hsPhaseOf(a), before, after)
		}
		// 5 ms more than the last round's minimum: CSS.
		p.round(28 * time.Millisecond)
		if hsPhaseOf(a) != hsPhaseCSS {
			t.Fatalf("%s: RTT up 5 ms: phase %d, want CSS", a.Name(), hsPhaseOf(a))
		}
		// A whole round of CSS grows cwnd by a quarter of slow start's.
		before = a.CWnd()
		after := p.round(28 * time.Millisecond)
		if lo, hi := before+before/4-hsMSS, before+before/4+hsMSS; after < lo || after > hi {
			t.Errorf("%s: a CSS round took cwnd %d -> %d, want about %d", a.Name(), before, after, before+before/4)
		}
		rounds := 2 // the round that entered CSS was its first
		for a.InSlowStart() && rounds < 10 {
			p.round(28 * time.Millisecond)
			rounds++
		}
		if a.InSlowStart() || a.SSThresh() < a.CWnd()-a.CWnd()/50 || hsPhaseOf(a) != hsPhaseDone {
			t.Fatalf("%s: after %d CSS rounds: ssthresh %d cwnd %d phase %d; want slow start over, ssthresh = cwnd (within the partial round after it)",
				a.Name(), rounds, a.SSThresh(), a.CWnd(), hsPhaseOf(a))
		}
		if rounds != hsCSSRounds+1 {
			t.Errorf("%s: slow start ended %d rounds after CSS began, want CSS_ROUNDS = %d (+1 for the round it began in)",
				a.Name(), rounds, hsCSSRounds)
		}
		// Congestion avoidance: less than 10% growth in a round.
		before = a.CWnd()
		if after := p.round(28 * time.Millisecond); after > before+before/10 {
			t.Errorf("%s: after slow start cwnd %d -> %d in a round, want congestion avoidance", a.Name(), before, after)
		}
	}
}

// An RTT that falls back below CSS's baseline says the exit was spurious:
// slow start resumes at full speed (RFC 9406 §4.2).
func TestHyStart_RTTFallsBackResumesSlowStart(t *testing.T) {
	for _, a := range bothAlgorithms() {
		p := &hsPath{a: a}
		for range 3 {
			p.round(20 * time.Millisecond)
		}
		p.round(30 * time.Millisecond)
		if hsPhaseOf(a) != hsPhaseCSS {
			t.Fatalf("%s: phase %d after 10 ms more RTT, want CSS", a.Name(), hsPhaseOf(a))
		}
		p.round(21 * time.Millisecond)
		if hsPhaseOf(a) != hsPhaseSlowStart {
			t.Fatalf("%s: phase %d after the RTT fell back, want slow start", a.Name(), hsPhaseOf(a))
		}
		before := a.CWnd()
		if after := p.round(21 * time.Millisecond); after < 2*before-2*hsMSS || !a.InSlowStart() {
			t.Errorf("%s: resumed slow start took cwnd %d -> %d, want it doubled", a.Name(), before, after)
		}
	}
}

// Loss ends HyStart++; the slow start after a timeout is a standard one,
// however the RTT grows (RFC 9406 §4.2, §4.3).
func TestHyStart_LossEndsIt(t *testing.T) {
	for _, a := range bothAlgorithms() {
		p := &hsPath{a: a}
		p.round(20 * time.Millisecond)
		a.OnRetransmitTimeout(t0, a.CWnd())
		for _, rtt := range []time.Duration{20, 20, 40, 60} {
			p.round(rtt * time.Millisecond)
		}
		if hsPhaseOf(a) != hsPhaseDone {
			t.Errorf("%s: phase %d after a timeout, want done", a.Name(), hsPhaseOf(a))
		}
	}
}
