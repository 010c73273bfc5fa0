package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// congestion is what the core needs of a congestion controller. The
// controllers of package cc plug in behind it; renoLite below stands in
// until they do.
type congestion interface {
	// window returns cwnd in bytes.
	window() int
	// onAck reports that acked bytes were newly acknowledged, with an RTT
	// sample (zero when none was taken).
	onAck(now clock.Instant, acked, inflight int, rtt time.Duration)
	// onFastRetransmit reports the loss found by duplicate ACKs (RFC 5681
	// §3.2 step 2): the controller reduces the window.
	onFastRetransmit(now clock.Instant, inflight int)
	// onRTO reports a retransmission timeout (RFC 5681 §3.1: the loss
	// window, one segment).
	onRTO(now clock.Instant, inflight int)
}

// renoLite is a minimal RFC 5681 controller: slow start, congestion
// avoidance, halving on fast retransmit, one segment after a timeout.
type renoLite struct {
	mss, cwnd, ssthresh int
}

func newRenoLite(mss, iw int) *renoLite {
	return &renoLite{mss: mss, cwnd: iw * mss, ssthresh: 1 << 30}
}

func (r *renoLite) window() int { return r.cwnd }

func (r *renoLite) onAck(_ clock.Instant, acked, _ int, _ time.Duration) {
	if r.cwnd < r.ssthresh {
		r.cwnd += min(acked, r.mss) // §3.1 slow start
	} else {
		r.cwnd += max(1, r.mss*r.mss/r.cwnd) // §3.1 congestion avoidance
	}
}

func (r *renoLite) onFastRetransmit(_ clock.Instant, inflight int) {
	r.ssthresh = max(inflight/2, 2*r.mss) // §3.2 equation (4)
	r.cwnd = r.ssthresh
}

func (r *renoLite) onRTO(_ clock.Instant, inflight int) {
	r.ssthresh = max(inflight/2, 2*r.mss)
	r.cwnd = r.mss
}
