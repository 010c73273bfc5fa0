package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// This file wires RACK (rack.go) and the Tail Loss Probe into the
// connection (RFC 8985). Both need SACK (RFC 8985 §5: RACK learns of
// deliveries beyond a hole from SACK blocks) and are on unless
// Config.NoRACK. The retransmission timer's one deadline (timers.rtx)
// serves three purposes, as in Linux: the RTO, the probe timeout (PTO,
// §7.2) and RACK's reordering timer (§6.2 step 6); rtxKind says which.

// What timers.rtx stands for.
const (
	rtxTimerRTO uint8 = iota
	rtxTimerPTO
	rtxTimerREO
)

// wcDelAckT is RFC 8985 §7.2's WCDelAckT, the worst-case delayed-ACK time
// a probe waits for when a single segment is in flight.
const wcDelAckT = 200 * time.Millisecond

// ptoSlack is added to 2*SRTT (Linux adds TCP_TIMEOUT_MIN, 2 ms), and
// ptoMin is the least PTO of a probe that would retransmit (Linux's first
// TLP used 10 ms): on a path of microseconds, as between two stacks in
// one process, 2*SRTT is shorter than a goroutine may wait for a core,
// and such a probe sent before the ACK is a spurious retransmission. A
// probe of new data is never spurious, so it keeps 2*SRTT + ptoSlack, as
// in Linux: at microsecond RTT, where a lost ACK can leave a sender with a
// full window and nothing to clock it out, each 8 ms saved is 8 ms less
// stall per lost ACK.
const (
	ptoSlack = 2 * time.Millisecond
	ptoMin   = 10 * time.Millisecond
)

// rackOn reports whether RACK-TLP is in use.
func (c *Conn) rackOn() bool { return c.sackOK && !c.cfg.NoRACK && c.lr != nil }

// armRTO (re)starts the retransmission timer at the current back-off.
func (c *Conn) armRTO(now clock.Instant) {
	c.timers.rtx = now.Add(c.rto.backedOff(c.backoff))
	c.rtxKind = rtxTimerRTO
}

// armAfterSend arms a timer after a data segment went out: a probe
// timeout after new data (RFC 8985 §7.2) where one may be scheduled, else
// the RTO unless a timer runs already (RFC 6298 §5.1).
func (c *Conn) armAfterSend(now clock.Instant, newData bool) {
	if newData && c.schedulePTO(now) {
		return
	}
	if c.timers.rtx == 0 {
		c.armRTO(now)
	}
}

// schedulePTO arms the probe timeout (RFC 8985 §7.2) and reports whether
// it did: not during fast or RTO recovery, not while data is SACKed (RACK
// watches it), not while a probe is outstanding or the reordering timer
// runs, and not after a timeout without progress. PTO = 2*SRTT + ptoSlack
// (plus WCDelAckT for a single segment in flight; 1 s before an RTT
// sample), at least ptoMin and never later than the RTO would fire.
func (c *Conn) schedulePTO(now clock.Instant) bool {
	if !c.rackOn() || c.tlpActive || c.backoff > 0 || c.sndUna == c.sndMax || !c.canSend() ||
		c.recovering() || c.lr.sb.NumRanges() > 0 || (c.rtxKind == rtxTimerREO && c.timers.rtx != 0) {
		return false
	}
	pto := time.Second
	if c.rto.hasSample {
		pto = 2*c.rto.srtt + ptoSlack
		if int(c.sndMax.Sub(c.sndUna)) <= c.sndMSS {
			pto += wcDelAckT
		}
		if _, newData := c.sackNewData(); newData == 0 {
			pto = max(pto, ptoMin)
		}
	}
	if rto := c.rto.backedOff(0); rto <= pto {
		c.armRTO(now)
		return true
	}
	c.timers.rtx = now.Add(pto)
	c.rtxKind = rtxTimerPTO
	return true
}

// onPTO is the probe timeout (RFC 8985 §7.3): the next segment sent is a
// probe, and the RTO guards it.
func (c *Conn) onPTO(now clock.Instant) {
	c.stats.TLPs++
	c.tlpPending = true
	c.armRTO(now)
}

// fillTLP builds the loss probe (RFC 8985 §7.3): one segment of new data
// if the peer's window allows, else the last segment sent again, whatever
// the congestion window. TLP.end_seq is SND.MAX after it.
func (c *Conn) fillTLP(now clock.Instant, seg *Segment) bool {
	if c.sndUna == c.sndMax {
		return false
	}
	c.tlpActive = true
	if _, newData := c.sackNewData(); newData > 0 {
		c.tlpRtx = false
		s := SACKSend{Seq: c.sndMax, Len: min(newData, c.payloadMSS()), Rule: NextSegNewData}
		if c.sendRange(now, seg, s) {
			c.tlpEnd = c.sndMax
			return true
		}
	}
	c.tlpRtx = true
	n := min(int(c.sndMax.Sub(c.sndUna)), c.payloadMSS())
	ok := c.sendRange(now, seg, SACKSend{Seq: c.sndMax.Add(-seqnum.Size32(n)), Len: n, Rule: NextSegProbe})
	c.tlpEnd = c.sndMax
	if !ok {
		c.tlpActive = false
	}
	return ok
}

