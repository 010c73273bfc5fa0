package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// This file is RACK, the time-based loss detection of RFC 8985 §6: the
// sender remembers when it sent each segment, and deems a segment lost when
// a segment sent sufficiently later (a reordering window, RACK.reo_wnd) has
// been delivered. Unlike RFC 6675's IsLost it detects lost
// retransmissions, and losses in a flight too short for three duplicate
// ACKs. conn_rack.go wires it into the connection, together with the Tail
// Loss Probe (RFC 8985 §7).
//
// The send times live in a ring of records, one per transmission, in
// transmission order (RFC 8985 §6.1 keeps them "in the order of
// transmission"). The ring grows by doubling while a window grows (no
// allocation per segment once it has room) up to rackMaxSegs records; a
// record that would not fit forgets the oldest, whose loss is then left to
// RFC 6675 and the retransmission timer.

// rackMaxSegs bounds the ring: records of this many transmissions at most.
const rackMaxSegs = 1 << 14

// rackSeg flags.
const (
	rackRtx  uint8 = 1 << iota // a retransmission
	rackLost                   // deemed lost, not yet retransmitted
	rackDead                   // delivered or superseded by a retransmission
)

// rackSeg is one transmission of [seq, end) at xmit (RFC 8985 §6.1's
// Segment.xmit_ts, Segment.end_seq and Segment.lost). tx numbers the
// transmissions in the order they left: RFC 8985 §6.2's RACK_sent_after
// breaks ties between equal send times by sequence number, which is wrong
// for a retransmission sent in the same instant after new data; tx is
// exact.
type rackSeg struct {
	seq, end seqnum.V32
	xmit     clock.Instant
	tx       uint32
	flags    uint8
}

// rack is the sender's RACK state (RFC 8985 §6.1).
type rack struct {
	segs    []rackSeg // ring, power-of-two length, nil until the first send
	head, n int

	xmitTS clock.Instant // RACK.xmit_ts: latest send time of a delivered segment
	xmitTx uint32        // its transmission number (stands for RACK.end_seq)
	txNext uint32        // the next transmission's number
	rtt    time.Duration // RACK.rtt
	minRTT time.Duration // RACK.min_RTT (lowest sample seen; zero: none)
	fack   seqnum.V32    // highest end of a delivered segment (§6.2 step 3)

	// xmitEnd is the end of what of transmission xmitTx was delivered:
	// the pieces of a run (GSOSize) share a transmission, and are ordered
	// among themselves by sequence number (RACK_sent_after's tie-break).
	xmitEnd seqnum.V32

	reorderingSeen bool  // RACK.reordering_seen
	reoWndMult     uint8 // RACK.reo_wnd_mult, 1 once initialised
	reoWndPersist  uint8 // RACK.reo_wnd_persist
	dsackRound     seqnum.V32
	dsackSeen      bool
	nLost          int // records marked lost and not retransmitted
	nRtx           int // live retransmission records
}

// at returns the i-th live record slot counted from the head.
func (r *rack) at(i int) *rackSeg { return &r.segs[(r.head+i)&(len(r.segs)-1)] }

// sent records one transmission of [seq, end) at now (RFC 8985 §6.1). A
// retransmission supersedes what older records hold of the same range.
func (r *rack) sent(seq, end seqnum.V32, now clock.Instant, rtx bool) {
	if !seq.LessThan(end) {
		return
	}
	if rtx {
		r.supersede(seq, end)
	}
	if r.n == len(r.segs) {
		if len(r.segs) < rackMaxSegs {
			r.grow()
		} else {
			r.popHead()
		}
	}
	f := uint8(0)
	if rtx {
		f = rackRtx
		r.nRtx++
	}
	*r.at(r.n) = rackSeg{seq: seq, end: end, xmit: now, tx: r.txNext, flags: f}
	r.txNext++
	r.n++
}

