package dccp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// HandlePacket processes one received packet in the order of RFC 4340
// §8.5, one method per step. Step 1 (header checks) is the host's, with
// internal/wire; step 3 (LISTEN) is the Listener's.
func (c *Conn) HandlePacket(now clock.Instant, p *Packet) {
	c.counters.PacketsIn++
	if !c.extendSeqnos(p) ||
		c.stepTimewait(now, p) ||
		!c.stepRequestSeqnos(now, p) ||
		!c.stepSyncSeqnos(p) ||
		!c.stepCheckSeqnos(now, p) ||
		!c.stepUnexpectedTypes(now, p) ||
		!c.stepOptions(now, p) ||
		c.stepReset(now, p) {
		return
	}
	c.stepRequestState(now, p)
	c.stepRespondState(now, p)
	c.stepPartOpenState(now, p)
	if c.stepCloseReq(now, p) || c.stepClose(now, p) {
		return
	}
	c.stepSync(now, p)
	c.stepData(now, p)
}

// extendSeqnos completes 24-bit sequence and acknowledgement numbers
// (§7.6). Short numbers are accepted only if Allow Short Seqnos was
// negotiated for them (§7.6.1); otherwise the packet is ignored.
func (c *Conn) extendSeqnos(p *Packet) bool {
	if p.X {
		p.Seq &= seqnum.Mask48
		p.Ack &= seqnum.Mask48
		return true
	}
	if c.feat.local[wire.DCCPFeatAllowShortSeqnos] == 0 || !p.Type.AllowsShortSeq() {
		c.counters.InvalidSeq++
		return false
	}
	p.Seq = seqnum.Extend24(c.gsr, uint32(p.Seq))
	p.Ack = seqnum.Extend24(c.gss, uint32(p.Ack))
	return true
}

// stepTimewait is step 2: a Conn in TIMEWAIT (or already CLOSED, which
// the host should have forgotten) answers everything but a Reset with
// Reset(No Connection) and drops it. It reports whether P was consumed.
func (c *Conn) stepTimewait(now clock.Instant, p *Packet) bool {
	if c.state != TimeWait && c.state != Closed {
		return false
	}
	if p.Type != wire.DCCPReset {
		c.out.noConn, c.out.hasNoConn = noConnReply(p), true
	}
	return true
}

// stepRequestSeqnos is step 4: in REQUEST only a Response or Reset
// acknowledging one of our Requests is valid; it sets GSR and ISR.
func (c *Conn) stepRequestSeqnos(now clock.Instant, p *Packet) bool {
	if c.state != Request {
		return true
	}
	awl, awh := c.ackWindow()
	if (p.Type == wire.DCCPResponse || p.Type == wire.DCCPReset) && p.Ack.InRange(awl, awh) {
		c.isr, c.gsr, c.gsrValid = p.Seq, p.Seq, true
		return true
	}
	c.sendReset(now, wire.DCCPResetPacketError, "invalid packet in REQUEST", p.Seq)
	return false
}

// stepSyncSeqnos is step 5: a Sync or SyncAck whose acknowledgement is
// valid and whose sequence number is not old updates GSR before step 6.
func (c *Conn) stepSyncSeqnos(p *Packet) bool {
	if p.Type != wire.DCCPSync && p.Type != wire.DCCPSyncAck {
		return true
	}
	awl, awh := c.ackWindow()
	swl, _ := c.seqWindow()
	if p.Ack.InRange(awl, awh) && swl.LessThanEq(p.Seq) {
		if c.gsr.LessThan(p.Seq) {
			c.gsr = p.Seq
		}
		return true
	}
	c.counters.InvalidSeq++
	return false
}

// stepCheckSeqnos is step 6: the sequence and acknowledgement validity
// windows (§7.5.3). Close, CloseReq and Reset must be newer than anything
// seen (LSWL = GSR + 1, LAWL = GAR; Reset is in that list too, §8.5 step
// 6, so an old Reset cannot end the connection). A valid packet updates
// GSR, and GAR unless it is a Sync. An invalid packet draws a Sync
// (§7.5.4), rate-limited.
func (c *Conn) stepCheckSeqnos(now clock.Instant, p *Packet) bool {
	if c.state == Request {
		// Step 4 validated P and set GSR = ISR = P.seqno from it; a Reset
		// refusing the Request would fail LSWL = GSR + 1 (Linux, too,
		// skips step 6 in REQUEST).
		return true
	}
	swl, swh := c.seqWindow()
	awl, awh := c.ackWindow()
	if p.Type == wire.DCCPClose || p.Type == wire.DCCPCloseReq || p.Type == wire.DCCPReset {
		swl, awl = c.gsr.Add(1), c.gar
	}
	hasAck := p.Type.HasAck()
	if p.Seq.InRange(swl, swh) && (!hasAck || p.Ack.InRange(awl, awh)) {
		if c.gsr.LessThan(p.Seq) {
			c.gsr = p.Seq
		}
		if hasAck && p.Type != wire.DCCPSync && c.gar.LessThan(p.Ack) {
			c.gar = p.Ack
		}
		return true
	}
	c.counters.InvalidSeq++
	switch p.Type {
	case wire.DCCPReset: // §7.5.4: a Sync acknowledging GSR, not the Reset
		c.queueSync(now, c.gsr)
	case wire.DCCPSync, wire.DCCPSyncAck:
	default:
		c.queueSync(now, p.Seq)
	}
	return false
}

