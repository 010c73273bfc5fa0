package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file wires the SACK scoreboard (sack.go, sack_recovery.go) into the
// connection: RFC 6675's loss recovery on the sending side, used when SACK
// was negotiated. Without SACK the connection recovers by NewReno (RFC
// 6582, renoAfterACK and fillRetransmit).
//
// The scoreboard is initialised when our SYN is acknowledged (ackOurSYN),
// sees every acceptable ACK (processACK), and during recovery and after a
// timeout chooses every segment sent (fillSACK): retransmissions of the
// holes the peer reported, skipping the data it SACKed, and new data, as
// long as the congestion window exceeds the estimate of the data in flight
// (RFC 6675 §4 SetPipe).

// sackAfterACK is RFC 6675 §5 for one acceptable ACK, after the
// scoreboard's Update: the window grows by the bytes delivered, cumulatively
// or by SACK (RFC 3465 §2 counts bytes); recovery ends when the cumulative
// ACK reaches the recovery point, and begins on the DupThresh'th duplicate
// ACK or when the first unacknowledged segment is deemed lost (§5 steps 1
// and 2).
func (c *Conn) sackAfterACK(now clock.Instant, s *Segment, u *ScoreboardUpdate, rtt time.Duration, cwndLimited, advanced bool) {
	if u.Delivered > 0 {
		c.cc.OnAck(now, c.ccAck(u.Delivered, rtt, cwndLimited))
	}
	if u.RecoveryDone {
		c.cc.OnRecoveryExit(now)
		c.lr.rack.recoveryDone()
	}
	rackLost := 0
	if c.rackOn() {
		rackLost = c.rackAfterACK(now, s, u, advanced)
	}
	switch {
	case c.lr.sb.ShouldEnterRecovery(c.dupAcks):
		c.sackEnterRecovery(now, false)
	case rackLost > 0 && !c.lr.sb.Recovering() && c.sndUna != c.sndMax:
		c.sackEnterRecovery(now, true) // RFC 8985 §6.2: RACK found the loss
	}
}

// sackEnterRecovery is RFC 6675 §5 step 4: ssthresh and cwnd fall (step
// 4.2), the segment at SND.UNA is retransmitted first (step 4.3; it goes
// out from fillData through sackFirst), then the sender continues by pipe
// (step 4.5, fillSACK).
//
// When RACK began the recovery (byRACK), the first segment it deemed lost
// goes first instead of the one at SND.UNA, which may still be within the
// reordering window.
func (c *Conn) sackEnterRecovery(now clock.Instant, byRACK bool) {
	c.cc.OnCongestionEvent(now, int(c.sndMax.Sub(c.sndUna)))
	c.stats.FastRetransmits++
	s := c.lr.sb.EnterRecovery()
	if byRACK {
		s, _ = c.lr.rack.nextLost(c.sndUna, &c.lr.sb, c.payloadMSS())
	}
	if s.Len > 0 {
		c.lr.sackFirst, c.rtxPending = s, true
	}
}

// sackOnRTO is RFC 6675 §5.1 on a retransmission timeout: the scoreboard
// deems every unSACKed byte outstanding lost and fillSACK retransmits them
// from SND.UNA in slow start, skipping what the peer SACKed. SND.NXT is not
// rewound: the scoreboard, not go-back-N, decides what to resend. The first
// timeout keeps the SACK information (§5.1 allows it); a repeated one
// forgets it, so that a peer that reneged (RFC 2018 §8) still gets every
// byte again.
func (c *Conn) sackOnRTO() {
	c.recovery()
	c.lr.sb.Update(c.sndUna, c.sndMax, nil) // SND.MAX may have grown since the last ACK
	c.lr.sb.OnRetransmitTimeout(c.backoff <= 1)
	c.dupAcks = 0
	c.lr.rack.reset() // RFC 8985 §6.3: the scoreboard resends everything
	c.tlpActive, c.tlpPending = false, false
}

