package dccp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// outFlags are the packets a Conn owes; NextPacket turns them into
// Packets in a fixed order.
type outFlags struct {
	request, response, ack, close, closeReq bool
	reset                                   bool
	resetCode                               wire.DCCPResetCode
	resetAck                                seqnum.V48
	sync, syncAck                           bool
	syncOf, syncAckOf                       seqnum.V48
	hasNoConn                               bool
	noConn                                  Packet
	lastSync                                clock.Instant
}

// queueSync asks for a Sync acknowledging ackno, at most one per
// SyncInterval (§7.5.4 asks for rate limiting; Linux: sync_ratelimit).
func (c *Conn) queueSync(now clock.Instant, ackno seqnum.V48) {
	if c.out.lastSync != 0 && now.Sub(c.out.lastSync) < c.cfg.SyncInterval {
		return
	}
	c.out.lastSync = now
	c.out.sync, c.out.syncOf = true, ackno
	c.counters.SyncsSent++
}

// NextPacket fills p with the next packet to send and reports whether
// there was one. The host calls it until it returns false after every
// HandlePacket, HandleTimer, Write, Read and Close. p's slices stay
// valid until the next call on the Conn.
func (c *Conn) NextPacket(now clock.Instant, p *Packet) bool {
	*p = Packet{X: true}
	switch {
	case c.out.hasNoConn:
		*p, c.out.hasNoConn = c.out.noConn, false
		c.counters.ResetsSent++
		c.counters.PacketsOut++
		return true
	case c.out.reset:
		c.out.reset = false
		p.Type, p.ResetCode = wire.DCCPReset, c.out.resetCode
		c.fill(now, p, c.out.resetAck)
		c.counters.ResetsSent++
		return true
	case c.Done():
		return false
	}
	if t, ok := c.nextControl(); ok {
		p.Type = t
		ack := c.gsr
		switch t {
		case wire.DCCPSync:
			ack = c.syncAckno(c.out.syncOf)
		case wire.DCCPSyncAck:
			ack = c.out.syncAckOf
		case wire.DCCPRequest, wire.DCCPResponse:
			p.ServiceCode = c.cfg.ServiceCode
		}
		c.fill(now, p, ack)
		return true
	}
	if c.nextData(now, p) {
		return true
	}
	// A Timestamp to echo rides on the next acknowledgement (§13.3); it
	// does not call for one of its own, or every timestamped data packet
	// would be acknowledged alone, defeating the Ack Ratio (RFC 4341 §6.1).
	if c.out.ack {
		p.Type = wire.DCCPAck
		c.fill(now, p, c.gsr)
		return true
	}
	return false
}

// syncAckno is the acknowledgement number of a Sync: the packet that drew
// it, which may lie outside the windows (§7.5.4).
func (c *Conn) syncAckno(v seqnum.V48) seqnum.V48 { return v }

// nextControl picks the control packet owed, if any, and clears it.
func (c *Conn) nextControl() (wire.DCCPType, bool) {
	o := &c.out
	take := func(f *bool, t wire.DCCPType) (wire.DCCPType, bool) {
		*f = false
		return t, true
	}
	switch {
	case o.request && c.state == Request:
		return take(&o.request, wire.DCCPRequest)
	case o.response && c.state == Respond:
		return take(&o.response, wire.DCCPResponse)
	case o.closeReq && c.state == CloseReq:
		return take(&o.closeReq, wire.DCCPCloseReq)
	case o.close && c.state == Closing:
		return take(&o.close, wire.DCCPClose)
	case o.sync:
		return take(&o.sync, wire.DCCPSync)
	case o.syncAck:
		return take(&o.syncAck, wire.DCCPSyncAck)
	}
	return 0, false
}

// nextData sends the oldest queued datagram if the state and the CCID
// allow. In PARTOPEN it must carry an acknowledgement (§8.1.5), so it is
// a DataAck; so it is whenever an acknowledgement is owed.
func (c *Conn) nextData(now clock.Instant, p *Packet) bool {
	if c.sendQ.len() == 0 || (c.state != Open && c.state != PartOpen) {
		return false
	}
	if c.seqGated(now) {
		return false
	}
	size := len(c.sendQ.front())
	if c.tx != nil {
		ok, retry := c.tx.CanSend(now, size)
		if !ok {
			c.timer.txRetry = retry
			return false
		}
	}
	c.timer.txRetry = 0
	p.Type = wire.DCCPData
	if c.state == PartOpen || c.out.ack || c.tsPending || c.feat.pending() || c.ackOfAckDue() {
		p.Type = wire.DCCPDataAck
	}
	c.dataSinceAck++
	c.noteDataSent()
	p.Payload = c.sendQ.pop()
	c.counters.DataOut++
	c.events |= EventWritable
	c.fill(now, p, c.gsr)
	c.maybeStartActiveClose(now)
	return true
}