// stepUnexpectedTypes is step 7: packet types that cannot arrive in this
// role or state draw a Sync acknowledging them and are dropped.
func (c *Conn) stepUnexpectedTypes(now clock.Instant, p *Packet) bool {
	t := p.Type
	open := c.state >= Open
	if (c.isServer && (t == wire.DCCPCloseReq || t == wire.DCCPResponse)) ||
		(!c.isServer && t == wire.DCCPRequest) ||
		(open && t == wire.DCCPRequest && c.osr.LessThanEq(p.Seq)) ||
		(open && t == wire.DCCPResponse && c.osr.LessThanEq(p.Seq)) ||
		(c.state == Respond && t == wire.DCCPData) {
		c.counters.Unexpected++
		c.queueSync(now, p.Seq)
		return false
	}
	return true
}

// stepOptions is step 8: options, feature negotiation, and marking the
// packet acknowledgeable (§11.4: it enters the Ack Vector state).
func (c *Conn) stepOptions(now clock.Instant, p *Packet) bool {
	code := p.Options.Err
	if code == 0 {
		code = c.feat.process(&p.Options, &c.counters)
	}
	if code != 0 {
		c.counters.OptionErrors++
		c.sendReset(now, code, "option processing failed", c.gsr)
		return false
	}
	if ar, ok := c.rx.(ackRatioRx); ok && p.Options.NFeatures > 0 {
		// §11.3: the sender's Change L(Ack Ratio) takes effect at once.
		ar.setAckRatio(c.feat.remote[wire.DCCPFeatAckRatio])
	}
	c.acceptOptions(now, p)
	c.dup = c.avRx.received(p.Seq)
	if p.Type != wire.DCCPReset && p.Type != wire.DCCPSync && p.Type != wire.DCCPSyncAck {
		c.notePeerGap(p.Seq)
		c.avRx.record(p.Seq)
	}
	hasAck := p.Type.HasAck()
	if hasAck && p.Type != wire.DCCPReset {
		c.takeAckOfAck(p)
	}
	if hasAck {
		c.takeDropReports(now, p)
	}
	if hasAck && c.tx != nil {
		c.tx.OnPacket(now, p, true, c.rttSample)
	}
	if c.tx != nil {
		// On every packet, not only acknowledgements: a data receiver
		// whose own packets (its acknowledgements) go unacknowledged
		// must widen its Sequence Window as they pile up (§7.5.2), or
		// the sender's acknowledgement numbers fall below its AWL and
		// the data packets carrying them are dropped (§8.5 step 6).
		c.adaptSeqWindow()
	}
	if c.rx != nil {
		if c.rx.OnPacket(now, p, c.srtt) {
			c.out.ack = true
		}
		if lc, ok := c.rx.(lossCounter); ok {
			c.counters.LossEvents = lc.lossEvents()
		}
	}
	return true
}

// acceptOptions takes the timing options of a valid packet: a Timestamp
// to echo (§13.3) and an echo of ours, which gives an RTT sample
// (c.rttSample, zero when the packet gave none).
func (c *Conn) acceptOptions(now clock.Instant, p *Packet) {
	o := &p.Options
	c.rttSample = 0
	if o.HasTimestamp {
		c.tsRecv, c.tsRecvAt, c.tsPending = o.Timestamp, now, true
	}
	if o.HasEcho {
		c.takeRTTSample(now, &o.Echo)
	}
}

// tsUnit is the Timestamp unit, 10 µs (§13.1): the granularity of every
// RTT sample.
const tsUnit = 10 * time.Microsecond

