package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// NextSegment fills seg with the next segment to send and reports whether
// there was one. The host calls it until it returns false (after every
// input) and encodes each segment. seg.Payload is a view of the send
// buffer, valid until the next call on the Conn.
func (c *Conn) NextSegment(now clock.Instant, seg *Segment) bool {
	*seg = Segment{}
	var ok bool
	switch {
	case c.rstPending:
		seg.Seq, seg.Flags = c.rstSeq, wire.RST
		if c.rstWithACK {
			seg.Flags |= wire.ACK
			seg.Ack = c.rstAck
			if c.tsOK {
				// An RST of the connection's own (an abort) carries the
				// timestamp option (RFC 7323 §3.2: SHOULD; Linux's
				// tcp_send_active_reset). The RSTs answering a segment,
				// <SEQ=SEG.ACK><CTL=RST>, carry none, as Linux's.
				seg.Options.HasTimestamp = true
				seg.Options.TSVal, seg.Options.TSEcr = c.tsNow(now), c.tsRecent
			}
		}
		c.rstPending = false
		c.stats.RSTsOut++
		ok = true
	case c.state == Closed || c.state == Listen:
		return false
	case c.synPending:
		c.fillSYN(now, seg)
		ok = true
	case c.state == SynSent:
		return false
	default:
		ok = c.fillData(now, seg) || c.fillProbe(now, seg) || c.fillACK(now, seg)
	}
	if ok {
		c.stats.SegsOut++
		if g := int(seg.GSOSize); g > 0 {
			c.stats.SegsOut += uint64((len(seg.Payload)+g-1)/g - 1)
		}
		c.stats.BytesOut += uint64(len(seg.Payload))
	}
	return ok
}

// fillSYN builds our SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED) with the
// options we offer (RFC 9293 §3.7.1, RFC 7323 §2.2 and §3.2, RFC 2018 §2);
// a SYN-ACK offers only what the peer's SYN offered.
func (c *Conn) fillSYN(now clock.Instant, seg *Segment) {
	c.synPending = false
	active := c.state == SynSent
	seg.Seq = c.iss
	seg.Flags = wire.SYN
	o := &seg.Options
	o.HasMSS, o.MSS = true, uint16(c.cfg.MSS)
	if !c.cfg.NoWindowScaling && (active || c.wsOK) {
		o.HasWScale, o.WScale = true, c.cfg.windowShift()
	}
	o.SACKPermitted = !c.cfg.NoSACK && (active || c.sackOK)
	if !c.cfg.NoTimestamps && (active || c.tsOK) {
		o.HasTimestamp, o.TSVal = true, c.tsNow(now)
	}
	if !active {
		seg.Flags |= wire.ACK
		seg.Ack = c.rcvNxt
		o.TSEcr = c.tsRecent
		c.lastAckSent = c.rcvNxt
		c.ackNow = false
	}
	seg.Window = c.cfg.synWindow()
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size32(seg.Window))
	if c.sndMax == c.iss {
		c.rttTiming, c.rttTime = true, now
	} else {
		c.stats.Retransmits++
	}
	c.sndNxt = c.iss.Add(1)
	c.sndMax = c.sndNxt
	if c.timers.rtx == 0 {
		c.armRTO(now)
	}
}

// fillACK builds a pure ACK when one is due.
func (c *Conn) fillACK(now clock.Instant, seg *Segment) bool {
	if !c.ackNow {
		return false
	}
	// SND.NXT, except after a timeout sent it back to SND.UNA: the peer
	// may have everything up to sndMax already, and would find an ACK
	// below its RCV.NXT unacceptable.
	seg.Seq = c.sndMax
	c.stampACK(now, seg)
	return true
}

