// Package ccid2 is DCCP's TCP-like congestion control, CCID 2 (RFC 4341):
// a congestion window in packets, slow start and congestion avoidance,
// losses detected from Ack Vectors, and a retransmission timeout.
//
// Layer and rules: a pure state machine below internal/dccp, which feeds
// it the packets it sends and the Ack Vectors it receives. It never reads
// a clock: time is an argument.
package ccid2

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// NumDupAck is how many packets acknowledged after a missing one declare
// it lost (RFC 4341 §5, as TCP's three duplicate ACKs).
const NumDupAck = 3

// histLen bounds the sent packets remembered.
const histLen = 1024

// MaxCwnd is the largest congestion window, in packets: half the history,
// so that every packet in flight, and the acknowledgements sent between
// them, stay remembered until they are settled.
const MaxCwnd = histLen / 2

// sent is one remembered packet.
type sent struct {
	seq         seqnum.V48
	at          clock.Instant
	data, valid bool
	acked, lost bool
}

// settled reports whether h no longer needs watching: acknowledged,
// declared lost, or not a data packet.
func (h *sent) settled() bool { return !h.data || h.acked || h.lost }

// Tx is the sender half of CCID 2.
type Tx struct {
	cwnd, ssthresh float64 // packets (RFC 4341 §5)
	limit          float64 // ceiling of cwnd (SetLimit)
	pipe           int     // data packets outstanding
	hist           [histLen]sent
	// low is the oldest packet not yet settled: everything before it is
	// acknowledged or lost, so acknowledgement and loss scans start there
	// and each packet is visited a bounded number of times.
	low, high seqnum.V48 // high: highest sequence number sent
	// top holds the NumDupAck highest sequence numbers acknowledged,
	// highest first; a packet below top[NumDupAck-1] that is still
	// unacknowledged has NumDupAck acknowledged packets after it.
	top          [NumDupAck]seqnum.V48
	ntop         int
	recover      seqnum.V48 // losses up to here belong to the last reduction; first sent - 1 at the start
	srtt, rttvar time.Duration
	rto          time.Duration
	rtoAt        clock.Instant
	any          bool
	rs           []wire.DCCPAckRange
	// hold: the window does not grow before this time (Slow Receiver,
	// RFC 4340 §11.6).
	hold clock.Instant
}

// NewTx returns a sender with the initial window of RFC 4341 §5 (as
// RFC 3390: min(4, max(2, 4380/MSS)) packets) and an RTO of one second.
func NewTx(mps int) *Tx {
	w := 4.0
	if mps > 0 {
		w = min(4, max(2, float64(4380/mps)))
	}
	return &Tx{cwnd: w, ssthresh: 1 << 20, limit: MaxCwnd, rto: time.Second, rs: make([]wire.DCCPAckRange, 0, 64)}
}

// Cwnd returns the congestion window in packets.
func (t *Tx) Cwnd() float64 { return t.cwnd }

// Pipe returns the data packets outstanding.
func (t *Tx) Pipe() int { return t.pipe }

// SetLimit bounds the congestion window to n packets (at most MaxCwnd).
// The connection passes its Sequence Window: RFC 4340 §7.5.2 forbids
// persistently sending more than Sequence Window packets per round trip,
// and acknowledgements of packets further back than the Sequence Window
// fall outside the acknowledgement validity window (§7.5.1) and are
// dropped (§8.5 step 6). Linux's CCID 2 grows cwnd only while it is
// below the local Sequence Window, likewise.
func (t *Tx) SetLimit(n float64) {
	t.limit = max(1, min(n, MaxCwnd))
	t.cwnd = min(t.cwnd, t.limit)
}

// CanSend reports whether a data packet may go out: pipe < cwnd.
func (t *Tx) CanSend(now clock.Instant) bool { return float64(t.pipe) < t.cwnd }

// OnSent records a sent packet.
func (t *Tx) OnSent(now clock.Instant, seq seqnum.V48, data bool) {
	h := &t.hist[uint64(seq)%histLen]
	if h.valid && !h.settled() {
		t.pipe-- // pushed out of the history: forget it
	}
	*h = sent{seq: seq, at: now, data: data, valid: true}
	if !t.any {
		// Sequence numbers compare circularly (RFC 4340 §7.1): the zero
		// value of recover lies after every number in the half of the
		// space opposite 0, so on a connection whose initial sequence
		// number (random, §7.2) falls there no loss would ever be newer
		// than recover and the window would never halve (RFC 4341 §5).
		// Nothing sent so far belongs to a reduction.
		t.low, t.recover = seq, seq.Add(-1)
	}
	t.high, t.any = seq, true
	if oldest := seq.Add(1 - histLen); t.low.LessThan(oldest) {
		t.low = oldest
	}
	if data {
		t.pipe++
		if t.rtoAt == 0 {
			t.rtoAt = now.Add(t.rto)
		}
	}
}