// lastSentAt returns when the byte before seq was last sent: the newest
// live record that holds it.
func (r *rack) lastSentAt(seq seqnum.V32) (clock.Instant, bool) {
	for i := r.n - 1; i >= 0; i-- {
		s := r.at(i)
		if s.flags&rackDead == 0 && s.seq.LessThan(seq) && seq.LessThanEq(s.end) {
			return s.xmit, true
		}
	}
	return 0, false
}

func (r *rack) grow() {
	size := max(16, 2*len(r.segs))
	segs := make([]rackSeg, size)
	for i := 0; i < r.n; i++ {
		segs[i] = *r.at(i)
	}
	r.segs, r.head = segs, 0
}

// popHead drops the oldest record.
func (r *rack) popHead() {
	r.kill(r.at(0))
	r.head = (r.head + 1) & (len(r.segs) - 1)
	r.n--
}

// kill marks a record dead, keeping the counts.
func (r *rack) kill(s *rackSeg) {
	if s.flags&rackDead != 0 {
		return
	}
	if s.flags&rackLost != 0 {
		r.nLost--
	}
	if s.flags&rackRtx != 0 {
		r.nRtx--
	}
	s.flags = rackDead
}

// supersede trims [seq, end) out of the live records: that range has been
// sent again and its new record alone speaks for it.
func (r *rack) supersede(seq, end seqnum.V32) {
	for i := 0; i < r.n; i++ {
		s := r.at(i)
		if s.flags&rackDead != 0 || !s.seq.LessThan(end) || !seq.LessThan(s.end) {
			continue
		}
		switch {
		case seq.LessThanEq(s.seq) && s.end.LessThanEq(end):
			r.kill(s)
		case seq.LessThanEq(s.seq): // the front was resent
			s.seq = end
		case s.end.LessThanEq(end): // the back was resent
			s.end = seq
		default:
			// The middle: the record cannot hold two pieces and keeps
			// the back one. nextLost resends a record's first hole
			// first, so in front of it everything arrived; killing the
			// record forgot the holes behind, which a run sent as one
			// (GSOSize) often has, and left them to the retransmission
			// timer.
			s.seq = end
		}
	}
}

// reset forgets every record (RFC 8985 §6.3: after a timeout every
// outstanding segment is lost, and the scoreboard resends them).
func (r *rack) reset() {
	r.head, r.n, r.nLost, r.nRtx = 0, 0, 0, 0
}

// sentAfter is RFC 8985 §6.2's RACK_sent_after, by transmission number.
func sentAfter(tx1, tx2 uint32) bool { return int32(tx1-tx2) > 0 }

// rackACK is what one ACK tells RACK.
type rackACK struct {
	now    clock.Instant
	sndUna seqnum.V32
	sb     *Scoreboard // nil without SACK
	// tsEcr is the ACK's timestamp echo when hasEcr; tsOffset turns a send
	// time into the TSval it carried (Conn.tsNow).
	tsEcr    uint32
	hasEcr   bool
	tsOffset uint32
	dsack    bool
	// fin is our FIN's sequence number when hasFin: no SACK block covers
	// it (a receiver SACKs data), so a record that ends with it counts
	// as SACKed once the data before it is.
	fin    seqnum.V32
	hasFin bool
	// mss is the payload of a full segment (Conn.payloadMSS); zero in
	// tests that build records by hand: any SACKed tail then counts.
	mss uint32
}

