package cc

import (
	"math"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// A round-based fluid model of one flow on a path: every round trip the
// sender sends its window; if the window exceeds what the path holds
// (bandwidth-delay product plus queue), one segment is lost, the sender
// spends that round trip in recovery and leaves it at its end. Otherwise
// every segment is acknowledged, ACKs evenly spaced over the round trip.

type simRound struct {
	at   clock.Instant
	cwnd int  // window sent in this round
	loss bool // the round lost a segment
}

const simMSS = 1000

func simulate(a Algorithm, capacity func(round int) int, rtt time.Duration, rounds int) []simRound {
	out := make([]simRound, 0, rounds)
	now := t0
	for r := range rounds {
		w := a.CWnd()
		segs := max(w/simMSS, 1)
		loss := w > capacity(r)
		if loss {
			a.OnCongestionEvent(now, w)
		}
		for i := range segs {
			a.OnAck(now.Add(rtt*time.Duration(i)/time.Duration(segs)), Ack{Acked: simMSS, SRTT: rtt, CwndLimited: true})
		}
		if loss {
			a.OnRecoveryExit(now.Add(rtt))
		}
		out = append(out, simRound{at: now, cwnd: w, loss: loss})
		now = now.Add(rtt)
	}
	return out
}

func lossRounds(rs []simRound) []int {
	var l []int
	for i, r := range rs {
		if r.loss {
			l = append(l, i)
		}
	}
	return l
}

func TestSimulation_NewRenoSawtooth(t *testing.T) {
	const capSegs = 100
	rs := simulate(NewNewReno(simMSS), func(int) int { return capSegs * simMSS }, 100*time.Millisecond, 400)
	losses := lossRounds(rs)
	if len(losses) < 5 {
		t.Fatalf("only %d losses in 400 rounds: no sawtooth", len(losses))
	}
	for k := 2; k < len(losses); k++ {
		at, prev := losses[k], losses[k-1]
		// The window that lost was just above capacity; the next round
		// starts at half of it (RFC 5681 eq. (4)).
		if w := rs[at].cwnd; w <= capSegs*simMSS || w > (capSegs+1)*simMSS {
			t.Errorf("loss %d at cwnd %d, want just above the capacity %d", k, w, capSegs*simMSS)
		}
		if got, want := rs[at+1].cwnd, rs[at].cwnd/2; got != want {
			t.Errorf("after loss %d cwnd %d, want half of %d", k, got, rs[at].cwnd)
		}
		// Congestion avoidance: one SMSS per round trip between losses
		// (RFC 3465 §2.1). The model sends whole segments only, so a round
		// whose window is not a multiple of SMSS may fall short and grow
		// by nothing; on average it is still about one SMSS per RTT.
		end := at + 2
		for ; end < len(rs) && !rs[end].loss; end++ {
			if d := rs[end].cwnd - rs[end-1].cwnd; d != 0 && d != simMSS {
				t.Fatalf("round %d grew cwnd by %d, want 0 or one SMSS", end, d)
			}
		}
		if end < len(rs) {
			if avg := float64(rs[end].cwnd-rs[at+1].cwnd) / float64(end-at-1); avg < 0.9*simMSS {
				t.Errorf("cycle after loss %d grew %.0f bytes per RTT, want about one SMSS", k, avg)
			}
		}
		if period := at - prev; period < 49 || period > 53 {
			t.Errorf("sawtooth period %d rounds, want about capacity/2 = 51", period)
		}
	}
}

func TestSimulation_CubicRegainsWMaxInK(t *testing.T) {
	const capSegs = 200
	rtt := 100 * time.Millisecond
	c := NewCubic(simMSS)
	rs := simulate(c, func(int) int { return capSegs * simMSS }, rtt, 600)
	losses := lossRounds(rs)
	if len(losses) < 5 {
		t.Fatalf("only %d losses in 600 rounds", len(losses))
	}
	prevWMax := 0.0
	for k := 0; k+1 < len(losses); k++ {
		at, next := losses[k], losses[k+1]
		w := float64(rs[at].cwnd)
		// RFC 9438 §4.7 by hand: W_max = W, or W*(1+0.7)/2 when the
		// loss came below the previous W_max (fast convergence).
		wMax := w
		if w < prevWMax {
			wMax = w * (1 + betaCubic) / 2
		}
		prevWMax = wMax
		// §4.2 and §4.6: cwnd_epoch = 0.7*W, K = cbrt((W_max-cwnd_epoch)/C)
		// in segments; for W = W_max ≈ 201 segments K ≈ 5.3 s.
		K := math.Cbrt((wMax - betaCubic*w) / simMSS / cubicC)
		if k < 2 {
			continue // the slow-start overshoot and its aftermath
		}
		// The window follows the curve W_cubic(t) = C*(t-K)^3 + W_max
		// from the epoch until the next loss; it aims one RTT ahead and
		// moves per ACK, so allow 2% of W_max.
		epoch := rs[at+1].at // the first round after recovery
		for r := at + 1; r < next; r++ {
			tt := rs[r].at.Sub(epoch).Seconds()
			want := wMax + cubicC*math.Pow(tt-K, 3)*simMSS
			if got := float64(rs[r].cwnd); math.Abs(got-want) > 0.02*wMax {
				t.Fatalf("loss %d, t = %.1f s: cwnd %.0f, W_cubic %.0f", k, tt, got, want)
			}
		}
		// Where W_max is below capacity, the window is back at W_max
		// after K seconds.
		if kr := at + 1 + int(math.Round(K/rtt.Seconds())); wMax < capSegs*simMSS && kr < next {
			if got := float64(rs[kr].cwnd); math.Abs(got-wMax) > 0.01*wMax {
				t.Errorf("loss %d: cwnd %.0f at t = K = %.2f s, want W_max %.0f", k, got, K, wMax)
			}
		}
		// Concave: the first half of K gains most of the distance
		// (7/8 of it on the curve), the second half little.
		half := at + 1 + int(K/2/rtt.Seconds())
		full := at + 1 + int(K/rtt.Seconds())
		first, second := rs[half].cwnd-rs[at+1].cwnd, rs[full].cwnd-rs[half].cwnd
		if first < 3*second {
			t.Errorf("loss %d: growth %d in the first half of K and %d in the second; not concave", k, first, second)
		}
	}
}

func TestSimulation_CubicConvexAboveWMax(t *testing.T) {
	// The path's capacity quadruples after the first losses: once past
	// W_max CUBIC probes, slowly at first, then faster (§4.5).
	rtt := 100 * time.Millisecond
	c := NewCubic(simMSS)
	capacity := func(r int) int {
		if r < 100 {
			return 100 * simMSS
		}
		return 400 * simMSS
	}
	rs := simulate(c, capacity, rtt, 300)
	last := -1
	for _, l := range lossRounds(rs) {
		if l < 100 {
			last = l
		}
	}
	if last < 0 {
		t.Fatal("no loss before the capacity changed")
	}
	wMax := rs[last].cwnd
	k := -1
	for r := last + 1; r < len(rs); r++ {
		if rs[r].cwnd >= wMax {
			k = r
			break
		}
	}
	if k < 100 || k+30 >= len(rs) || rs[k+30].loss {
		t.Fatalf("W_max %d regained at round %d; the test wants it after round 100 with 3 s to spare", wMax, k)
	}
	g1 := rs[k+10].cwnd - rs[k].cwnd
	g2 := rs[k+20].cwnd - rs[k+10].cwnd
	g3 := rs[k+30].cwnd - rs[k+20].cwnd
	if !(g1 < g2 && g2 < g3) {
		t.Fatalf("growth over successive seconds past W_max: %d, %d, %d; want accelerating (convex)", g1, g2, g3)
	}
}