// lookup returns the history entry of seq, or nil.
func (t *Tx) lookup(seq seqnum.V48) *sent {
	h := &t.hist[uint64(seq)%histLen]
	if !h.valid || h.seq != seq {
		return nil
	}
	return h
}

// OnAck processes an acknowledgement: ackno alone, or with the Ack
// Vector cells that came with it (RFC 4341 §6). Only the part of each
// acknowledged range from the oldest unsettled packet to the highest sent
// is visited: what lies below is already settled, what lies above was
// never sent.
func (t *Tx) OnAck(now clock.Instant, ackno seqnum.V48, vec wire.DCCPAckVector) {
	if !t.any {
		return
	}
	t.rs = t.rs[:0]
	if len(vec) > 0 {
		t.rs = vec.Ranges(ackno, t.rs)
	} else {
		t.rs = append(t.rs, wire.DCCPAckRange{Low: ackno, High: ackno, State: wire.DCCPAckReceived})
	}
	newly := 0
	for _, r := range t.rs {
		if r.State != wire.DCCPAckReceived && r.State != wire.DCCPAckReceivedECN {
			continue
		}
		lo, hi := r.Low, r.High
		if lo.LessThan(t.low) {
			lo = t.low
		}
		if t.high.LessThan(hi) {
			hi = t.high
		}
		if hi.Sub(lo) >= histLen { // not for a sane vector: low is within the history
			lo = hi.Add(1 - histLen)
		}
		for s := lo; s.LessThanEq(hi); s = s.Add(1) {
			h := t.lookup(s)
			if h == nil || h.acked {
				continue
			}
			h.acked = true
			t.noteAcked(s)
			if h.data && !h.lost {
				t.pipe--
				newly++
			}
			if s == ackno {
				t.sampleRTT(now.Sub(h.at))
			}
		}
	}
	t.grow(now, newly)
	t.detectLoss()
	if newly > 0 {
		t.rtoAt = 0
		if t.pipe > 0 {
			t.rtoAt = now.Add(t.rto)
		}
	}
}

// noteAcked keeps s among the NumDupAck highest acknowledged numbers.
func (t *Tx) noteAcked(s seqnum.V48) {
	i := t.ntop
	for i > 0 && t.top[i-1].LessThan(s) {
		i--
	}
	if i >= NumDupAck {
		return
	}
	copy(t.top[i+1:], t.top[i:NumDupAck-1])
	t.top[i] = s
	t.ntop = min(t.ntop+1, NumDupAck)
}

// grow opens the window: +1 per acknowledged packet in slow start, +1
// per window in congestion avoidance (RFC 4341 §5), up to the limit.
func (t *Tx) grow(now clock.Instant, n int) {
	if now.Before(t.hold) {
		return
	}
	for range n {
		if t.cwnd < t.ssthresh {
			t.cwnd++
		} else {
			t.cwnd += 1 / t.cwnd
		}
	}
	t.cwnd = min(t.cwnd, t.limit)
}

// reduce halves the window for a congestion event at seq, once per
// window of data: events for packets sent before the last reduction
// belong to it (RFC 4341 §5).
func (t *Tx) reduce(seq seqnum.V48) {
	if t.recover.LessThan(seq) {
		t.ssthresh = max(t.cwnd/2, 2)
		t.cwnd = t.ssthresh
		t.recover = t.high
	}
}

// OnDataDropped takes the receiver's report that it dropped the data of
// packet seq because its receive buffer was full (RFC 4340 §11.7, Drop
// State 2). The packet was received, so it left the pipe with its
// acknowledgement; but the receiver could not keep up, and §11.7.2 asks
// the sender to slow down: the window halves as for a lost packet, once
// per window of data (RFC 4341 §5).
func (t *Tx) OnDataDropped(now clock.Instant, seq seqnum.V48) {
	if h := t.lookup(seq); h != nil {
		t.reduce(seq)
	}
}

