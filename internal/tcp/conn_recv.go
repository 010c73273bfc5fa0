package tcp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// HandleSegment processes a segment that arrived for this connection (RFC
// 9293 §3.10.7 SEGMENT ARRIVES). The host has verified the checksum and
// matched the 4-tuple. seg is not retained. A Conn in CLOSED ignores
// segments: answering them is the host's business (see RSTFor).
func (c *Conn) HandleSegment(now clock.Instant, seg *Segment) {
	c.stats.SegsIn++
	c.stats.BytesIn += uint64(len(seg.Payload))
	if seg.Flags&wire.RST != 0 {
		c.stats.RSTsIn++
	}
	s := *seg
	switch c.state {
	case Closed, Listen:
		return
	case SynSent:
		c.synSentArrives(now, &s)
		return
	case SynReceived:
		if s.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN && s.Seq == c.irs {
			c.synPending = true // our SYN-ACK was lost: the peer retransmits its SYN
			return
		}
		if s.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN|wire.ACK && s.Seq == c.irs && s.Ack == c.sndNxt {
			// Simultaneous open (RFC 9293 §3.5 figure 8): the peer's
			// SYN,ACK repeats its SYN, already taken, and acks ours.
			// Take it as the ACK it is, as Linux does.
			s.Flags &^= wire.SYN
			s.Seq = s.Seq.Add(1)
		}
	}
	c.segmentAlive(now)
	if !c.checkPAWS(now, &s) || !c.checkSequence(now, &s) || !c.checkRST(now, &s) ||
		!c.checkSYN(now, &s) || !c.checkACK(now, &s) {
		return
	}
	c.processText(now, &s)
	c.checkFIN(now, &s)
}

// segmentAlive notes that the peer is alive: keepalive starts over.
func (c *Conn) segmentAlive(now clock.Instant) {
	c.kaProbes = 0
	if c.timers.keepalive != 0 {
		c.timers.keepalive = now.Add(c.cfg.KeepAliveIdle)
	}
}

// synSentArrives is SEGMENT ARRIVES in SYN-SENT (RFC 9293 §3.10.7.3).
func (c *Conn) synSentArrives(now clock.Instant, s *Segment) {
	hasACK := s.Flags&wire.ACK != 0
	// First, the ACK: it must acknowledge our SYN and nothing beyond.
	if hasACK && (s.Ack.LessThanEq(c.iss) || c.sndNxt.LessThan(s.Ack)) {
		c.stats.Drops[DropBadSYNSent]++
		if s.Flags&wire.RST == 0 {
			c.queueRST(s.Ack, 0, false)
			c.retrySYNSoon(now)
		}
		return
	}
	// Second, RST: acceptable only with an acceptable ACK.
	if s.Flags&wire.RST != 0 {
		if hasACK {
			c.reset(now, ErrConnRefused, EndRefused, "rcvd RST in SYN-SENT: connection refused")
		} else {
			c.stats.Drops[DropBadSYNSent]++
		}
		return
	}
	// Fourth, SYN.
	if s.Flags&wire.SYN == 0 {
		c.stats.Drops[DropBadSYNSent]++
		return
	}
	c.negotiate(now, s)
	c.irs = s.Seq
	c.rcvNxt = s.Seq.Add(1)
	c.lastAckSent = c.rcvNxt
	// The window our SYN offered counts from the peer's ISS, unknown when
	// the SYN went out: only now does its right edge have a place.
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size32(min(c.cfg.RecvBuffer, wire.TCPMaxWindow)))
	c.sndWnd = uint32(s.Window) // a SYN's window is never scaled (RFC 7323 §2.2)
	c.maxSndWnd = c.sndWnd
	c.sndWL1, c.sndWL2 = s.Seq, s.Ack
	if !hasACK {
		// Simultaneous open: answer SYN,ACK from SYN-RECEIVED.
		c.synPending = true
		c.timers.rtx = 0
		c.backoff = 0
		c.setState(now, SynReceived, "rcvd SYN in SYN-SENT (simultaneous open)")
		return
	}
	c.ackOurSYN(now, s)
	c.ackNow = true
	c.establish(now, "rcvd SYN,ACK")
	// Data or FIN on the SYN-ACK: continue at step six (RFC 9293 §3.10.7.3).
	s.Seq = s.Seq.Add(1)
	s.Flags &^= wire.SYN
	c.processText(now, s)
	c.checkFIN(now, s)
}