// onACK is RFC 8985 §6.2 steps 1-3 for one ACK: every record this ACK
// newly delivers (cumulatively, or wholly SACKed) updates RACK.min_RTT,
// RACK.rtt, RACK.xmit_ts and RACK.end_seq, and is dropped; a delivered
// segment below one delivered before, never retransmitted, shows
// reordering.
func (r *rack) onACK(a *rackACK) {
	for r.n > 0 && (r.at(0).flags&rackDead != 0 || r.at(0).end.LessThanEq(a.sndUna)) {
		s := r.at(0)
		if s.flags&rackDead == 0 {
			r.delivered(a, s, false)
		}
		r.popHead()
	}
	if a.dsack && (!r.dsackSeen || r.dsackRound.LessThan(a.sndUna)) {
		// §6.2 step 4: widen the window once per round trip of DSACKs.
		r.dsackSeen, r.dsackRound = true, r.fack
		r.reoWndMult = min(r.mult()+1, 64)
		r.reoWndPersist = 16
	}
	if r.nRtx == 0 && (a.sb == nil || a.sb.NumRanges() == 0) {
		return // in order: nothing below the head was delivered
	}
	for i := 0; i < r.n; i++ {
		s := r.at(i)
		if s.flags&rackDead != 0 {
			continue
		}
		end := s.end
		if a.hasFin && end == a.fin.Add(1) && s.seq.LessThan(a.fin) {
			end = a.fin
		}
		if cum := s.end.LessThanEq(a.sndUna); cum || (a.sb != nil && a.sb.allSACKed(s.seq.Max(a.sndUna), end)) {
			r.delivered(a, s, !cum)
			r.kill(s)
		} else if a.sb != nil {
			r.deliveredTail(a, s)
		}
	}
}

// deliveredTail splits off the SACKed tail of record s, if it has one,
// and counts it delivered: a run sent as one (GSOSize) whose last
// segments arrived shows that a hole before them is lost as surely as
// separate segments would (Linux splits its TSO buffers on SACK alike).
// The record keeps what lies before the tail.
func (r *rack) deliveredTail(a *rackACK, s *rackSeg) {
	lo := s.seq.Max(a.sndUna)
	holeEnd := lo
	for l := lo; l.LessThan(s.end); {
		seq, n := a.sb.firstUnSACKed(l, s.end)
		if n == 0 {
			break
		}
		l = seq.Add(seqnum.Size32(n))
		holeEnd = l
	}
	if !holeEnd.LessThan(s.end) || holeEnd == lo {
		return // no SACKed tail (or all SACKed: onACK's case)
	}
	if a.mss > 0 {
		// Only whole segments of the run count, as Linux splits a TSO
		// buffer on SACK at multiples of the MSS and marks nothing for a
		// block shorter than a segment (tcp_match_skb_to_sack): the tail
		// starts at the next segment boundary after the hole.
		off := uint32(seqnum.Size32(holeEnd.Sub(s.seq)))
		off = (off + a.mss - 1) / a.mss * a.mss
		holeEnd = s.seq.Add(seqnum.Size32(off))
		if !holeEnd.LessThan(s.end) {
			return
		}
	}
	tail := *s
	tail.seq = holeEnd
	s.end = holeEnd
	r.delivered(a, &tail, true)
}

// delivered is RFC 8985 §6.2 steps 2 and 3 for one delivered record;
// sacked: delivered by a SACK block, beyond SND.UNA.
//
// Step 2 asks whether the ACK of a retransmitted segment may be the
// original's, by the timestamp echo and by min_RTT. The echo answers only
// for a segment the receiver took its timestamp from: one beyond a hole
// does not update TS.Recent (RFC 7323 §4.3), so the ACK that SACKs it
// echoes an older segment, and the echo test would always call it the
// original's. For SACKed segments only the min_RTT test applies (the only
// one Linux's tcp_rack_advance makes).
func (r *rack) delivered(a *rackACK, s *rackSeg, sacked bool) {
	rtt := a.now.Sub(s.xmit)
	if s.flags&rackRtx != 0 {
		if a.hasEcr && !sacked && int32(a.tsEcr-tsClock(s.xmit, a.tsOffset)) < 0 {
			return
		}
		if rtt < r.minRTT {
			return
		}
	}
	if r.minRTT == 0 || rtt < r.minRTT {
		r.minRTT = max(rtt, time.Microsecond)
	}
	r.rtt = rtt
	if r.xmitTS == 0 || sentAfter(s.tx, r.xmitTx) || (s.tx == r.xmitTx && r.xmitEnd.LessThan(s.end)) {
		r.xmitTS, r.xmitTx, r.xmitEnd = s.xmit, s.tx, s.end
	}
	// Step 3: reordering.
	if s.flags&rackRtx == 0 && s.end.LessThan(r.fack) {
		r.reorderingSeen = true
	}
	r.fack = r.fack.Max(s.end)
}

