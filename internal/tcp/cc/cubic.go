package cc

import (
	"math"

	"github.com/teardown-lab/teardown/clock"
)

// CUBIC's constants (RFC 9438 §4.1, §4.3, §4.6).
const (
	// cubicC is C, in segments per second cubed.
	cubicC = 0.4
	// betaCubic is β_cubic, the multiplicative decrease factor.
	betaCubic = 0.7
	// alphaCubic is α_cubic = 3*(1-β_cubic)/(1+β_cubic) ≈ 0.5294, the
	// additive increase per RTT, in segments, that makes the Reno-friendly
	// estimate W_est match Reno's average rate with β_cubic (§4.3).
	alphaCubic = 3 * (1 - betaCubic) / (1 + betaCubic)
)

// Cubic is RFC 9438's CUBIC. Slow start is RFC 5681's with RFC 3465 byte
// counting and HyStart++ (RFC 9406, hystart.go); the undo of spurious congestion
// events (RFC 9438 §4.9) is not implemented.
//
// Internally the windows are float64 bytes; CWnd truncates. RFC 9438
// states its formulas in segments: a window of W segments is W*SMSS bytes
// here, and C is scaled accordingly.
type Cubic struct {
	lossState
	cwnd float64
	// wMax is W_max, the window just before the last reduction, lowered
	// by fast convergence (§4.7). Zero until the first congestion event.
	wMax float64
	// cwndPrior is cwnd_prior, the window when ssthresh was last set
	// (§4.6); W_est switches to Reno's α = 1 once it reaches it (§4.3).
	cwndPrior float64
	// k is K (§4.2), in seconds: when W_cubic returns to W_max.
	k float64
	// wEst is W_est, the Reno-friendly estimate (§4.3).
	wEst float64
	// epochStart is t_epoch, when the current congestion avoidance stage
	// began; zero when none has begun since the last reduction.
	epochStart clock.Instant
	// lastAck is when OnAck was last called, for excluding
	// application-limited time from t (§5.8).
	lastAck clock.Instant
	// rtoEpoch makes the first congestion avoidance stage after a timeout
	// start with K = 0 and W_max = cwnd (§4.8).
	rtoEpoch bool
}

var _ Algorithm = (*Cubic)(nil)

// NewCubic returns a CUBIC controller with cwnd at the initial window
// (RFC 6928) and ssthresh at MaxSSThresh. mss must be positive.
func NewCubic(mss int) *Cubic {
	return &Cubic{
		lossState: newLossState(mss),
		cwnd:      float64(InitialWindow(mss)),
	}
}

// Name returns "cubic".
func (c *Cubic) Name() string { return NameCubic }

// CWnd returns the congestion window in bytes.
func (c *Cubic) CWnd() int { return int(c.cwnd) }

// SSThresh returns the slow-start threshold in bytes.
func (c *Cubic) SSThresh() int { return c.ssthresh }

// InSlowStart reports whether cwnd < ssthresh.
func (c *Cubic) InSlowStart() bool { return c.cwnd < float64(c.ssthresh) }

// OnAck grows cwnd by slow start below ssthresh and by the cubic function
// (or the Reno-friendly estimate) above it.
func (c *Cubic) OnAck(now clock.Instant, a Ack) {
	if !a.CwndLimited && c.epochStart != 0 && c.lastAck != 0 && now > c.lastAck {
		// §5.8: an application-limited sender does not advance along
		// the curve; shift t_epoch by the time it spent limited.
		c.epochStart += now - c.lastAck
	}
	c.lastAck = now
	if !c.onAckEntry(a.Acked, a.CwndLimited) {
		return
	}
	if c.cwnd < float64(c.ssthresh) {
		// RFC 9438 §4.10: standard slow start (RFC 5681 §3.1, RFC 3465).
		// RFC 9406 §4.2: HyStart++ may slow it down (CSS) or end it.
		inc, exit := c.slowStartIncrease(a)
		c.cwnd = min(c.cwnd+float64(inc), float64(c.ssthresh))
		if exit {
			c.ssthresh = int(c.cwnd)
		}
		return
	}
	if c.epochStart == 0 {
		c.startEpoch(now)
	}
	c.congestionAvoidance(now, a)
}

// startEpoch begins a congestion avoidance stage (RFC 9438 §4.2).
func (c *Cubic) startEpoch(now clock.Instant) {
	c.epochStart = now
	c.wEst = c.cwnd // §4.3: W_est starts at cwnd_epoch
	if c.rtoEpoch || c.cwnd >= c.wMax {
		// §4.8 after a timeout, and whenever the stage starts at or above
		// W_max: the curve starts at its plateau, K = 0.
		c.rtoEpoch = false
		c.wMax = c.cwnd
		c.k = 0
		return
	}
	// §4.2: K = cubic_root((W_max - cwnd_epoch)/C), in segments.
	c.k = cbrt((c.wMax - c.cwnd) / float64(c.mss) / cubicC)
}

