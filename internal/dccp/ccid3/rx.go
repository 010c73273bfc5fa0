package ccid3

import (
	"math"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Rx is the CCID 3 receiver: loss intervals from sequence gaps, loss
// events separated by at least one RTT as told by CCVal (RFC 4342 §10.2),
// and feedback once per RTT or on a new loss event.
type Rx struct {
	li       LossIntervals
	high     seqnum.V48
	any      bool
	lastEvCC uint8
	bytes    int
	since    clock.Instant
	fbDue    clock.Instant
	lastRate float64
	lastCC   uint8 // window counter of the newest data packet
	fbCC     uint8 // lastCC when the last feedback went out
	fbSent   bool
	newData  bool // a data packet arrived since the last feedback
	// lossGaps counts gaps that lost data; lossEvents the loss events
	// they started (RFC 5348 §5.2).
	lossGaps, lossEvents uint64
	// holes are gaps in the data sequence not yet declared lost: a gap
	// is a loss only once NDupAck packets arrived after it (RFC 5348
	// §5.1); a packet filling it first was reordered, not lost.
	holes []hole
}

// NDupAck is how many packets must arrive after a missing one before it
// counts as lost (RFC 5348 §5.1: NDUPACK = 3, as TCP's duplicate ACKs).
const NDupAck = 3

// maxHoles bounds the gaps waiting for NDupAck later packets; with more,
// the oldest is declared lost at once.
const maxHoles = 16

// hole is a gap in the data sequence between lo and hi (exclusive) that
// lost missing data packets, by the NDP Count of hi (RFC 4340 §7.7.1);
// later counts the packets received after it; ccval is the window
// counter of hi, which dates the loss for the loss event (RFC 4342
// §10.2).
type hole struct {
	lo, hi  seqnum.V48
	missing int
	later   int
	ccval   uint8
}

// DataLost reports whether data packets were lost between s1, the
// newest data packet received, and s2, the data packet just received,
// whose NDP Count is ndp (RFC 4340 §7.7.1): the sequence numbers between
// them belong to data packets only beyond the ndp non-data packets sent
// just before s2. Non-data packets (Acks, Syncs, Closes) take sequence
// numbers too; their gaps are not data loss (RFC 4342 §6.1: loss
// intervals count lost data packets). A packet older than s1 (reordered)
// leaves no gap.
func DataLost(s1, s2 seqnum.V48, ndp uint64) bool {
	if !s1.LessThan(s2) {
		return false
	}
	return uint64(s2.Sub(s1))-1 > ndp
}

// LossEvents returns the loss events recorded and the gaps in the data
// sequence that lost data (several gaps may make one event).
func (r *Rx) LossEvents() (events, gaps uint64) { return r.lossEvents, r.lossGaps }

// NewRx returns a receiver.
func NewRx() *Rx { return &Rx{} }

// OnData records a data packet and reports whether feedback is due now.
// ndp is the packet's NDP Count (RFC 4340 §7.7; zero without the
// option): how many non-data packets the sender sent just before it.
func (r *Rx) OnData(now clock.Instant, seq seqnum.V48, ccval uint8, size int, ndp uint64, rtt time.Duration) bool {
	if r.since == 0 {
		r.since = now
	}
	r.bytes += size
	r.newData = true
	lossEvent := r.trackHoles(seq, ccval, ndp)
	if !lossEvent {
		r.li.Grow()
	}
	first := !r.any
	if first || r.high.LessThan(seq) {
		r.high, r.any, r.lastCC = seq, true, ccval
	}
	if r.fbDue == 0 {
		r.fbDue = now.Add(max(rtt, time.Millisecond))
	}
	// RFC 4342 §10.3: the window counter tells the receiver when to send
	// feedback. Once the newest packet's counter is 4 or more past the one
	// the last feedback covered, a round trip of the sender's has passed.
	// The receiver's own RTT estimate (the fallback timer above) cannot
	// do: a receiver that sends no data never measures one, and feedback
	// paced by its initial guess makes a sender on a shorter path halve
	// its rate at each no-feedback timeout in between (RFC 5348 §4.4). The
	// first data packet draws feedback too (RFC 5348 §6.3).
	periodic := r.fbSent && (r.lastCC-r.fbCC)%16 >= 4
	return lossEvent || first || periodic
}

// trackHoles updates the gaps with the data packet seq and declares
// lost those that now have NDupAck packets after them (RFC 5348 §5.1);
// it reports whether a new loss event began.
func (r *Rx) trackHoles(seq seqnum.V48, ccval uint8, ndp uint64) bool {
	late := r.any && seq.LessThan(r.high)
	for i := range r.holes {
		h := &r.holes[i]
		switch {
		case late && h.lo.LessThan(seq) && seq.LessThan(h.hi):
			h.missing-- // a reordered packet fills part of the gap
		case h.hi.LessThanEq(seq) || !late:
			h.later++
		}
	}
	if r.any && DataLost(r.high, seq, ndp) {
		if len(r.holes) == maxHoles {
			r.holes[0].later = NDupAck
		}
		r.holes = append(r.holes, hole{lo: r.high, hi: seq, missing: int(uint64(seq.Sub(r.high)) - 1 - ndp), later: 1, ccval: ccval})
	}
	event := false
	kept := r.holes[:0]
	for _, h := range r.holes {
		switch {
		case h.missing <= 0: // filled: it was reordering
		case h.later >= NDupAck:
			r.lossGaps++
			event = r.loss(h.ccval) || event
		default:
			kept = append(kept, h)
		}
	}
	r.holes = kept
	return event
}

// loss records a lost packet sent with window counter ccval; it reports
// whether the loss starts a new loss event: the first, or one more than
// a round trip (4 counter values) after the last event began (RFC 4342
// §10.2).
func (r *Rx) loss(ccval uint8) bool {
	if r.li.n == 0 || (ccval-r.lastEvCC)%16 > 4 {
		r.lossEvents++
		r.li.Start()
		r.lastEvCC = ccval
		return true
	}
	return false
}

// OnDropped counts a packet received but dropped by the full receive
// buffer as lost: its data never reached the application, and the loss
// event rate is what keeps the sender's rate within what the receiver
// takes (the sender also reacts to the Data Dropped report, RFC 4340
// §11.7.2). It reports whether a new loss event began.
func (r *Rx) OnDropped(ccval uint8) bool { return r.loss(ccval) }

// Pending reports whether data arrived since the last feedback. RFC 5348
// §6.2: with no data packet received since the last feedback, no
// feedback is sent (its receive rate, measured over an interval without
// data, would read 0, and the sender's X = min(X_calc, 2 X_recv) would
// fall to its minimum).
func (r *Rx) Pending() bool { return r.newData }

// HandleTimer reports whether the feedback timer has fired with data to
// report, and disarms it.
func (r *Rx) HandleTimer(now clock.Instant) bool {
	if r.fbDue == 0 || now.Before(r.fbDue) {
		return false
	}
	r.fbDue = 0
	return r.newData
}

// P returns the loss event rate the receiver reports.
func (r *Rx) P() float64 { return r.li.P() }

// Feedback returns the Loss Event Rate and Receive Rate option values
// (RFC 4342 §8.5, §8.3) and restarts the measurement.
func (r *Rx) Feedback(now clock.Instant) (lossEventRate, receiveRate uint32) {
	lossEventRate = math.MaxUint32 // no loss: 1/p is infinite
	if m := r.li.Mean(); m > 0 {
		lossEventRate = uint32(min(m, math.MaxUint32-1))
	}
	if el := now.Sub(r.since).Seconds(); el > 0 {
		r.lastRate = float64(r.bytes) / el
	}
	r.bytes, r.since, r.fbDue, r.newData = 0, now, 0, false
	r.fbCC, r.fbSent = r.lastCC, true
	return lossEventRate, uint32(min(r.lastRate, math.MaxUint32))
}

// NextDeadline returns when feedback is due.
func (r *Rx) NextDeadline() clock.Instant { return r.fbDue }
