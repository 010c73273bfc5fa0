package cc

import (
	"errors"
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Algorithm is the congestion controller of one connection. Sizes are in
// bytes. The zero value of an implementation is not ready; obtain one from
// New, NewNewReno or NewCubic.
//
// The sender calls, in the life of a connection:
//
//   - OnAck for every ACK that newly acknowledges data, cumulatively or by
//     SACK, including during recovery (where it does not grow cwnd);
//   - OnCongestionEvent once when it enters fast recovery (RFC 5681 §3.2,
//     RFC 6675 §5 step 4.2) and OnRecoveryExit when the cumulative ACK
//     covers the recovery point;
//   - OnRetransmitTimeout on every expiry of the retransmission timer;
//   - OnRestartAfterIdle when it starts sending again after an idle period
//     longer than the RTO (RFC 5681 §4.1);
//   - SetMSS when the effective send MSS changes.
type Algorithm interface {
	// Name is "cubic" or "newreno".
	Name() string
	// CWnd is the congestion window.
	CWnd() int
	// SSThresh is the slow-start threshold; MaxSSThresh until the first
	// congestion event ("arbitrarily high", RFC 5681 §3.1).
	SSThresh() int
	// InSlowStart reports whether cwnd < ssthresh (RFC 5681 §3.1).
	InSlowStart() bool
	// OnAck reports an ACK that acknowledged new data.
	OnAck(now clock.Instant, ack Ack)
	// OnCongestionEvent reports loss detected by duplicate ACKs or SACK:
	// ssthresh and cwnd drop (RFC 5681 §3.2 step 2, RFC 9438 §4.6) and stay
	// there until OnRecoveryExit. flightSize is RFC 5681's FlightSize, the
	// bytes sent but not cumulatively acknowledged. A second call before
	// OnRecoveryExit is ignored: one reduction per recovery episode
	// (RFC 6582 §3.2, RFC 6675 §5).
	OnCongestionEvent(now clock.Instant, flightSize int)
	// OnRecoveryExit reports that the cumulative ACK reached the recovery
	// point (RFC 6582 §3.2 step 3, RFC 6675 §5): cwnd is ssthresh and grows
	// again from the next ACK.
	OnRecoveryExit(now clock.Instant)
	// OnRetransmitTimeout reports an expiry of the retransmission timer:
	// cwnd becomes the loss window, one SMSS (RFC 5681 §3.1). ssthresh is
	// lowered only if an ACK acknowledged new data since the previous
	// timeout; repeated expiries for the same segment (backoff) keep it
	// (RFC 5681 §3.1, equation (4)). It also ends any recovery episode
	// (RFC 6675 §5.1).
	OnRetransmitTimeout(now clock.Instant, flightSize int)
	// OnRestartAfterIdle reports that the sender resumes after being idle
	// longer than the RTO: cwnd is cut to the restart window
	// min(IW, cwnd) (RFC 5681 §4.1).
	OnRestartAfterIdle(now clock.Instant)
	// SetMSS sets the sender MSS (SMSS) used from now on. cwnd keeps its
	// size in bytes but never falls below one SMSS.
	SetMSS(mss int)
}

// Ack describes one ACK that acknowledged new data.
type Ack struct {
	// Acked is the number of bytes newly acknowledged by this ACK, by the
	// cumulative ACK or by SACK blocks (RFC 3465 §2: count bytes, not ACKs).
	Acked int
	// SRTT is the sender's smoothed round-trip time (RFC 6298 §2), zero
	// before the first measurement. CUBIC aims at W_cubic(t+SRTT)
	// (RFC 9438 §4.2).
	SRTT time.Duration
	// CwndLimited reports that cwnd, not the application or the peer's
	// window, limited what the sender had in flight when the acknowledged
	// data was sent. An application-limited sender does not grow cwnd
	// (RFC 7661 §4.3, RFC 9438 §5.8).
	CwndLimited bool
	// RTT is the round-trip time measured from this ACK (timestamp echo
	// or the timed segment), zero when it gave none. HyStart++ watches
	// the smallest of each round (RFC 9406 §4.2).
	RTT time.Duration
	// Una is the cumulative ACK after this ACK and SndNxt the next
	// sequence number to be sent: HyStart++'s rounds end when Una reaches
	// the SndNxt seen when the round began (RFC 9406 §4.2).
	Una, SndNxt seqnum.V32
}

// MaxSSThresh is the initial, "arbitrarily high" ssthresh (RFC 5681 §3.1).
const MaxSSThresh = 1<<31 - 1

// Names of the algorithms, as accepted by New and returned by Name.
const (
	NameCubic   = "cubic"
	NameNewReno = "newreno"
)

// ErrUnknown is returned by New for a name it does not know.
var ErrUnknown = errors.New("cc: unknown congestion control algorithm")

// ErrBadMSS is returned by New for an MSS that is not positive.
var ErrBadMSS = errors.New("cc: MSS must be positive")

// New returns the algorithm called name ("cubic", the default when name is
// empty, or "newreno") for a sender MSS of mss bytes, with cwnd at the
// initial window of RFC 6928.
func New(name string, mss int) (Algorithm, error) {
	if mss <= 0 {
		return nil, fmt.Errorf("%w: %d", ErrBadMSS, mss)
	}
	switch name {
	case NameCubic, "":
		return NewCubic(mss), nil
	case NameNewReno, "reno":
		return NewNewReno(mss), nil
	}
	return nil, fmt.Errorf("%w: %q", ErrUnknown, name)
}

// InitialWindow is RFC 6928 §2's initial window for a sender MSS of mss
// bytes: min(10*MSS, max(2*MSS, 14600)).
func InitialWindow(mss int) int {
	return min(10*mss, max(2*mss, 14600))
}

// lossState is what both algorithms track beyond the window itself.
type lossState struct {
	mss      int
	ssthresh int
	// inRecovery is set between OnCongestionEvent and OnRecoveryExit (or a
	// timeout); cwnd does not grow meanwhile (RFC 6675 §5: the sender
	// sends by pipe, the window stays at ssthresh).
	inRecovery bool
	// rtoPending is set by a timeout and cleared by the next ACK of new
	// data: while set, further timeouts are backoffs of the same segment
	// and do not lower ssthresh again (RFC 5681 §3.1).
	rtoPending bool
	// afterRTO is set by a timeout and cleared by the next congestion
	// event: slow start then counts at most one SMSS per ACK
	// (RFC 3465 §2.3, L = 1*SMSS after a retransmission timeout).
	afterRTO bool
	// hs is HyStart++ (RFC 9406) for the first slow start.
	hs hystart
}

func newLossState(mss int) lossState {
	return lossState{mss: mss, ssthresh: MaxSSThresh, hs: newHystart()}
}

// slowStartIncrease is how many bytes one ACK adds to cwnd in slow start:
// the bytes it acknowledged, at most RFC 3465's L, and a quarter of that
// in HyStart++'s Conservative Slow Start (RFC 9406 §4.2). exit reports
// that HyStart++ ends slow start now: the caller sets ssthresh to cwnd.
func (s *lossState) slowStartIncrease(a Ack) (inc int, exit bool) {
	inc = min(a.Acked, s.abcLimit()) / s.hs.growthDivisor()
	return inc, s.hs.onSlowStartAck(a)
}

// abcLimit is RFC 3465's L: how many bytes one ACK may add to cwnd in slow
// start. After a timeout it is 1*SMSS (§2.3). Otherwise 12*SMSS, a value
// chosen by measurement between RFC 9406 §4.2's 8*SMSS for a sender
// without pacing inside HyStart++ and Linux's tcp_slow_start, which has no
// limit: a receiver that ACKs a burst at once (a stretch ACK of 8-24
// segments when a path delivers in bursts, and between two stacks in one
// process) held to 2*SMSS per ACK took about 1 s instead of 0.1 s to open
// a 10 ms, 1 Gbit/s path; with no limit 128 flows over an in-memory pipe
// built windows whose queued data waited long enough for spurious
// timeouts (7-22 per GiB, Jain's index down to 0.90, against 0.3-2.8 and
// 0.99 at 12), and 8 left the 10 ms path's ramp a little slower (0.895
// against 0.917 Gbit/s over 5 s, medians of 3) — BENCHMARKS.md, "Long
// paths".
func (s *lossState) abcLimit() int {
	if s.afterRTO {
		return s.mss
	}
	return 12 * s.mss
}

// onAckEntry does the bookkeeping common to both algorithms and reports
// whether the window may grow on this ACK.
func (s *lossState) onAckEntry(acked int, cwndLimited bool) bool {
	if acked <= 0 {
		return false
	}
	s.rtoPending = false
	return cwndLimited && !s.inRecovery
}