// OnSlowReceiver takes a Slow Receiver option: the window does not grow
// for about one round trip (RFC 4340 §11.6). The receiver is not
// congested, so the window does not shrink either.
func (t *Tx) OnSlowReceiver(now clock.Instant) {
	rtt := t.srtt
	if rtt == 0 {
		rtt = t.rto
	}
	t.hold = now.Add(rtt)
}

// detectLoss declares lost every unacknowledged data packet with at
// least NumDupAck acknowledged packets after it, and halves the window
// once per window of data (RFC 4341 §5). Those are the unsettled packets
// below the NumDupAck-th highest acknowledged number; after the scan the
// oldest unsettled packet moves up past everything settled.
func (t *Tx) detectLoss() {
	if t.ntop == NumDupAck {
		bound := t.top[NumDupAck-1]
		for s := t.low; s.LessThan(bound); s = s.Add(1) {
			h := t.lookup(s)
			if h == nil || h.settled() {
				continue
			}
			h.lost = true
			t.pipe--
			t.reduce(h.seq)
		}
	}
	for t.low.LessThanEq(t.high) {
		if h := t.lookup(t.low); h != nil && !h.settled() {
			break
		}
		t.low = t.low.Add(1)
	}
}

// sampleRTT updates the RTO as RFC 6298 §2 does.
func (t *Tx) sampleRTT(r time.Duration) {
	if t.srtt == 0 {
		t.srtt, t.rttvar = r, r/2
	} else {
		d := t.srtt - r
		if d < 0 {
			d = -d
		}
		t.rttvar = (3*t.rttvar + d) / 4
		t.srtt = (7*t.srtt + r) / 8
	}
	t.rto = max(t.srtt+4*t.rttvar, 200*time.Millisecond)
}

// NextDeadline returns the RTO deadline, or zero.
func (t *Tx) NextDeadline() clock.Instant { return t.rtoAt }

// HandleTimer runs the RTO: every outstanding packet is lost, the window
// falls to one packet and the RTO doubles (RFC 4341 §5, RFC 6298 §5).
func (t *Tx) HandleTimer(now clock.Instant) {
	if t.rtoAt == 0 || now.Before(t.rtoAt) {
		return
	}
	for s := t.low; s.LessThanEq(t.high); s = s.Add(1) {
		if h := t.lookup(s); h != nil && !h.settled() {
			h.lost = true
		}
	}
	t.low, t.pipe = t.high.Add(1), 0
	t.ssthresh = max(t.cwnd/2, 2)
	t.cwnd = 1
	t.rto = min(2*t.rto, 64*time.Second)
	t.rtoAt = 0
}

// Rx is the receiver half of CCID 2: it acknowledges every AckRatio data
// packets, or after a delay (RFC 4341 §6.1).
type Rx struct {
	ratio   int
	count   int
	delay   time.Duration
	delayAt clock.Instant
}

// NewRx returns a receiver with the given Ack Ratio (default 2).
func NewRx(ackRatio int, delay time.Duration) *Rx {
	return &Rx{ratio: max(ackRatio, 1), delay: delay}
}

// SetAckRatio adopts a new Ack Ratio, changed by the sender with Change
// L(Ack Ratio) (RFC 4340 §11.3: the receiver acknowledges at least every
// Ack Ratio data packets). Zero counts as 1.
func (r *Rx) SetAckRatio(n int) { r.ratio = max(n, 1) }

// AckRatio returns the Ack Ratio in force.
func (r *Rx) AckRatio() int { return r.ratio }

// OnData records a received data packet and reports whether an
// acknowledgement is due now.
func (r *Rx) OnData(now clock.Instant) bool {
	r.count++
	if r.count >= r.ratio {
		r.count, r.delayAt = 0, 0
		return true
	}
	if r.delayAt == 0 {
		r.delayAt = now.Add(r.delay)
	}
	return false
}

// OnAckSent resets the counting after any acknowledgement went out.
func (r *Rx) OnAckSent() { r.count, r.delayAt = 0, 0 }

// NextDeadline returns when a delayed acknowledgement is due, or zero.
func (r *Rx) NextDeadline() clock.Instant { return r.delayAt }

// HandleTimer reports whether the delayed acknowledgement is due.
func (r *Rx) HandleTimer(now clock.Instant) bool {
	if r.delayAt != 0 && !now.Before(r.delayAt) {
		r.delayAt = 0
		return true
	}
	return false
}
