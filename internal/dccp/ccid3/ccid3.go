// Package ccid3 is DCCP's TCP-Friendly Rate Control, CCID 3 (RFC 4342,
// with TFRC from RFC 5348): the sender paces packets at a rate X computed
// from the throughput equation; the receiver measures the loss event
// rate and the receive rate and reports them once per round trip.
//
// Layer and rules: a pure state machine below internal/dccp; time is an
// argument, nothing here reads a clock.
package ccid3

import (
	"encoding/binary"
	"math"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// CCID 3 option types (RFC 4342 §8).
const (
	OptLossEventRate = 192
	OptLossIntervals = 193
	OptReceiveRate   = 194
)

// TMBI is the maximum backoff interval, 64 s (RFC 5348 §4.3).
const TMBI = 64 * time.Second

// Equation is the TCP throughput equation of RFC 5348 §3.1, in bytes per
// second: s the segment size in bytes, R the round-trip time, p the loss
// event rate, with b = 1 and t_RTO = 4R as §3.1 recommends:
//
//	X = s / (R*sqrt(2*b*p/3) + t_RTO * (3*sqrt(3*b*p/8) * p * (1+32*p^2)))
func Equation(s int, R time.Duration, p float64) float64 {
	r := R.Seconds()
	if p <= 0 || r <= 0 {
		return math.Inf(1)
	}
	const b = 1.0
	tRTO := 4 * r
	den := r*math.Sqrt(2*b*p/3) + tRTO*(3*math.Sqrt(3*b*p/8)*p*(1+32*p*p))
	return float64(s) / den
}

// weights of the average loss interval (RFC 5348 §5.4), n = 8.
var weights = [8]float64{1, 1, 1, 1, 0.8, 0.6, 0.4, 0.2}

// LossIntervals holds the most recent loss intervals, newest first:
// I_0 is the open interval since the last loss event (RFC 5348 §5.4).
type LossIntervals struct {
	iv [9]float64
	n  int
}

// Start records a new loss event: the open interval closes and a new
// one of length 1 (the packet of the event) opens.
func (l *LossIntervals) Start() {
	copy(l.iv[1:], l.iv[:8])
	l.iv[0] = 1
	l.n = min(l.n+1, 9)
}

// Grow counts one more packet in the open interval.
func (l *LossIntervals) Grow() {
	if l.n > 0 {
		l.iv[0]++
	}
}

// Mean returns the average loss interval I_mean of RFC 5348 §5.4: the
// weighted mean of the closed intervals, or of the newest intervals
// including the open one if that is larger; zero before any loss.
func (l *LossIntervals) Mean() float64 {
	if l.n < 2 {
		return 0
	}
	k := l.n - 1 // closed intervals
	var tot0, tot1, wtot float64
	for i := range min(k, 8) {
		tot0 += l.iv[i] * weights[i]
		tot1 += l.iv[i+1] * weights[i]
		wtot += weights[i]
	}
	return max(tot0, tot1) / wtot
}

// P returns the loss event rate 1/I_mean, or zero before any loss.
func (l *LossIntervals) P() float64 {
	if m := l.Mean(); m > 0 {
		return 1 / m
	}
	return 0
}

// Tx is the CCID 3 sender.
type Tx struct {
	s        int
	x        float64 // allowed rate, bytes/s
	xRecv    float64
	p        float64
	r        time.Duration
	tNom     clock.Instant
	lastData clock.Instant // when the last data packet was sent
	nfb      clock.Instant // no-feedback timer (RFC 5348 §4.4)
	tld      clock.Instant // time last doubled in slow start
	start    clock.Instant
	lastQRtt clock.Instant
	ccval    uint8
	sized    bool
	// hold: X does not increase before this time (Slow Receiver, RFC
	// 4340 §11.6, or a receive-buffer drop); lastCut is when a
	// receive-buffer drop last halved X.
	hold, lastCut clock.Instant
	// xRecvSet holds the receive rates reported within the last two
	// round trips (RFC 5348 §4.3, X_recv_set); the rate may reach twice
	// the largest.
	xRecvSet [xRecvSetLen]rateAt
	nXRecv   int
}

// xRecvSetLen bounds X_recv_set; RFC 5348 §4.3 keeps only the reports of
// the last two round trips, of which a few at most arrive.
const xRecvSetLen = 4

// rateAt is one entry of X_recv_set: a receive rate and when it came.
type rateAt struct {
	x  float64
	at clock.Instant
}

// updateXRecvSet is RFC 5348 §4.3's Update X_recv_set: the reports older
// than two round trips leave, the new one enters (the oldest makes room
// when full); it returns recv_limit = 2 max(X_recv_set). (The sender
// does not track data-limited intervals, so the set is always updated
// this way, as for a sender that is not data-limited.)
func (t *Tx) updateXRecvSet(now clock.Instant, xRecv float64) float64 {
	kept := 0
	for _, e := range t.xRecvSet[:t.nXRecv] {
		if now.Sub(e.at) <= 2*t.r {
			t.xRecvSet[kept] = e
			kept++
		}
	}
	if kept == xRecvSetLen {
		copy(t.xRecvSet[:], t.xRecvSet[1:])
		kept--
	}
	t.xRecvSet[kept] = rateAt{xRecv, now}
	t.nXRecv = kept + 1
	m := 0.0
	for _, e := range t.xRecvSet[:t.nXRecv] {
		m = max(m, e.x)
	}
	return 2 * m
}

// NewTx returns a sender of segments of s bytes. Before the first RTT
// sample it sends one packet per second and arms the no-feedback timer
// at 2 s (RFC 5348 §4.2).
func NewTx(now clock.Instant, s int) *Tx {
	return &Tx{s: s, x: float64(s), nfb: now.Add(2 * time.Second), start: now, lastQRtt: now}
}

// X returns the allowed sending rate in bytes per second.
func (t *Tx) X() float64 { return t.x }

// R returns the sender's round-trip time estimate (zero before the first
// sample).
func (t *Tx) R() time.Duration { return t.r }

// initialRate is RFC 5348 §4.2's W_init/R: min(4s, max(2s, 4380)) per RTT.
func (t *Tx) initialRate() float64 {
	return float64(min(4*t.s, max(2*t.s, 4380))) / t.r.Seconds()
}

// TGran is the scheduling granularity the sender assumes (t_gran of RFC
// 5348 §4.6): a host wakes its timers this late, or later on a busy CPU.
const TGran = time.Millisecond

// CanSend reports whether the next packet's nominal send time has come,
// within t_delta = min(t_ipi/2, t_gran/2) (RFC 5348 §4.6); if not, when
// it will.
func (t *Tx) CanSend(now clock.Instant) (bool, clock.Instant) {
	if t.tNom == 0 {
		return true, 0
	}
	due := t.tNom.Add(-min(t.ipi()/2, TGran/2))
	if !now.Before(due) {
		return true, 0
	}
	return false, due
}

// OnSent schedules the next packet s/X later and returns the CCVal, the
// window counter advancing every quarter RTT (RFC 4342 §8.1).
//
// s follows the mean size of the data packets sent (RFC 5348 §4.1 lets
// the sender estimate s so), so small datagrams are not judged by the
// maximum packet size.
func (t *Tx) OnSent(now clock.Instant, data bool, size int) uint8 {
	if data && size > 0 {
		if !t.sized {
			t.s, t.sized = size, true
		} else {
			t.s = max(1, (9*t.s+size)/10)
		}
	}
	if data {
		// t_nom advances by t_ipi from the previous nominal time (RFC
		// 5348 §4.6), so a timer that fires late does not lower the
		// rate: the packets due meanwhile may follow at once. The credit
		// is bounded by t_gran (an idle sender gets no burst beyond it).
		switch floor := now.Add(-TGran); {
		case t.tNom == 0:
			t.tNom = now
		case t.tNom.Before(floor):
			t.tNom = floor
		}
		t.tNom = t.tNom.Add(t.ipi())
		t.lastData = now
	}
	if q := t.r / 4; q > 0 && now.Sub(t.lastQRtt) >= q {
		// RFC 4342 §8.1: the counter moves by at most 5 between two
		// packets, and after a longer silence its time base restarts.
		// Moving it by the full count would wrap it modulo 16: after 16
		// quarter RTTs of silence the receiver would see no change and
		// not send the feedback a round trip calls for (§10.3).
		k := now.Sub(t.lastQRtt) / q
		if k > 5 {
			k, t.lastQRtt = 5, now
		} else {
			t.lastQRtt = t.lastQRtt.Add(k * q)
		}
		t.ccval = uint8((int64(t.ccval) + int64(k)) % 16)
	}
	return t.ccval
}

// ipi is the inter-packet interval at the current rate, s/X (RFC 5348
// §4.6).
func (t *Tx) ipi() time.Duration { return time.Duration(float64(t.s) / t.x * float64(time.Second)) }

// OnFeedback applies a receiver report (RFC 5348 §4.3): the RTT sample,
// the loss event rate p and the receive rate in bytes/s.
func (t *Tx) OnFeedback(now clock.Instant, rtt time.Duration, p, xRecv float64) {
	if rtt > 0 {
		if t.r == 0 {
			t.r = rtt
		} else {
			t.r = time.Duration(0.9*float64(t.r) + 0.1*float64(rtt))
		}
	}
	if t.r == 0 {
		return
	}
	t.p, t.xRecv = p, xRecv
	minRate := float64(t.s) / TMBI.Seconds()
	old := t.x
	recvLimit := t.updateXRecvSet(now, xRecv)
	if p > 0 {
		t.x = max(min(Equation(t.s, t.r, p), recvLimit), minRate)
	} else if now.Sub(t.tld) >= t.r { // slow start: double once per RTT
		t.x = max(min(2*t.x, recvLimit), t.initialRate())
		t.tld = now
	}
	if now.Before(t.hold) {
		t.x = min(t.x, old)
	}
	t.nfb = now.Add(t.noFeedbackInterval())
	// The next packet is due one interval at the new rate after the last
	// one (RFC 5348 §4.6 spaces packets by s/X for the current X): the
	// interval scheduled at the initial one packet per second (§4.2)
	// would otherwise hold the sender for a second after the first
	// feedback raised X.
	if next := t.lastData.Add(t.ipi()); t.tNom != 0 && next.Before(t.tNom) {
		t.tNom = next
	}
}

// OnSlowReceiver takes a Slow Receiver option: X does not increase for
// about one round trip (RFC 4340 §11.6).
func (t *Tx) OnSlowReceiver(now clock.Instant) { t.hold = now.Add(t.rttOr(time.Second)) }

// OnDataDropped takes the receiver's report that its receive buffer
// dropped a packet's data (RFC 4340 §11.7, Drop State 2): the receiver
// cannot take the rate, and §11.7.2 asks the sender to slow down. X
// halves, at most once per round trip and not below one packet per
// t_mbi, as on a no-feedback timeout (RFC 5348 §4.4), and does not grow
// again for that round trip. (The receiver also counts the drop as a
// loss, so the loss event rate keeps the rate down afterwards.)
func (t *Tx) OnDataDropped(now clock.Instant) {
	rtt := t.rttOr(time.Second)
	if t.lastCut != 0 && now.Sub(t.lastCut) < rtt {
		return
	}
	t.lastCut = now
	t.x = max(t.x/2, float64(t.s)/TMBI.Seconds())
	t.hold = now.Add(rtt)
}

// rttOr is R, or d before the first sample.
func (t *Tx) rttOr(d time.Duration) time.Duration {
	if t.r > 0 {
		return t.r
	}
	return d
}

// MinNoFeedback is the shortest no-feedback interval. RFC 5348 §4.3
// gives max(4R, 2s/X); on a path of a few microseconds 4R is shorter than
// the wait of the receiver's feedback for a CPU, and each expiry halves X
// (§4.4). Linux bounds 4R below by TCP's minimum RTO (tcp_rto_min, 200
// ms) for the same reason ("rate halving on networks with very low
// RTTs"); so does this sender.
const MinNoFeedback = 200 * time.Millisecond

// noFeedbackInterval is max(4R, MinNoFeedback, 2s/X) (RFC 5348 §4.3 step
// 4, with the floor above).
func (t *Tx) noFeedbackInterval() time.Duration {
	return max(4*t.r, MinNoFeedback, 2*t.ipi())
}

// NextDeadline returns the no-feedback timer.
func (t *Tx) NextDeadline() clock.Instant { return t.nfb }

// HandleTimer runs the no-feedback timer: the rate halves, to no less
// than one packet per 64 s (RFC 5348 §4.4).
func (t *Tx) HandleTimer(now clock.Instant) {
	if t.nfb == 0 || now.Before(t.nfb) {
		return
	}
	t.x = max(t.x/2, float64(t.s)/TMBI.Seconds())
	iv := 2 * time.Second
	if t.r > 0 {
		iv = t.noFeedbackInterval()
	}
	t.nfb = now.Add(iv)
}

// EncodeU32 encodes a 4-byte option value into b.
func EncodeU32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }
