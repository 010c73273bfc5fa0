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
const histLen = 512

// sent is one remembered packet.
type sent struct {
	seq         seqnum.V48
	at          clock.Instant
	data, valid bool
	acked, lost bool
}

// Tx is the sender half of CCID 2.
type Tx struct {
	cwnd, ssthresh float64 // packets (RFC 4341 §5)
	pipe           int     // data packets outstanding
	hist           [histLen]sent
	high           seqnum.V48 // highest sequence number sent
	recover        seqnum.V48 // losses up to here belong to the last reduction
	srtt, rttvar   time.Duration
	rto            time.Duration
	rtoAt          clock.Instant
	any            bool
	rs             []wire.DCCPAckRange
}

// NewTx returns a sender with the initial window of RFC 4341 §5 (as
// RFC 3390: min(4, max(2, 4380/MSS)) packets) and an RTO of one second.
func NewTx(mps int) *Tx {
	w := 4.0
	if mps > 0 {
		w = min(4, max(2, float64(4380/mps)))
	}
	return &Tx{cwnd: w, ssthresh: 1 << 20, rto: time.Second, rs: make([]wire.DCCPAckRange, 0, 64)}
}

// Cwnd returns the congestion window in packets.
func (t *Tx) Cwnd() float64 { return t.cwnd }

// Pipe returns the data packets outstanding.
func (t *Tx) Pipe() int { return t.pipe }

// CanSend reports whether a data packet may go out: pipe < cwnd.
func (t *Tx) CanSend(now clock.Instant) bool { return float64(t.pipe) < t.cwnd }

// OnSent records a sent packet.
func (t *Tx) OnSent(now clock.Instant, seq seqnum.V48, data bool) {
	h := &t.hist[uint64(seq)%histLen]
	if h.valid && h.data && !h.acked && !h.lost {
		t.pipe-- // pushed out of the history: forget it
	}
	*h = sent{seq: seq, at: now, data: data, valid: true}
	t.high, t.any = seq, true
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
// Vector cells that came with it (RFC 4341 §6).
func (t *Tx) OnAck(now clock.Instant, ackno seqnum.V48, vec wire.DCCPAckVector) {
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
		for s := r.Low; ; s = s.Add(1) {
			if h := t.lookup(s); h != nil && !h.acked {
				h.acked = true
				if h.data && !h.lost {
					t.pipe--
					newly++
				}
				if s == ackno {
					t.sampleRTT(now.Sub(h.at))
				}
			}
			if s == r.High || r.High.Sub(r.Low) > histLen {
				break
			}
		}
	}
	t.grow(newly)
	t.detectLoss()
	if newly > 0 {
		t.rtoAt = 0
		if t.pipe > 0 {
			t.rtoAt = now.Add(t.rto)
		}
	}
}

// grow opens the window: +1 per acknowledged packet in slow start, +1
// per window in congestion avoidance (RFC 4341 §5).
func (t *Tx) grow(n int) {
	for range n {
		if t.cwnd < t.ssthresh {
			t.cwnd++
		} else {
			t.cwnd += 1 / t.cwnd
		}
	}
}

// detectLoss declares lost every unacknowledged data packet with at
// least NumDupAck acknowledged packets after it, and halves the window
// once per window of data (RFC 4341 §5).
func (t *Tx) detectLoss() {
	if !t.any {
		return
	}
	acked := 0
	for i := int64(0); i < histLen; i++ {
		h := t.lookup(t.high.Add(-i))
		if h == nil {
			continue
		}
		if h.acked {
			acked++
			continue
		}
		if acked >= NumDupAck && h.data && !h.lost {
			h.lost = true
			t.pipe--
			if t.recover.LessThan(h.seq) {
				t.ssthresh = max(t.cwnd/2, 2)
				t.cwnd = t.ssthresh
				t.recover = t.high
			}
		}
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
	for i := range t.hist {
		if h := &t.hist[i]; h.valid && h.data && !h.acked {
			h.lost = true
		}
	}
	t.pipe = 0
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