// staleACKRetry is how soon the SYN goes again after an ACK that answered
// it with someone else's numbers: Linux's TCP_TIMEOUT_MIN, two jiffies (8
// ms at HZ=250, 2 ms at HZ=1000).
const staleACKRetry = 2 * time.Millisecond

// retrySYNSoon, after the unacceptable ACK of SYN-SENT: such an ACK comes
// mostly from a peer that still holds an older incarnation of the 4-tuple
// in TIME-WAIT and rejected our SYN (by PAWS, or because its sequence
// number was not beyond the old one's, RFC 6191). The RST we answer with
// ends that TIME-WAIT (RFC 9293 §3.10.7.4; Linux's tcp_rfc1337=0), so the
// SYN need not wait a whole RTO: like Linux (tcp_rcv_synsent_state_process
// since 5.10) retransmit it almost at once, only before the first
// retransmission, so a peer that keeps answering so cannot make us flood.
func (c *Conn) retrySYNSoon(now clock.Instant) {
	if c.backoff != 0 || c.synPending {
		return
	}
	if at := now.Add(staleACKRetry); c.timers.rtx == 0 || at.Before(c.timers.rtx) {
		c.timers.rtx = at
		c.rtxKind = rtxTimerRTO
	}
}

// ackOurSYN takes the acknowledgement of our SYN: SND.UNA moves past ISS
// and the handshake gives an RTT sample unless the SYN was retransmitted
// (Karn's rule, RFC 6298 §3) or the timestamp echo gives one anyway.
func (c *Conn) ackOurSYN(now clock.Instant, s *Segment) {
	c.sndUna = s.Ack
	if c.sndNxt.LessThan(c.sndUna) {
		c.sndNxt = c.sndUna
	}
	switch {
	case c.tsOK && s.Options.HasTimestamp && s.Options.TSEcr != 0:
		c.rto.sample(c.tsRTT(now, s.Options.TSEcr))
	case c.backoff == 0 && c.rttTiming:
		c.rto.sample(now.Sub(c.rttTime))
	}
	c.rttTiming = false
	c.backoff = 0
	c.rtxStart = 0
	c.timers.rtx = 0
	if c.lr != nil {
		// The send window starts at ISS+1 (RFC 6675 §3: the scoreboard
		// covers the data after the SYN). Normally it is allocated later,
		// with the first data sent (recovery).
		c.lr.sb.Init(c.sndUna, c.sndMSS)
	}
}

// establish enters ESTABLISHED, or FIN-WAIT-1 when the application closed
// for writing during the handshake.
func (c *Conn) establish(now clock.Instant, why string) {
	c.setState(now, Established, why)
	if c.finQueued {
		c.setState(now, FinWait1, "close queued during handshake")
	}
}

// checkPAWS rejects a segment whose timestamp is older than TS.Recent
// (RFC 7323 §5.3, done before the sequence check).
//
// A non-RST segment without a timestamp once timestamps were negotiated
// passes. RFC 7323 §3.2 says such a segment SHOULD be dropped, but Linux
// accepts it (it runs PAWS only on segments that carry the option), and so
// do we: peers and middleboxes that strip the option from some segments
// (keepalives, RSTs turned into ACKs) then keep working, as they do with
// Linux. gVisor drops them.
func (c *Conn) checkPAWS(now clock.Instant, s *Segment) bool {
	if !c.tsOK || !s.Options.HasTimestamp || s.Flags&wire.RST != 0 {
		return true
	}
	if int32(s.Options.TSVal-c.tsRecent) >= 0 {
		return true
	}
	// §5.5: a TS.Recent idle for more than 24 days is invalid.
	if now.Sub(c.tsRecentAt) > pawsIdle {
		return true
	}
	c.stats.Drops[DropPAWS]++
	c.oowACK(now, s)
	return false
}