// fill gives p the next sequence number, its acknowledgement and the
// options every packet of its kind carries, and tells the CCID.
func (c *Conn) fill(now clock.Instant, p *Packet, ackno seqnum.V48) {
	c.gss = c.gss.Add(1)
	p.Seq, p.X = c.gss, true
	c.counters.PacketsOut++
	hasAck := p.Type.HasAck()
	if hasAck {
		p.Ack = ackno
		c.out.ack = false
		c.timer.delack = 0
		c.dataSinceAck = 0
	}
	o := &p.Options
	if p.Type != wire.DCCPReset && p.Type != wire.DCCPSync && p.Type != wire.DCCPSyncAck {
		c.feat.appendPending(o)
	}
	if p.Type == wire.DCCPRequest || len(p.Payload) > 0 && c.tx != nil {
		o.HasTimestamp, o.Timestamp = true, tsUnits(now) // as Linux's Request (docs/peer-facts.md)
	}
	if c.tsPending && hasAck { // §13.3: echo the last Timestamp once
		c.tsPending = false
		o.HasEcho = true
		o.Echo = wire.DCCPTimestampEcho{Echo: c.tsRecv, Elapsed: tsUnits(now) - tsUnits(c.tsRecvAt), ElapsedLen: 4}
	}
	switch {
	case hasAck && p.Type != wire.DCCPReset && p.Type != wire.DCCPSync && p.Type != wire.DCCPSyncAck:
		c.appendAckState(p)
	case p.Type == wire.DCCPReset && c.dropRuns > 0:
		// Drops not yet reported would be lost with the connection: the
		// Reset tells them (§11.7; the peer reads options before the
		// Reset ends the connection, §8.5 steps 8 and 9).
		o.DataDropped = c.avRx.encodeDropped(c.ddBuf[:0], p.Ack, c.avRx.reach(), dropBlocksAck)
	}
	if hasAck && c.rx != nil && c.state >= Open && p.Type != wire.DCCPReset {
		c.rx.AppendFeedback(now, o)
	}
	c.appendNDPCount(p)
	if c.tx != nil {
		p.CCVal = c.tx.OnSent(now, p.Seq, len(p.Payload), len(p.Payload) > 0)
	}
}

// appendNDPCount adds the NDP Count option and counts p in the run of
// non-data packets (RFC 4340 §7.7): with Send NDP Count = 1 (the feature
// located here, §7.7.2) every packet that follows a non-data packet
// carries the length of that run. Request, Response, Data and DataAck
// are data packets; the others (Ack, Sync, SyncAck, Close, CloseReq,
// Reset) are not. The receiver's CCID tells from it which gaps in the
// sequence numbers lost data (§7.7.1; CCID 3's loss intervals, RFC 4342
// §6.1).
func (c *Conn) appendNDPCount(p *Packet) {
	if c.feat.local[wire.DCCPFeatSendNDPCount] == 1 && c.ndpRun > 0 {
		p.Options.HasNDPCount, p.Options.NDPCount = true, c.ndpRun
	}
	switch p.Type {
	case wire.DCCPRequest, wire.DCCPResponse, wire.DCCPData, wire.DCCPDataAck:
		c.ndpRun = 0
	default:
		c.ndpRun = min(c.ndpRun+1, 1<<48-1) // the option holds 6 bytes
	}
}

// sendsAckVector reports whether this end's acknowledgements carry Ack
// Vectors: when negotiated (Send Ack Vector, §11.5) or when the peer's
// sender runs CCID 2, which needs them (RFC 4341 §3).
func (c *Conn) sendsAckVector() bool {
	return c.feat.local[wire.DCCPFeatSendAckVector] == 1 || c.feat.remote[wire.DCCPFeatCCID] == 2 && c.state >= Open
}