// payloadMSS is the most payload the next segment may carry: the send MSS
// less the room the SACK blocks that stampACK will add take. RFC 9293
// §3.7.1: the MSS counts data only, so options beyond those the MSS
// already allows for (timestamps) shrink the data, or the packet would
// outgrow the path MTU (Linux: tcp_current_mss).
func (c *Conn) payloadMSS() int {
	if !c.sackOK || (c.ooo.empty() && !c.hasDSACK) {
		return c.sndMSS
	}
	maxSACK := wire.MaxSACKBlocks
	if c.tsOK {
		maxSACK = 3
	}
	blocks := 0
	if !c.ooo.empty() {
		blocks = c.ooo.n
	}
	if c.hasDSACK {
		blocks++
	}
	blocks = min(blocks, maxSACK)
	return max(c.sndMSS-wire.TCPSACKRoom(blocks), 1)
}

// stampACK adds what every segment after the handshake carries: the ACK,
// the window, timestamps and SACK blocks. Sending it settles any ACK due.
func (c *Conn) stampACK(now clock.Instant, seg *Segment) {
	seg.Flags |= wire.ACK
	seg.Ack = c.rcvNxt
	seg.Window = c.windowField()
	maxSACK := wire.MaxSACKBlocks
	if c.tsOK {
		seg.Options.HasTimestamp = true
		seg.Options.TSVal = c.tsNow(now)
		seg.Options.TSEcr = c.tsRecent
		maxSACK = 3
	}
	if c.sackOK && (c.hasDSACK || !c.ooo.empty()) {
		c.sackOption(&seg.Options, maxSACK)
	}
	c.ackSent()
	c.ackNow = false
	c.timers.delack = 0
	c.lastAckSent = c.rcvNxt
}

// windowField computes the window to advertise, scaled (RFC 7323 §2.3),
// with receiver-side silly window avoidance (RFC 9293 §3.8.6.2.2): the
// right edge moves only by at least min(buffer/2, MSS), and never left.
func (c *Conn) windowField() uint16 {
	readSeq := c.rcvNxt.Add(-seqnum.Size32(c.rcv.len()))
	edge := readSeq.Add(seqnum.Size32(c.cfg.RecvBuffer))
	if c.readClosed && c.cfg.Profile.DiscardAfterShutdownRead {
		edge = c.rcvNxt.Add(seqnum.Size32(c.cfg.RecvBuffer))
	}
	step := min(c.cfg.RecvBuffer/2, c.cfg.MSS)
	if int(edge.Sub(c.rcvAdv)) >= step || c.rcvAdv.LessThan(c.rcvNxt) {
		c.rcvAdv = edge
	}
	wnd := c.rcvAdv.Sub(c.rcvNxt)
	if wnd < 0 {
		wnd = 0
	}
	// Round up so that the right edge does not move left; the ring has one
	// scale unit of slack for it.
	f := (int64(wnd) + 1<<c.rcvShift - 1) >> c.rcvShift
	// Rounded-up edges must not creep past the ring: RCV.NXT moves by
	// amounts that are not whole units, and each round-up would add to
	// the last until the peer may send over unread data.
	if room := int64(readSeq.Add(seqnum.Size32(c.rcv.cap())).Sub(c.rcvNxt)); f<<c.rcvShift > room {
		f = room >> c.rcvShift
	}
	f = min(f, wire.TCPMaxWindow)
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size32(f << c.rcvShift)).Max(c.rcvAdv)
	return uint16(f)
}

// canSend reports whether the state sends data and FIN.
func (c *Conn) canSend() bool {
	switch c.state {
	case Established, CloseWait, FinWait1, Closing, LastAck:
		return true
	}
	return false
}

// fillData builds a data and/or FIN segment: a fast retransmission first,
// else the next data within the send and congestion windows, subject to
// Nagle (RFC 9293 §3.7.4) and sender silly window avoidance (§3.8.6.2.1).
func (c *Conn) fillData(now clock.Instant, seg *Segment) bool {
	if !c.canSend() {
		return false
	}
	if c.tlpPending {
		c.tlpPending = false
		if c.fillTLP(now, seg) {
			return true
		}
	}
	if c.rtxPending {
		c.rtxPending = false
		if c.sackOK && c.lr != nil { // lr is nil until data was sent
			if c.sendRange(now, seg, c.lr.sackFirst) {
				return true
			}
		} else if c.fillRetransmit(now, seg) {
			return true
		}
	}
	if c.sackOK && c.recovering() {
		return c.fillSACK(now, seg)
	}
	return c.fillNew(now, seg)
}

