package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp/cc"
	"github.com/teardown-lab/teardown/internal/wire"
)

// checkACK is step five (RFC 9293 §3.10.7.4 "fifth check the ACK field").
// It reports whether processing continues with the segment's text.
func (c *Conn) checkACK(now clock.Instant, s *Segment) bool {
	if s.Flags&wire.ACK == 0 {
		c.stats.Drops[DropNoACK]++
		return false
	}
	if c.state == SynReceived {
		if !c.sndUna.LessThan(s.Ack) || c.sndMax.LessThan(s.Ack) {
			// Not our SYN's ACK: <SEQ=SEG.ACK><CTL=RST>.
			c.queueRST(s.Ack, 0, false)
			return false
		}
		c.ackOurSYN(now, s)
		c.sndWnd = uint32(s.Window) << c.sndShift
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.sndWL1, c.sndWL2 = s.Seq, s.Ack
		c.establish(now, "rcvd ACK of SYN")
		return true
	}
	// RFC 5961 §5.2: acceptable when SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT.
	if s.Ack.LessThan(c.sndUna.Add(-seqnum.Size32(c.maxSndWnd))) {
		c.stats.Drops[DropACKTooOld]++
		c.challengeACK(now)
		return false
	}
	if c.sndMax.LessThan(s.Ack) {
		c.stats.Drops[DropACKTooNew]++
		c.invalidACK(now) // RFC 5961 §5.2: an ACK, under §7's limit
		return false
	}
	c.processACK(now, s)
	switch c.state {
	case FinWait1:
		if c.finAcked() {
			c.summary.FINAcked = true
			c.setState(now, FinWait2, "rcvd ACK of FIN")
		}
	case Closing:
		if c.finAcked() {
			c.summary.FINAcked = true
			c.setState(now, TimeWait, "rcvd ACK of FIN in CLOSING")
		}
	case LastAck:
		if c.finAcked() {
			c.summary.FINAcked = true
			c.end(now, EndGraceful, "FIN exchanged both ways; passive close")
			c.setState(now, Closed, "rcvd ACK of FIN in LAST-ACK")
			return false
		}
	}
	return true
}

// processACK takes an acceptable ACK: new data acknowledged, RTT, the
// congestion window, duplicate ACKs, loss recovery and the send window.
// With SACK the scoreboard sees every acceptable ACK first (RFC 6675 §5).
func (c *Conn) processACK(now clock.Instant, s *Segment) {
	flight := int(c.sndMax.Sub(c.sndUna))
	cwndLimited := flight+c.sndMSS >= c.cc.CWnd()
	var u ScoreboardUpdate
	sack := c.sackOK && c.lr != nil // nil: no data was ever sent
	if sack {
		u = c.lr.sb.Update(s.Ack, c.sndMax, s.Options.SACKBlocks())
		if s.Options.NumSACK > 0 {
			c.stats.SACKACKsIn++
		}
	}
	acked, dup, rtt := 0, false, time.Duration(0)
	if c.sndUna.LessThan(s.Ack) {
		acked = int(s.Ack.Sub(c.sndUna))
		rtt = c.newlyAcked(now, s)
	} else if dup = c.isDuplicateACK(s, &u); dup {
		c.stats.DupACKsIn++
		c.dupAcks++
	}
	switch {
	case sack:
		c.sackAfterACK(now, s, &u, rtt, cwndLimited, acked > 0)
		c.tlpAfterACK(now, flight, &u)
	case !c.sackOK:
		c.renoAfterACK(now, s, acked, rtt, dup, cwndLimited)
	}
	c.probesOut = 0 // the peer is alive (conn_persist.go)
	// RFC 9293 §3.10.7.4: update the window from the newest segment only.
	if c.sndWL1.LessThan(s.Seq) || (c.sndWL1 == s.Seq && c.sndWL2.LessThanEq(s.Ack)) {
		was := c.sndWnd
		c.sndWnd = uint32(s.Window) << c.sndShift
		c.maxSndWnd = max(c.maxSndWnd, c.sndWnd)
		c.sndWL1, c.sndWL2 = s.Seq, s.Ack
		if c.sndWnd > 0 && (was == 0 || c.timers.persist != 0) {
			c.windowOpened()
		}
	}
}

