package cc

import "github.com/teardown-lab/teardown/clock"

// NewReno is RFC 5681's congestion control with RFC 3465's byte counting
// and RFC 6582's single reduction per recovery episode.
//
// Slow start adds min(acked, L) per ACK with L = 2*SMSS (RFC 3465 §2.2);
// congestion avoidance counts acknowledged bytes and adds one SMSS each
// time a full cwnd's worth has been acknowledged (RFC 3465 §2.1, the
// byte-counting form of RFC 5681 equation (3)), so cwnd grows by one SMSS
// per round trip.
type NewReno struct {
	lossState
	cwnd int
	// bytesAcked is RFC 3465 §2.1's counter of bytes acknowledged in
	// congestion avoidance since cwnd last grew.
	bytesAcked int
}

var _ Algorithm = (*NewReno)(nil)

// NewNewReno returns a NewReno controller with cwnd at the initial window
// (RFC 6928) and ssthresh at MaxSSThresh. mss must be positive.
func NewNewReno(mss int) *NewReno {
	return &NewReno{
		lossState: newLossState(mss),
		cwnd:      InitialWindow(mss),
	}
}

// Name returns "newreno".
func (r *NewReno) Name() string { return NameNewReno }

// CWnd returns the congestion window in bytes.
func (r *NewReno) CWnd() int { return r.cwnd }

// SSThresh returns the slow-start threshold in bytes.
func (r *NewReno) SSThresh() int { return r.ssthresh }

// InSlowStart reports whether cwnd < ssthresh.
func (r *NewReno) InSlowStart() bool { return r.cwnd < r.ssthresh }

// OnAck grows cwnd by slow start or congestion avoidance.
func (r *NewReno) OnAck(_ clock.Instant, a Ack) {
	if !r.onAckEntry(a.Acked, a.CwndLimited) {
		return
	}
	if r.cwnd < r.ssthresh {
		// RFC 5681 §3.1 slow start with RFC 3465 §2.2 ABC; stop at
		// ssthresh so congestion avoidance starts from it exactly.
		// RFC 9406 §4.2: HyStart++ may slow it down (CSS) or end it.
		inc, exit := r.slowStartIncrease(a)
		r.cwnd = min(r.cwnd+inc, r.ssthresh)
		if exit {
			r.ssthresh = r.cwnd
		}
		return
	}
	// RFC 3465 §2.1: cwnd += SMSS once bytes_acked reaches cwnd.
	r.bytesAcked += a.Acked
	if r.bytesAcked >= r.cwnd {
		r.bytesAcked -= r.cwnd
		r.cwnd += r.mss
	}
}

// OnCongestionEvent sets ssthresh = max(FlightSize/2, 2*SMSS) (RFC 5681
// §3.2 equation (4)) and cwnd = ssthresh. The +3*SMSS inflation of RFC 5681
// §3.2 step 3 is left to the sender's pipe accounting (see the package
// documentation).
func (r *NewReno) OnCongestionEvent(_ clock.Instant, flightSize int) {
	if r.inRecovery {
		return
	}
	r.inRecovery = true
	r.afterRTO = false
	r.hs.stop() // RFC 9406 §4.2: loss ends slow start and CSS
	r.ssthresh = max(flightSize/2, 2*r.mss)
	r.cwnd = r.ssthresh
	r.bytesAcked = 0
}

// OnRecoveryExit ends recovery with cwnd = ssthresh, the second of the two
// choices of RFC 6582 §3.2 step 3 (the window was already deflated to it).
func (r *NewReno) OnRecoveryExit(_ clock.Instant) {
	if !r.inRecovery {
		return
	}
	r.inRecovery = false
	r.cwnd = r.ssthresh
	r.bytesAcked = 0
}

// OnRetransmitTimeout applies RFC 5681 §3.1: ssthresh per equation (4) on
// the first timeout for a segment, cwnd = 1 SMSS (the loss window).
func (r *NewReno) OnRetransmitTimeout(_ clock.Instant, flightSize int) {
	if !r.rtoPending {
		r.ssthresh = max(flightSize/2, 2*r.mss)
	}
	r.rtoPending, r.afterRTO, r.inRecovery = true, true, false
	r.hs.stop() // later slow starts are standard ones (RFC 9406 §4.3)
	r.cwnd = r.mss
	r.bytesAcked = 0
}

// OnRestartAfterIdle cuts cwnd to RW = min(IW, cwnd) (RFC 5681 §4.1).
func (r *NewReno) OnRestartAfterIdle(_ clock.Instant) {
	r.cwnd = min(r.cwnd, InitialWindow(r.mss))
}

// SetMSS sets SMSS; cwnd keeps its size in bytes, at least one SMSS.
func (r *NewReno) SetMSS(mss int) {
	if mss <= 0 {
		return
	}
	r.mss = mss
	r.cwnd = max(r.cwnd, mss)
}