// gsoRun returns the payload of a run of full segments to send as one
// (Config.GSOMaxPayload), or 0 to send n bytes as one segment: a run
// takes only new data beyond one full segment, outside loss recovery and
// before the FIN is queued, in whole segments within both windows.
func (c *Conn) gsoRun(n, mss, avail, room int, retransmitting bool) int {
	g := c.cfg.GSOMaxPayload
	if g < 2*mss || n != mss || retransmitting || c.finQueued || c.recovering() {
		return 0
	}
	if run := min(avail, room, g) / mss * mss; run > mss {
		return run
	}
	return 0
}

// fillNew builds the next segment of data from SND.NXT (new data, or data
// sent again after a timeout without SACK): within the send window and
// the congestion window, subject to Nagle and sender silly window
// avoidance.
func (c *Conn) fillNew(now clock.Instant, seg *Segment) bool {
	off := int(c.sndNxt.Sub(c.sndBufSeq))
	avail := max(0, c.snd.len()-off)
	if avail > 0 && c.sndUna == c.sndMax && c.lastDataSent != 0 && now.Sub(c.lastDataSent) > c.rto.rto {
		// RFC 5681 §4.1: after an idle period longer than the RTO, start
		// again from the restart window instead of sending a burst of a
		// stale cwnd (Linux: tcp_slow_start_after_idle).
		c.cc.OnRestartAfterIdle(now)
		c.lastDataSent = now
	}
	inflight := int(c.sndNxt.Sub(c.sndUna))
	if c.lr != nil && c.lr.sb.NumRanges() > 0 {
		// RFC 6675 §5 step 3, limited transmit by pipe: SACKed data has
		// left the network, so duplicate ACKs make room for new data.
		inflight = c.pipe()
	}
	wndRoom := max(0, int(c.sndUna.Add(seqnum.Size32(c.sndWnd)).Sub(c.sndNxt)))
	room := min(wndRoom, max(0, c.cc.CWnd()-inflight))
	mss := c.payloadMSS()
	n := min(avail, mss, room)
	retransmitting := c.sndNxt.LessThan(c.sndMax)
	corked := false
	// swsOverride: the persist timer's turn, send what fits (RFC 9293
	// §3.8.6.2.1, the override timeout; conn_persist.go).
	if n > 0 && n < mss && !retransmitting && !c.swsOverride {
		if n < avail {
			// Window-limited: wait for room for a full segment or half the
			// largest window the peer offered.
			if n < int(c.maxSndWnd/2) {
				n = 0
			}
		} else if !c.finQueued && (c.cfg.Cork || !c.noDelay && c.sndUna != c.sndNxt) {
			// Nagle: a small segment waits while data is unacknowledged;
			// corked, it waits anyway (for SetCork(false), not the
			// persist timer).
			n, corked = 0, c.cfg.Cork
		}
	}
	gso := c.gsoRun(n, mss, avail, room, retransmitting)
	if gso > 0 {
		n = gso
	}
	if n > 0 {
		seg.Payload = c.snd.peek(off, n) // shorter where the ring wraps
		n = len(seg.Payload)
		if gso > 0 && n > mss {
			seg.GSOSize = uint16(mss)
		}
	}
	fin := c.finQueued && c.sndNxt.Add(seqnum.Size32(n)) == c.finSeq()
	c.swsOverride = false
	if n == 0 && !fin {
		if avail > 0 && c.sndUna == c.sndNxt && c.timers.persist == 0 && !corked {
			// Nothing in flight, and the window is shut or too small to
			// send into (sender SWS avoidance): only the persist timer
			// moves the data on.
			c.timers.persist = now.Add(c.rto.backedOff(int(c.persistN)))
		}
		return false
	}
	seg.Seq = c.sndNxt
	if n > 0 && (off+n == c.snd.len() || c.pushPastHalfWindow(seg.Seq.Add(seqnum.Size32(n)))) {
		seg.Flags |= wire.PSH
		c.pushedSeq = c.pushedSeq.Max(seg.Seq.Add(seqnum.Size32(n)))
	}
	if fin {
		seg.Flags |= wire.FIN
		c.finSent = true
		c.summary.FINSent = true
	}
	if retransmitting {
		c.stats.Retransmits++
		c.stats.RetransmitBytes += uint64(len(seg.Payload))
	} else if !c.tsOK && !c.rttTiming && n > 0 {
		c.rttTiming, c.rttSeq, c.rttTime = true, c.sndNxt.Add(seqnum.Size32(n)), now
	}
	if c.sackOK {
		c.recovery().sb.Sent(SACKSend{Seq: seg.Seq, Len: int(seg.Len()), Rule: NextSegNewData})
	}
	c.rackSent(now, seg.Seq, seg.Len(), retransmitting)
	c.sndNxt = c.sndNxt.Add(seg.Len())
	c.sndMax = c.sndMax.Max(c.sndNxt)
	c.armAfterSend(now, !retransmitting)
	c.lastDataSent = now
	c.stampACK(now, seg)
	return true
}