// congestionAvoidance applies §4.2-§4.5 to one ACK.
func (c *Cubic) congestionAvoidance(now clock.Instant, a Ack) {
	t := now.Sub(c.epochStart).Seconds()
	acked := float64(a.Acked)
	// §4.3: W_est += α_cubic * segments_acked / cwnd, with α = 1 once
	// W_est has reached cwnd_prior.
	alpha := alphaCubic
	if c.wEst >= c.cwndPrior {
		alpha = 1
	}
	c.wEst += float64(alpha * acked * float64(c.mss) / c.cwnd)
	if c.wCubic(t) < c.wEst {
		// §4.3 Reno-friendly region: cwnd follows W_est.
		c.cwnd = max(c.cwnd, c.wEst)
	} else {
		// §4.4 concave and §4.5 convex regions: aim at W_cubic(t+RTT),
		// bounded to [cwnd, 1.5*cwnd] (§4.2), and close the gap by
		// (target-cwnd)/cwnd per segment acknowledged.
		target := c.wCubic(t + a.SRTT.Seconds())
		target = min(max(target, c.cwnd), float64(1.5*c.cwnd))
		c.cwnd += float64((target - c.cwnd) * acked / c.cwnd)
	}
	c.cwnd = min(c.cwnd, float64(MaxSSThresh))
}

// wCubic is W_cubic(t) = C*(t-K)^3 + W_max (RFC 9438 §4.2, equation 1), in
// bytes, for t seconds into the current congestion avoidance stage.
func (c *Cubic) wCubic(t float64) float64 {
	d := t - c.k
	d3 := float64(d*d) * d
	return float64(cubicC*d3*float64(c.mss)) + c.wMax
}

// OnCongestionEvent applies fast convergence (§4.7) and multiplicative
// decrease (§4.6): ssthresh = max(FlightSize*β_cubic, 2*SMSS), cwnd =
// ssthresh.
func (c *Cubic) OnCongestionEvent(_ clock.Instant, flightSize int) {
	if c.inRecovery {
		return
	}
	c.inRecovery = true
	c.afterRTO = false
	c.hs.stop() // RFC 9406 §4.2: loss ends slow start and CSS
	c.reduce(flightSize)
	c.cwnd = float64(c.ssthresh)
}

// reduce sets W_max (with fast convergence), cwnd_prior and ssthresh from
// the current cwnd and flightSize, and ends the congestion avoidance stage.
func (c *Cubic) reduce(flightSize int) {
	// §4.7: a window that did not regain the previous W_max suggests a new
	// flow is competing; release bandwidth by remembering less.
	if c.cwnd < c.wMax {
		c.wMax = float64(c.cwnd*(1+betaCubic)) / 2
	} else {
		c.wMax = c.cwnd
	}
	c.cwndPrior = c.cwnd
	c.ssthresh = max(int(float64(flightSize)*betaCubic), 2*c.mss)
	c.epochStart = 0
}

// OnRecoveryExit ends recovery; the next ACK starts a new congestion
// avoidance stage from cwnd = ssthresh.
func (c *Cubic) OnRecoveryExit(_ clock.Instant) {
	if !c.inRecovery {
		return
	}
	c.inRecovery = false
	c.cwnd = float64(c.ssthresh)
	c.epochStart = 0
}

// OnRetransmitTimeout applies §4.8: ssthresh as in §4.6 (on the first
// timeout for a segment), cwnd = 1 SMSS, and the next congestion
// avoidance stage starts with K = 0 and W_max = its initial cwnd.
func (c *Cubic) OnRetransmitTimeout(_ clock.Instant, flightSize int) {
	if !c.rtoPending {
		wMax := c.wMax
		c.reduce(flightSize)
		c.wMax = wMax // §4.8 sets W_max when the stage begins instead
	}
	c.rtoPending, c.afterRTO, c.rtoEpoch, c.inRecovery = true, true, true, false
	c.hs.stop() // later slow starts are standard ones (RFC 9406 §4.3)
	c.cwnd = float64(c.mss)
	c.epochStart = 0
}

// OnRestartAfterIdle cuts cwnd to min(IW, cwnd) (RFC 5681 §4.1) and ends
// the congestion avoidance stage, so idle time never counts in t.
func (c *Cubic) OnRestartAfterIdle(_ clock.Instant) {
	c.cwnd = min(c.cwnd, float64(InitialWindow(c.mss)))
	c.epochStart = 0
}

// SetMSS sets SMSS; cwnd keeps its size in bytes, at least one SMSS.
func (c *Cubic) SetMSS(mss int) {
	if mss <= 0 {
		return
	}
	c.mss = mss
	c.cwnd = max(c.cwnd, float64(mss))
}

// cbrt returns the real cube root of x >= 0 (0 for x <= 0) using only
// IEEE 754 basic operations, so that it rounds the same on every platform.
// Newton's iteration y' = (2y + x/y²)/3 started above the root decreases
// monotonically to it; it stops when rounding stops the descent.
func cbrt(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 1) {
		return 0
	}
	_, e := math.Frexp(x) // x < 2^e, so cbrt(x) < 2^ceil(e/3)
	ceil3 := e / 3
	if e > 0 && e%3 != 0 {
		ceil3++
	}
	y := math.Ldexp(1, ceil3)
	for range 200 {
		next := (float64(2*y) + x/float64(y*y)) / 3
		if next >= y {
			break
		}
		y = next
	}
	return y
}