// fillSACK sends by RFC 6675 §5 step (C) during recovery and after a
// timeout: while cwnd - pipe >= 1 SMSS, one segment chosen by NextSeg. It
// reports false when nothing may be sent now.
func (c *Conn) fillSACK(now clock.Instant, seg *Segment) bool {
	if c.cc.CWnd()-c.pipe() < c.sndMSS {
		return false
	}
	avail, newData := c.sackNewData()
	s := c.rackNextSeg(newData)
	switch s.Rule {
	case NextSegNone:
		return false
	case NextSegRescue:
		// NextSeg rule 4 guards the lost tail of the window that began
		// the recovery, where nothing else would draw ACKs before the
		// timeout. Skip it while unsent data waits for the peer's window
		// (the tail is most likely still in flight), for a tail already
		// retransmitted, and for data sent after recovery began, which
		// is not the flight the rescue is about (RFC 6675 §4 rule 4 asks
		// for the rescue with SHOULD; Linux has none).
		// With RACK-TLP on, the Tail Loss Probe (RFC 8985 §7) guards the
		// tail instead, and only once the tail is overdue.
		if c.rackOn() || avail > 0 || s.Seq.LessThan(c.lr.sb.HighRxt()) || !s.End().LessThanEq(c.lr.sb.RecoveryPoint()) {
			return false
		}
	}
	return c.sendRange(now, seg, s)
}

// sackNewData returns the unsent bytes queued and how many of them (plus
// one for an unsent FIN) NextSeg may send now: within the peer's window,
// and not a window-limited runt (sender silly window avoidance, RFC 9293
// §3.8.6.2.1).
func (c *Conn) sackNewData() (avail, allowed int) {
	avail = max(0, c.snd.len()-int(c.sndMax.Sub(c.sndBufSeq)))
	wndRoom := max(0, int(c.sndUna.Add(seqnum.Size32(c.sndWnd)).Sub(c.sndMax)))
	n := min(avail, wndRoom)
	if n < avail && n < c.sndMSS && n < int(c.maxSndWnd/2) {
		n = 0
	}
	if n == avail && c.finQueued && !c.finSent {
		n++ // the FIN's sequence number
	}
	return avail, n
}

// sendRange builds the segment s chose: the send buffer's bytes of [s.Seq,
// s.End()) (fewer where the ring wraps or the data ends), and the FIN when
// the payload reaches it. It reports the segment to the
// scoreboard and counts it as a retransmission when it lies below SND.MAX.
func (c *Conn) sendRange(now clock.Instant, seg *Segment, s SACKSend) bool {
	start, end := s.Seq.Max(c.sndUna), s.End()
	off := int(start.Sub(c.sndBufSeq))
	if off < 0 || !start.LessThan(end) {
		return false
	}
	dataEnd := c.finSeq()
	if n := min(int(end.Min(dataEnd).Sub(start)), c.payloadMSS()); n > 0 {
		seg.Payload = c.snd.peek(off, n)
	}
	next := start.Add(seqnum.Size32(len(seg.Payload)))
	if next == dataEnd && len(seg.Payload) > 0 {
		seg.Flags |= wire.PSH
	}
	if c.finQueued && next == dataEnd {
		// The FIN rides with the last data, as in fillData, even when
		// the range was cut at one SMSS of payload before it.
		seg.Flags |= wire.FIN
		c.finSent = true
		c.summary.FINSent = true
	}
	seg.Seq = start
	n := seg.Len()
	if n == 0 {
		return false
	}
	rtx := start.LessThan(c.sndMax)
	c.rackSent(now, start, n, rtx)
	if rtx {
		c.stats.Retransmits++
		c.stats.RetransmitBytes += uint64(len(seg.Payload))
		if c.rttTiming && start.LessThan(c.rttSeq) {
			c.rttTiming = false // Karn (RFC 6298 §3): the timed range is ambiguous now
		}
		if start == c.sndUna {
			// The oldest outstanding segment was sent again: the timer
			// counts from now (as Linux does when it retransmits the
			// head), so that it cannot expire before this copy's ACK.
			c.armRTO(now)
		}
	} else if !c.tsOK && !c.rttTiming && len(seg.Payload) > 0 {
		c.rttTiming, c.rttSeq, c.rttTime = true, start.Add(n), now
	}
	c.sndMax = c.sndMax.Max(start.Add(n))
	c.sndNxt = c.sndMax
	c.recovery().sb.Sent(SACKSend{Seq: start, Len: int(n), Rule: s.Rule})
	c.armAfterSend(now, !rtx && !c.tlpActive)
	c.lastDataSent = now
	c.stampACK(now, seg)
	return true
}