// takeRTTSample derives an RTT sample from the echo of one of our
// Timestamps less the Elapsed Time the peer held it (§13.3) and feeds the
// connection's estimate. Both times count whole units, so a sample may
// round to zero, or to one unit below zero: it means "under one unit" and
// counts as one unit (a path faster than the clock's granularity is
// still a path; dropping those samples left a zero-delay path with the
// 200 ms guess for ever). An echo from the future (a wrapped difference)
// or a sample over a minute is not an RTT and is dropped. The first
// sample sets the estimate (RFC 6298 §2.2: SRTT <- R); later ones are
// averaged in with gain 1/8 (§2.3).
func (c *Conn) takeRTTSample(now clock.Instant, e *wire.DCCPTimestampEcho) {
	units := int64(tsUnits(now) - e.Echo) // 10 µs units, wrapping
	if e.ElapsedLen > 0 {
		units -= int64(e.Elapsed)
	}
	rtt := time.Duration(units) * tsUnit
	if rtt < -tsUnit || rtt >= time.Minute {
		return
	}
	rtt = max(rtt, tsUnit)
	c.rttSample = rtt
	if !c.rttValid {
		c.srtt, c.rttValid = rtt, true
		return
	}
	c.srtt = (7*c.srtt + rtt) / 8
}

// tsUnits converts an Instant to Timestamp units of 10 µs (§13.1).
func tsUnits(now clock.Instant) uint32 { return uint32(int64(now) / 10000) }

// stepReset is step 9: a valid Reset ends the connection in TIMEWAIT.
func (c *Conn) stepReset(now clock.Instant, p *Packet) bool {
	if p.Type != wire.DCCPReset {
		return false
	}
	c.counters.ResetsIn++
	c.gotReset, c.peerReset = true, p.ResetCode
	graceful := p.ResetCode == wire.DCCPResetClosed &&
		(c.state == Closing || c.state == CloseReq)
	if graceful {
		c.setEnd(ClosedGracefully, p.ResetCode)
	} else {
		c.setEnd(ResetReceived, p.ResetCode)
	}
	c.setState(now, TimeWait, "Reset("+p.ResetCode.String()+") received")
	return true
}

// stepRequestState is step 10: the Response moves a client to PARTOPEN.
func (c *Conn) stepRequestState(now clock.Instant, p *Packet) {
	if c.state != Request {
		return
	}
	c.events |= EventConnected
	c.out.ack = true
	c.setState(now, PartOpen, "Response received")
	c.timer.partOpenInterval = 200 * time.Millisecond
	c.timer.partOpen = now.Add(c.timer.partOpenInterval)
}

// stepRespondState is step 11: a retransmitted Request is answered with
// another Response; any other packet completes the handshake.
func (c *Conn) stepRespondState(now clock.Instant, p *Packet) {
	if c.state != Respond {
		return
	}
	if p.Type == wire.DCCPRequest {
		c.out.response = true
		return
	}
	c.osr = p.Seq
	c.events |= EventConnected
	c.out.ack = true // tells a client in PARTOPEN that its Ack arrived (§8.1.5)
	c.setState(now, Open, p.Type.String()+" completes the handshake")
}

// stepPartOpenState is step 12: in PARTOPEN a Response is acknowledged
// again; any other packet from the server proves it saw our Ack (§8.1.5).
func (c *Conn) stepPartOpenState(now clock.Instant, p *Packet) {
	if c.state != PartOpen {
		return
	}
	if p.Type == wire.DCCPResponse {
		c.out.ack = true
		return
	}
	c.osr = p.Seq
	c.setState(now, Open, p.Type.String()+" received in PARTOPEN")
}

// stepSync is step 15: a Sync is answered with a SyncAck.
func (c *Conn) stepSync(now clock.Instant, p *Packet) {
	if p.Type == wire.DCCPSync {
		c.out.syncAck, c.out.syncAckOf = true, p.Seq
	}
}

// stepData is step 16: application data is queued for the reader.
func (c *Conn) stepData(now clock.Instant, p *Packet) {
	if p.Type != wire.DCCPData && p.Type != wire.DCCPDataAck {
		return
	}
	c.counters.DataIn++
	switch {
	case c.dup: // a duplicated packet: deliver each datagram at most once
		c.counters.Duplicates++
	case c.appClosed: // data sent before the peer's Close may still arrive; ours is closed
		c.counters.DiscardedAfterClose++
		c.avRx.markDropped(p.Seq, wire.DCCPDropApplicationNotListening)
	case !c.recvQ.push(p.Payload):
		c.counters.RecvQueueDrops++
		c.dropRecv(now, p, wire.DCCPDropReceiveBuffer)
	default:
		c.events |= EventReadable
	}
	if c.rx == nil { // no CCID: acknowledge data after the delayed-ack time
		if c.timer.delack == 0 {
			c.timer.delack = now.Add(c.cfg.DelayedAck)
		}
	}
}