// ProbeResends reports that a loss probe is due (RFC 8985 §7.3) that will
// send the last segment again rather than new data, and when that segment
// was last sent. The host asks before the probe is built: a segment it has
// not yet handed to the network (queued behind a link write that blocks)
// is not lost, and sending it again would be a spurious retransmission.
func (c *Conn) ProbeResends() (sent clock.Instant, ok bool) {
	if !c.tlpPending || c.sndUna == c.sndMax || c.lr == nil {
		return 0, false
	}
	if _, newData := c.sackNewData(); newData > 0 {
		return 0, false
	}
	return c.lr.rack.lastSentAt(c.sndMax)
}

// SkipProbe cancels the loss probe that is due: the segment it would send
// again is still inside this host (ProbeResends). The retransmission
// timer the probe timeout armed guards the flight instead, as Linux's
// tcp_send_loss_probe re-arms it when skb_still_in_host_queue.
func (c *Conn) SkipProbe() { c.tlpPending = false }

// tlpAfterACK ends a probe episode once the cumulative ACK covers
// TLP.end_seq (RFC 8985 §7.4). A retransmitted probe acknowledged without
// a D-SACK repaired a real loss, which congestion control must hear of
// (§7.4.2: as a recovery entered and left at once).
func (c *Conn) tlpAfterACK(now clock.Instant, flight int, u *ScoreboardUpdate) {
	if !c.tlpActive || c.sndUna.LessThan(c.tlpEnd) {
		return
	}
	c.tlpActive = false
	if c.tlpRtx && !u.DSACK {
		c.cc.OnCongestionEvent(now, flight)
		c.cc.OnRecoveryExit(now)
	}
}

// rackAfterACK runs RACK for one acceptable ACK (RFC 8985 §6.2) and then
// chooses the timer: the reordering timer when RACK waits on a segment,
// else a probe timeout after an ACK that moved SND.UNA (§7.2). It returns
// how many segments RACK newly deemed lost.
func (c *Conn) rackAfterACK(now clock.Instant, s *Segment, u *ScoreboardUpdate, advanced bool) int {
	a := rackACK{now: now, sndUna: c.sndUna, sb: &c.lr.sb, tsOffset: c.tsOffset, dsack: u.DSACK, mss: uint32(c.payloadMSS()),
		tsEcr: s.Options.TSEcr, hasEcr: c.tsOK && s.Options.HasTimestamp && s.Options.TSEcr != 0}
	if c.finSent {
		a.fin, a.hasFin = c.finSeq(), true
	}
	c.lr.rack.onACK(&a)
	lost, timeout := c.lr.rack.detectLoss(now, c.reoWnd())
	c.stats.RACKLost += uint64(lost)
	switch {
	case timeout > 0 && c.sndUna != c.sndMax:
		c.timers.rtx = now.Add(timeout)
		c.rtxKind = rtxTimerREO
	case c.rtxKind == rtxTimerREO && c.timers.rtx != 0:
		c.armRTO(now) // nothing left to wait on
	case advanced && c.sndUna != c.sndMax:
		c.schedulePTO(now)
	}
	return lost
}

// reoWnd is RACK's reordering window now (RFC 8985 §6.2 step 4).
func (c *Conn) reoWnd() time.Duration {
	return c.lr.rack.reoWnd(c.lr.sb.Recovering(), c.lr.sb.SACKedBytes()/max(c.sndMSS, 1), c.rto.srtt)
}

// onReorderTimeout is RACK's reordering timer (RFC 8985 §6.2 step 6 and
// §6.3): segments whose window has passed are lost, and recovery begins.
func (c *Conn) onReorderTimeout(now clock.Instant) {
	c.armRTO(now)
	lost, timeout := c.lr.rack.detectLoss(now, c.reoWnd())
	c.stats.RACKLost += uint64(lost)
	if lost > 0 && !c.lr.sb.Recovering() {
		c.sackEnterRecovery(now, true)
	}
	if timeout > 0 {
		c.timers.rtx = now.Add(timeout)
		c.rtxKind = rtxTimerREO
	}
}

// pipe is RFC 6675's Pipe less what RACK knows has left the network.
func (c *Conn) pipe() int {
	p := c.lr.sb.Pipe()
	if c.lr.rack.nLost > 0 {
		p -= c.lr.rack.lostInPipe(&c.lr.sb)
	}
	return max(p, 0)
}

// rackNextSeg chooses the next segment during recovery: a segment RACK
// deems lost first (RFC 8985 §6.2: lost retransmissions included), then
// RFC 6675's NextSeg, skipping holes RACK has already resent (they count
// as sent by NextSeg's rule, so HighRxt passes them).
func (c *Conn) rackNextSeg(newData int) SACKSend {
	if c.rackOn() {
		if s, ok := c.lr.rack.nextLost(c.sndUna, &c.lr.sb, c.payloadMSS()); ok {
			return s
		}
	}
	for range 64 {
		s := c.lr.sb.NextSeg(newData)
		if (s.Rule != NextSegLost && s.Rule != NextSegUnSACKed) || !c.lr.rack.inFlightRtx(s.Seq) {
			return s
		}
		c.lr.sb.Sent(s)
	}
	return SACKSend{}
}

// rackSent records a data segment for RACK (RFC 8985 §6.1).
func (c *Conn) rackSent(now clock.Instant, seq seqnum.V32, n seqnum.Size32, rtx bool) {
	if c.rackOn() {
		c.lr.rack.sent(seq, seq.Add(n), now, rtx)
	}
}