// rcvWnd is RCV.WND: from RCV.NXT to the advertised right edge.
func (c *Conn) rcvWnd() seqnum.Size32 {
	if d := c.rcvAdv.Sub(c.rcvNxt); d > 0 {
		return seqnum.Size32(d)
	}
	return 0
}

// checkSequence is step one (RFC 9293 §3.10.7.4 "first check sequence
// number"): the four acceptability cases, then trimming to the window.
func (c *Conn) checkSequence(now clock.Instant, s *Segment) bool {
	wnd := c.rcvWnd()
	n := s.Len()
	var ok bool
	switch {
	case n == 0 && wnd == 0:
		ok = s.Seq == c.rcvNxt
	case n == 0:
		// Also at the right edge itself: a peer whose data fills our
		// window sends its ACKs with SEG.SEQ = SND.NXT = our right edge,
		// and dropping them would lose their acknowledgements (Linux
		// accepts them likewise).
		ok = s.Seq.InWindow(c.rcvNxt, wnd) || s.Seq == c.rcvNxt.Add(wnd)
	case wnd == 0:
		ok = false
	default:
		last := s.Seq.Add(n - 1)
		ok = s.Seq.InWindow(c.rcvNxt, wnd) || last.InWindow(c.rcvNxt, wnd)
	}
	if !ok {
		if wnd == 0 && n > 0 && s.Seq == c.rcvNxt {
			// A zero-window probe: it still carries an acceptable ACK
			// (RFC 9293 §3.8.6.1 "must process the RST and URG fields"
			// and ACKs of zero-window segments).
			ok = true
			c.ackNow = true
			s.Payload = nil
			s.Flags &^= wire.FIN | wire.PSH
		}
	}
	if !ok {
		c.stats.Drops[DropNotAcceptable]++
		if s.Flags&wire.RST == 0 {
			// The duplicate ACK that answers, with a D-SACK block for old
			// data (oowACK: data and FINs every time, pure ACKs under the
			// invalid-segment limit).
			c.duplicateTS(now, s)
			if c.oowACK(now, s) {
				c.ackNow = true
				// The D-SACK block covers the duplicate's sequence space,
				// its FIN included (RFC 2883 §4; Linux likewise).
				if d := s.Seq.Add(n); len(s.Payload) > 0 && d.LessThanEq(c.rcvNxt) {
					c.noteDSACK(s.Seq, d)
				}
			}
			if c.state == TimeWait {
				c.timeWaitFIN(now, s, n)
			}
		}
		return false
	}
	// RFC 7323 §4.3: remember the timestamp of a segment that covers
	// Last.ACK.sent.
	if c.tsOK && s.Options.HasTimestamp && s.Seq.LessThanEq(c.lastAckSent) &&
		int32(s.Options.TSVal-c.tsRecent) >= 0 {
		c.tsRecent = s.Options.TSVal
		c.tsRecentAt = now
	}
	c.trim(s)
	return true
}

// trim cuts a segment to the receive window: bytes before RCV.NXT (and a
// SYN there) and bytes beyond the right edge (and a FIN there) go.
func (c *Conn) trim(s *Segment) {
	if d := c.rcvNxt.Sub(s.Seq); d > 0 {
		if s.Flags&wire.SYN != 0 {
			s.Flags &^= wire.SYN
			s.Seq = s.Seq.Add(1)
			d--
		}
		cut := min(int(d), len(s.Payload))
		if cut > 0 {
			c.noteDSACK(s.Seq, s.Seq.Add(seqnum.Size32(cut)))
		}
		s.Payload = s.Payload[cut:]
		s.Seq = s.Seq.Add(seqnum.Size32(cut))
		if int(d) > cut { // even the FIN was old
			s.Flags &^= wire.FIN
		}
	}
	room := c.rcvAdv.Sub(s.Seq)
	if room < 0 {
		room = 0
	}
	if len(s.Payload) > int(room) {
		s.Payload = s.Payload[:room]
		s.Flags &^= wire.FIN
	}
}

