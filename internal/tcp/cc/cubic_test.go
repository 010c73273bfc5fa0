package cc

import (
	"math"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

func TestCbrt(t *testing.T) {
	for _, x := range []float64{1e-9, 0.001, 1, 7.5, 8, 27, 75, 150, 1e6, 123456789.5, 1e18} {
		got, want := cbrt(x), math.Cbrt(x)
		if !near(got, want, want*4e-16) {
			t.Errorf("cbrt(%g) = %.17g, want %.17g", x, got, want)
		}
	}
	if cbrt(27) != 3 || cbrt(0) != 0 || cbrt(-8) != 0 || cbrt(math.NaN()) != 0 {
		t.Errorf("cbrt edge cases: cbrt(27)=%v cbrt(0)=%v cbrt(-8)=%v", cbrt(27), cbrt(0), cbrt(-8))
	}
}

// cubicAfterLoss returns a CUBIC sender (SMSS 1000) that lost at a window of
// wMaxSegs segments with that much in flight and has just left recovery.
func cubicAfterLoss(wMaxSegs int) *Cubic {
	c := NewCubic(1000)
	c.cwnd = float64(wMaxSegs * 1000)
	c.OnCongestionEvent(t0, wMaxSegs*1000)
	c.OnRecoveryExit(t0)
	return c
}

func TestCubic_MultiplicativeDecrease(t *testing.T) {
	c := cubicAfterLoss(100)
	// RFC 9438 §4.6: ssthresh = 100000 * 0.7 = 70000, cwnd = ssthresh;
	// §4.7: the first loss sets W_max = cwnd = 100000.
	if c.CWnd() != 70000 || c.SSThresh() != 70000 || c.wMax != 100000 || c.cwndPrior != 100000 {
		t.Fatalf("after loss at 100 segments: cwnd %d ssthresh %d W_max %v cwnd_prior %v; want 70000 70000 100000 100000",
			c.CWnd(), c.SSThresh(), c.wMax, c.cwndPrior)
	}
}

func TestCubic_K(t *testing.T) {
	c := cubicAfterLoss(100)
	c.OnAck(t0, ack(1000)) // first CA ACK starts the epoch
	// §4.2: K = cbrt((W_max - cwnd_epoch)/C) = cbrt((100-70)/0.4) = cbrt(75).
	// 4.217163^3 = 17.784464 * 4.217163 = 74.99998, so K ≈ 4.217163 s.
	if !near(c.k, 4.217163, 1e-6) {
		t.Fatalf("K = %.9f s, want 4.217163", c.k)
	}
	if c.epochStart != t0 || c.wEst < 70000 {
		t.Fatalf("epoch start %d, W_est %v: want t_epoch = now and W_est from cwnd_epoch", c.epochStart, c.wEst)
	}
}

func TestCubic_CurveValues(t *testing.T) {
	c := cubicAfterLoss(100)
	c.OnAck(t0, ack(1000))
	// W_cubic(t) = 0.4*(t-K)^3 + 100 segments, K = 4.2171633 (TestCubic_K);
	// times SMSS = 1000 for bytes.
	for _, tc := range []struct {
		t, want float64
		why     string
	}{
		// t = 0: (-K)^3 = -75; 0.4*-75 = -30; 100-30 = 70 segments = cwnd_epoch.
		{0, 70000, "the curve starts at cwnd_epoch"},
		// t = 1: (1-4.2171633)^3 = (-3.2171633)^3 = -33.29809; *0.4 = -13.31924.
		{1, 86680.76, "concave: fast growth far below W_max"},
		// t = 2: (-2.2171633)^3 = 4.9158132 * -2.2171633 = -10.89916; *0.4 = -4.35966.
		{2, 95640.34, "concave: slowing down near W_max"},
		// t = K: (K-K)^3 = 0.
		{4.217163326508746, 100000, "the plateau at W_max"},
		// t = 6: (1.7828367)^3 = 3.1785067 * 1.7828367 = 5.66676; *0.4 = 2.26670.
		{6, 102266.70, "convex: probing above W_max"},
	} {
		if got := c.wCubic(tc.t); !near(got, tc.want, 0.01) {
			t.Errorf("%s: W_cubic(%v) = %.2f bytes, want %.2f", tc.why, tc.t, got, tc.want)
		}
	}
}

func TestCubic_FastConvergence(t *testing.T) {
	c := NewCubic(1000)
	c.wMax = 120000 // the previous loss happened at 120 segments
	c.cwnd = 100000
	c.OnCongestionEvent(t0, 100000)
	// §4.7: cwnd 100 < W_max 120, so W_max = 100 * (1+0.7)/2 = 85 segments.
	if !near(c.wMax, 85000, 1e-9) {
		t.Fatalf("fast convergence: W_max %v, want 85000", c.wMax)
	}
	c.OnRecoveryExit(t0)
	c.OnAck(t0, ack(1000))
	// K = cbrt((85-70)/0.4) = cbrt(37.5) = 3.347165 (3.347165^3 = 37.5000).
	if !near(c.k, 3.347165, 1e-6) {
		t.Fatalf("K after fast convergence %.7f, want 3.347165", c.k)
	}
}

// driveRounds feeds c one ACK per segment of its window for rounds round
// trips of rtt, starting at start, and returns the time after the last one.
func driveRounds(c Algorithm, start clock.Instant, rtt time.Duration, rounds int) clock.Instant {
	now := start
	for range rounds {
		segs := max(c.CWnd()/1000, 1)
		for i := range segs {
			c.OnAck(now.Add(rtt*time.Duration(i)/time.Duration(segs)), Ack{Acked: 1000, SRTT: rtt, CwndLimited: true})
		}
		now = now.Add(rtt)
	}
	return now
}

func TestCubic_RenoFriendlyRegionAtShortRTT(t *testing.T) {
	c := cubicAfterLoss(10)
	rtt := 10 * time.Millisecond
	end := driveRounds(c, t0, rtt, 100)
	// K = cbrt((10-7)/0.4) = cbrt(7.5) = 1.957 s; at t = 1 s the curve is
	// at 10 + 0.4*(1-1.957)^3 = 10 - 0.351 = 9.65 segments. Reno's estimate
	// grows α_cubic = 0.529 per RTT from 7 to cwnd_prior = 10 (3/0.529 =
	// 5.7 RTTs) and then 1 per RTT: 10 + (100-5.7) ≈ 104 segments.
	if w := c.wCubic(end.Sub(c.epochStart).Seconds()); w > 10000 {
		t.Fatalf("W_cubic(1 s) = %v, the test assumes it is still below W_max", w)
	}
	if got := c.CWnd(); got < 100000 || got > 108000 {
		t.Fatalf("Reno-friendly region: cwnd %d after 100 RTTs of 10 ms, want about 104000", got)
	}
	if c.CWnd() != int(c.wEst) {
		t.Fatalf("cwnd %d does not follow W_est %v in the Reno-friendly region", c.CWnd(), c.wEst)
	}
}

func TestCubic_ConcaveGrowthAtLongRTT(t *testing.T) {
	c := cubicAfterLoss(100)
	rtt := 100 * time.Millisecond
	driveRounds(c, t0, rtt, 10) // t = 0..1 s
	w1 := float64(c.CWnd())
	// cwnd aims one RTT ahead: W_cubic(1.1 s) = 100 + 0.4*(-3.117)^3 =
	// 100 - 12.11 = 87.9 segments; per-ACK smoothing leaves it a little
	// behind, but far above Reno's 70 + 0.53*10 = 75.3.
	if w1 < 84000 || w1 > 88500 {
		t.Fatalf("CUBIC concave region: cwnd %v at t = 1 s, want 84000..88500", w1)
	}
	if c.wEst > 76000 {
		t.Fatalf("W_est %v: expected Reno's estimate near 75300", c.wEst)
	}
}

func TestCubic_NoGrowthInRecoveryOrWhenApplicationLimited(t *testing.T) {
	c := NewCubic(1000)
	c.cwnd = 50000
	c.OnCongestionEvent(t0, 50000)
	c.OnAck(t0, ack(10000))
	if c.CWnd() != 35000 {
		t.Fatalf("cwnd %d during recovery, want ssthresh 35000", c.CWnd())
	}
	c.OnRecoveryExit(t0)
	c.OnAck(t0, Ack{Acked: 10000, SRTT: time.Second})
	if c.CWnd() != 35000 {
		t.Fatalf("application-limited ACK grew cwnd to %d", c.CWnd())
	}
}

func TestCubic_ApplicationLimitedTimeIsNotOnTheCurve(t *testing.T) {
	rtt := 100 * time.Millisecond
	a, b := cubicAfterLoss(100), cubicAfterLoss(100)
	driveRounds(a, t0, rtt, 20)
	driveRounds(b, t0, rtt, 10)
	lastLimited := b.lastAck // the last cwnd-limited ACK, at t0+0.99 s
	// b's application has nothing to send for 10 s; its ACKs say so.
	gap := t0.Add(time.Second)
	for i := range 100 {
		b.OnAck(gap.Add(time.Duration(i)*rtt), Ack{Acked: 100, SRTT: rtt})
	}
	// §5.8: the time between the last cwnd-limited ACK and the last
	// application-limited one is not on the curve: t_epoch moves by it.
	if shift := b.epochStart.Sub(t0); shift != b.lastAck.Sub(lastLimited) {
		t.Fatalf("t_epoch moved by %v, want the application-limited %v", shift, b.lastAck.Sub(lastLimited))
	}
	if b.CWnd() >= a.CWnd() {
		t.Fatalf("cwnd grew to %d during application-limited ACKs", b.CWnd())
	}
	// b resumes where it was: 10 more rounds bring it within 1% of a, not
	// to the convex region 10 s further along the curve would give.
	driveRounds(b, gap.Add(10*time.Second), rtt, 10)
	if d := math.Abs(float64(a.CWnd()-b.CWnd())) / float64(a.CWnd()); d > 0.01 {
		t.Fatalf("after an application-limited pause cwnd %d, without it %d", b.CWnd(), a.CWnd())
	}
}

func TestCubic_RetransmitTimeout(t *testing.T) {
	c := NewCubic(1000)
	c.cwnd = 100000
	c.wMax = 150000
	c.OnRetransmitTimeout(t0, 100000)
	// §4.8: ssthresh per §4.6 = 0.7*100000; cwnd = 1 SMSS.
	if c.CWnd() != 1000 || c.SSThresh() != 70000 {
		t.Fatalf("RTO: cwnd %d ssthresh %d, want 1000 and 70000", c.CWnd(), c.SSThresh())
	}
	c.OnRetransmitTimeout(t0, 1000)
	if c.SSThresh() != 70000 {
		t.Fatalf("backoff lowered ssthresh to %d", c.SSThresh())
	}
	for c.InSlowStart() {
		c.OnAck(t0, ack(1000))
	}
	c.OnAck(t0.Add(time.Second), ack(1000)) // first CA ACK
	// §4.8: the first CA stage after a timeout has K = 0 and W_max =
	// the cwnd at its start (70000), not the 150000 remembered before.
	if c.k != 0 || c.wMax != 70000 {
		t.Fatalf("CA after RTO: K %v W_max %v, want 0 and 70000", c.k, c.wMax)
	}
}

func TestCubic_RestartAfterIdle(t *testing.T) {
	c := cubicAfterLoss(100)
	c.OnAck(t0, ack(1000))
	c.OnRestartAfterIdle(t0.Add(time.Minute))
	if c.CWnd() != 10000 || c.epochStart != 0 {
		t.Fatalf("restart after idle: cwnd %d epoch %d, want IW 10000 and no epoch", c.CWnd(), c.epochStart)
	}
}
