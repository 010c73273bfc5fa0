package tcp

import "time"

// rtoEstimator computes the retransmission timeout of RFC 6298.
type rtoEstimator struct {
	srtt, rttvar time.Duration
	rto          time.Duration
	min, max     time.Duration
	hasSample    bool
}

func newRTOEstimator(initial, min, max time.Duration) rtoEstimator {
	return rtoEstimator{rto: initial, min: min, max: max}
}

// clockGranularity is G of RFC 6298 §2: our clock is nanoseconds, but the
// timestamps option ticks in milliseconds.
const clockGranularity = time.Millisecond

// sample feeds one RTT measurement R (RFC 6298 §2.2 and §2.3).
func (e *rtoEstimator) sample(r time.Duration) {
	if r <= 0 {
		r = time.Microsecond
	}
	if !e.hasSample {
		// §2.2: SRTT <- R, RTTVAR <- R/2.
		e.srtt = r
		e.rttvar = r / 2
		e.hasSample = true
	} else {
		// §2.3: RTTVAR <- (1 - 1/4) * RTTVAR + 1/4 * |SRTT - R'|,
		// then SRTT <- (1 - 1/8) * SRTT + 1/8 * R'.
		d := e.srtt - r
		if d < 0 {
			d = -d
		}
		e.rttvar = e.rttvar - e.rttvar/4 + d/4
		e.srtt = e.srtt - e.srtt/8 + r/8
	}
	// RTO <- SRTT + max(G, K*RTTVAR), K = 4 (§2.3), with the minimum
	// applied to the variance term instead of to the sum (§2.4 leaves the
	// minimum to the implementation): RTO >= SRTT + RTOMin. Linux does the
	// same (its rttvar is floored at tcp_rto_min), and it keeps a peer that
	// delays its ACKs by up to the 200 ms of RFC 9293 §3.8.6.3's common
	// practice from meeting a timer that fires at exactly 200 ms: the
	// delayed ACK arrives after RTT + delay <= SRTT + RTOMin.
	e.rto = min(e.srtt+max(clockGranularity, 4*e.rttvar, e.min), e.max)
}

func (e *rtoEstimator) clamp(d time.Duration) time.Duration {
	return min(max(d, e.min), e.max)
}

// backedOff returns the timeout after n back-offs: RTO * 2^n, at most the
// maximum (RFC 6298 §5.5).
func (e *rtoEstimator) backedOff(n int) time.Duration {
	d := e.rto
	for i := 0; i < n && d < e.max; i++ {
		d *= 2
	}
	return e.clamp(d)
}

// SRTT returns the smoothed round-trip time (zero before a sample).
func (e *rtoEstimator) SRTT() time.Duration { return e.srtt }