// checkRST is step two (RFC 9293 §3.10.7.4 "second check the RST bit"),
// with RFC 5961 §3.2: only an RST exactly at RCV.NXT resets; one elsewhere
// in the window draws a challenge ACK.
func (c *Conn) checkRST(now clock.Instant, s *Segment) bool {
	if s.Flags&wire.RST == 0 {
		return true
	}
	if s.Seq != c.rcvNxt {
		c.stats.Drops[DropRSTNotExact]++
		c.challengeACK(now)
		return false
	}
	c.summary.RSTReceived = true
	switch c.state {
	case SynReceived:
		if c.passive {
			// Back to LISTEN: for this Conn, gone (RFC 9293 §3.10.7.4).
			c.reset(now, ErrConnReset, EndRSTReceived, "rcvd RST in SYN-RECEIVED (passive open): back to LISTEN")
		} else {
			c.reset(now, ErrConnRefused, EndRefused, "rcvd RST in SYN-RECEIVED (active open): refused")
		}
	case TimeWait:
		c.timeWaitRST(now)
	case Closing, LastAck:
		c.reset(now, nil, EndRSTReceived, "rcvd RST in "+c.state.String())
	case CloseWait:
		// Linux's tcp_reset reports EPIPE, not ECONNRESET, for an RST in
		// CLOSE-WAIT: the peer had ended its stream, so reads give EOF
		// (FINBeforeResetReadsEOF) and only a write sees the error, as a
		// write to a closed pipe (drill/testdata/backlog_fin_gone.pkt).
		// The BSDs report ECONNRESET.
		err := ErrConnReset
		if c.cfg.Profile.FINBeforeResetReadsEOF {
			err = ErrWriteClosed
		}
		c.reset(now, err, EndRSTReceived, "rcvd RST in "+c.state.String())
	default:
		c.reset(now, ErrConnReset, EndRSTReceived, "rcvd RST in "+c.state.String())
	}
	return false
}

// checkSYN is step four: a SYN in a synchronized state draws a challenge
// ACK (RFC 5961 §4.2, replacing RFC 793's reset).
func (c *Conn) checkSYN(now clock.Instant, s *Segment) bool {
	if s.Flags&wire.SYN == 0 {
		return true
	}
	c.stats.Drops[DropSYNSynchronized]++
	c.challengeACK(now)
	return false
}

// challengeACK queues a challenge ACK (RFC 5961 §3-§5) under the limit
// of invalidACK.
func (c *Conn) challengeACK(now clock.Instant) {
	if c.invalidACK(now) {
		c.stats.ChallengeACKs++
	}
}

// invalidACK queues an ACK that answers an invalid segment (outside the
// window, an old timestamp, a challenge), at most one per
// ChallengeACKInterval (RFC 5961 §7; RFC 9293 §3.10.7.4 allows the limit
// for the ACKs of unacceptable segments). As Linux's
// tcp_invalid_ratelimit, one limit covers both kinds, so a flood of either
// costs one ACK per interval. It reports whether the ACK was queued.
func (c *Conn) invalidACK(now clock.Instant) bool {
	if c.lastChACK != 0 && now.Sub(c.lastChACK) < c.cfg.ChallengeACKInterval {
		c.stats.ACKsRateLimited++
		return false
	}
	c.lastChACK = now
	c.ackNow = true
	return true
}

// oowACK queues the duplicate ACK that answers an unacceptable segment
// (RFC 9293 §3.10.7.4) or one PAWS dropped (RFC 7323 §5.3). A segment that
// occupies sequence space without SYN (data, a FIN) is answered every
// time: it is not part of an ACK loop, and its sender needs the ACK (a
// retransmission whose first ACK was lost, a spurious retransmission's
// D-SACK). Anything else, pure ACKs above all, is answered under the
// invalid-segment limit (RFC 5961 §7). Linux draws the same line
// (tcp_oow_rate_limited).
func (c *Conn) oowACK(now clock.Instant, s *Segment) bool {
	if s.Len() > 0 && s.Flags&wire.SYN == 0 {
		c.ackNow = true
		return true
	}
	return c.invalidACK(now)
}

// tsRTT converts a timestamp echo to an RTT (RFC 7323 §4.1).
func (c *Conn) tsRTT(now clock.Instant, ecr uint32) time.Duration {
	d := int32(c.tsNow(now) - ecr)
	if d < 0 {
		return 0
	}
	return time.Duration(d) * time.Millisecond
}