// fillRetransmit resends one segment from SND.UNA (fast retransmit, RFC
// 5681 §3.2, or the next hole after a partial ACK, RFC 6582 §3.2).
func (c *Conn) fillRetransmit(now clock.Instant, seg *Segment) bool {
	off := int(c.sndUna.Sub(c.sndBufSeq))
	if off < 0 {
		return false
	}
	seg.Payload = c.snd.peek(off, c.payloadMSS())
	n := len(seg.Payload)
	seg.Seq = c.sndUna
	if c.finSent && c.sndUna.Add(seqnum.Size32(n)) == c.finSeq() {
		seg.Flags |= wire.FIN
	}
	if seg.Len() == 0 {
		return false
	}
	c.stats.Retransmits++
	c.stats.RetransmitBytes += uint64(n)
	if end := c.sndUna.Add(seg.Len()); c.sndNxt.LessThan(end) {
		c.sndNxt = end
	}
	if c.rttTiming && c.sndUna.LessThan(c.rttSeq) {
		c.rttTiming = false // Karn: this range is ambiguous now
	}
	c.armRTO(now)
	c.lastDataSent = now
	c.stampACK(now, seg)
	return true
}

// fillProbe builds a zero-window probe (RFC 9293 §3.8.6.1) or a keepalive
// (§3.8.4): a segment with an old sequence number, SND.UNA-1, that the
// peer must answer with an ACK carrying its current window.
func (c *Conn) fillProbe(now clock.Instant, seg *Segment) bool {
	if !c.probePending && !c.keepalivePending {
		return false
	}
	c.probePending, c.keepalivePending = false, false
	seg.Seq = c.sndUna - 1
	c.stampACK(now, seg)
	return true
}

// queueRST schedules an RST. withACK adds ACK=ack (RST,ACK).
func (c *Conn) queueRST(seq, ack seqnum.V32, withACK bool) {
	c.rstSeq, c.rstAck, c.rstWithACK = seq, ack, withACK
	c.rstPending = true
}

// pushPastHalfWindow reports whether new data ending at end goes more
// than half the peer's largest window past the last PSH, and so carries
// PSH under Profile.PushPastHalfWindow (Linux's forced_push: the sender
// tells the receiver to deliver what it holds before the window fills).
func (c *Conn) pushPastHalfWindow(end seqnum.V32) bool {
	return c.cfg.Profile.PushPastHalfWindow && int64(end.Sub(c.pushedSeq)) > int64(c.maxSndWnd/2)
}