func (r *rack) mult() uint8 { return max(r.reoWndMult, 1) }

// recoveryDone counts a finished loss recovery toward the decay of a
// widened reordering window (RFC 8985 §6.2 step 4).
func (r *rack) recoveryDone() {
	if r.reoWndPersist > 0 {
		r.reoWndPersist--
		if r.reoWndPersist == 0 {
			r.reoWndMult = 1
		}
	}
}

// reoWnd is RFC 8985 §6.2 step 4's RACK_update_reo_wnd: zero while no
// reordering was seen and either recovery is under way or DupThresh
// segments' worth is SACKed; else min_RTT/4 times the multiplier, at most
// SRTT.
func (r *rack) reoWnd(recovering bool, sackedSegs int, srtt time.Duration) time.Duration {
	if !r.reorderingSeen && (recovering || sackedSegs >= sackDupThresh) {
		return 0
	}
	return min(time.Duration(r.mult())*r.minRTT/4, srtt)
}

// detectLoss is RFC 8985 §6.2 step 5 (RACK_detect_loss): every live
// record sent before the most recently delivered one, and longer ago than
// RACK.rtt + reoWnd, is lost. It returns how many records it newly marked,
// and how long until the next one of the rest would be (zero: none), for
// the reordering timer (§6.2 step 6).
func (r *rack) detectLoss(now clock.Instant, reoWnd time.Duration) (lost int, timeout time.Duration) {
	if r.xmitTS == 0 {
		return 0, 0
	}
	for i := 0; i < r.n; i++ {
		s := r.at(i)
		if !sentAfter(r.xmitTx, s.tx) && (s.tx != r.xmitTx || !s.end.LessThanEq(r.xmitEnd)) {
			break // sent after the newest delivered: all the rest too
		}
		if s.flags&(rackDead|rackLost) != 0 {
			continue
		}
		remaining := s.xmit.Add(r.rtt + reoWnd).Sub(now)
		if remaining <= 0 {
			s.flags |= rackLost
			r.nLost++
			lost++
		} else {
			timeout = max(timeout, remaining)
		}
	}
	return lost, timeout
}

// nextLost returns up to smss bytes of the oldest record deemed lost that
// are neither acknowledged nor SACKed, for retransmission. Records whose
// bytes all arrived meanwhile are dropped on the way.
func (r *rack) nextLost(sndUna seqnum.V32, sb *Scoreboard, smss int) (SACKSend, bool) {
	for i := 0; i < r.n && r.nLost > 0; i++ {
		s := r.at(i)
		if s.flags&rackLost == 0 || s.flags&rackDead != 0 {
			continue
		}
		if seq, n := sb.firstUnSACKed(s.seq.Max(sndUna), s.end); n > 0 {
			return SACKSend{Seq: seq, Len: min(n, smss), Rule: NextSegRACK}, true
		}
		r.kill(s)
	}
	return SACKSend{}, false
}

// lostInPipe returns how many bytes RFC 6675's Pipe counts for records
// RACK deems lost and that were not sent again: the sender subtracts them,
// as the data has left the network (RFC 8985 §6.2: lost segments are no
// longer in flight).
func (r *rack) lostInPipe(sb *Scoreboard) int {
	n := 0
	for i := 0; i < r.n && r.nLost > 0; i++ {
		s := r.at(i)
		if s.flags&rackLost != 0 && s.flags&rackDead == 0 {
			n += sb.pipeOf(s.seq, s.end)
		}
	}
	return n
}

// inFlightRtx reports whether a live, not lost retransmission covers
// seq: RFC 6675's NextSeg would otherwise resend what RACK resent already.
func (r *rack) inFlightRtx(seq seqnum.V32) bool {
	if r.nRtx == 0 {
		return false
	}
	for i := 0; i < r.n; i++ {
		s := r.at(i)
		if s.flags&(rackRtx|rackLost|rackDead) == rackRtx && s.seq.LessThanEq(seq) && seq.LessThan(s.end) {
			return true
		}
	}
	return false
}