// isDuplicateACK applies the definition of a duplicate ACK to an ACK that
// did not move SND.UNA. With SACK it is RFC 6675 §2's: data is outstanding
// and the ACK newly SACKs some. Without, RFC 5681 §2's: data outstanding,
// no data, no SYN or FIN, ACK = SND.UNA and the window unchanged.
func (c *Conn) isDuplicateACK(s *Segment, u *ScoreboardUpdate) bool {
	if c.sndUna == c.sndMax {
		return false
	}
	if c.sackOK {
		return u.NewlySACKed > 0
	}
	return s.Ack == c.sndUna && len(s.Payload) == 0 && s.Flags&(wire.SYN|wire.FIN) == 0 &&
		uint32(s.Window)<<c.sndShift == c.sndWnd
}

// newlyAcked handles an ACK that moves SND.UNA forward: the send buffer,
// the RTT and the retransmission timer. It returns the RTT the ACK
// measured, zero if none.
func (c *Conn) newlyAcked(now clock.Instant, s *Segment) time.Duration {
	if d := s.Ack.Sub(c.sndBufSeq); d > 0 {
		if c.snd.free() < c.sndMSS {
			c.expandSendBuffer(int(c.sndMax.Sub(c.sndUna)))
		}
		n := min(int(d), c.snd.len())
		c.snd.discard(n)
		c.sndBufSeq = c.sndBufSeq.Add(seqnum.Size32(n))
		c.events |= EventWritable
		c.tidyBuffers()
	}
	c.sndUna = s.Ack
	if c.sndNxt.LessThan(c.sndUna) {
		c.sndNxt = c.sndUna
	}
	c.events |= EventAcked
	// RTT: the timestamp echo when timestamps are on (RFC 7323 §4.1),
	// else the one timed segment (RFC 6298 §3, Karn: never a retransmitted one).
	var rtt time.Duration
	switch {
	case c.tsOK && s.Options.HasTimestamp && s.Options.TSEcr != 0:
		rtt = c.tsRTT(now, s.Options.TSEcr)
	case c.rttTiming && c.rttSeq.LessThanEq(s.Ack):
		rtt = now.Sub(c.rttTime)
		c.rttTiming = false
	}
	if rtt > 0 {
		c.rto.sample(rtt)
	}
	c.backoff = 0
	c.rtxStart = 0
	c.dupAcks = 0 // a cumulative ACK (RFC 5681 §3.2, RFC 6675 §5)
	// RFC 6298 §5.2 and §5.3: stop the timer when all is acknowledged,
	// else restart it so that it expires one RTO from now. Restarting
	// from the ACK, not from the oldest segment's send time, can only make
	// it fire later than the oldest outstanding segment needs.
	if c.sndUna == c.sndMax {
		c.timers.rtx = 0
	} else {
		c.armRTO(now)
	}
	return rtt
}

// ccAck describes an ACK of acked new bytes to the congestion controller.
func (c *Conn) ccAck(acked int, rtt time.Duration, cwndLimited bool) cc.Ack {
	return cc.Ack{Acked: acked, SRTT: c.rto.srtt, CwndLimited: cwndLimited,
		RTT: rtt, Una: c.sndUna, SndNxt: c.sndMax}
}

// renoAfterACK is the congestion response without SACK: window growth,
// fast retransmit on the third duplicate ACK (RFC 5681 §3.2) and NewReno's
// partial and full ACKs (RFC 6582 §3.2).
func (c *Conn) renoAfterACK(now clock.Instant, s *Segment, acked int, rtt time.Duration, dup, cwndLimited bool) {
	if acked > 0 {
		c.cc.OnAck(now, c.ccAck(acked, rtt, cwndLimited))
		if c.inRecovery {
			if c.recover.LessThanEq(s.Ack) {
				c.inRecovery = false // full ACK (RFC 6582 §3.2 step 3)
				c.cc.OnRecoveryExit(now)
			} else {
				c.rtxPending = true // partial ACK: retransmit the next hole
			}
		}
		return
	}
	// The third duplicate ACK starts fast retransmit, unless it follows a
	// timeout whose data is not all acknowledged (RFC 6582 §3.2 step 2).
	if !dup || c.dupAcks != 3 || c.inRecovery || c.sndUna.LessThan(c.recover) {
		return
	}
	c.inRecovery = true
	c.recover = c.sndMax
	c.cc.OnCongestionEvent(now, int(c.sndMax.Sub(c.sndUna)))
	c.rtxPending = true
	c.stats.FastRetransmits++
	c.rttTiming = false
}
