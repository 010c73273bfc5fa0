package dccp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// stepCloseReq is step 13: a CloseReq asks the client to close and keep
// TIMEWAIT (§8.3). Naively the Close goes out at once; with the passive
// close states it waits in PASSIVE_CLOSEREQ for the application (seed
// 001 §3.1). A client already in CLOSING answers with another Close (the
// Close crossing the CloseReq, seed 001 §4.2: "The receiver of a valid
// DCCP-CloseReq packet MUST respond with a DCCP-Close packet").
func (c *Conn) stepCloseReq(now clock.Instant, p *Packet) bool {
	if p.Type != wire.DCCPCloseReq {
		return false
	}
	switch {
	case c.state == Closing:
		c.out.close = true
	case !c.state.beforeCloseReq():
		// PASSIVE_CLOSEREQ or PASSIVE_CLOSE: the answer waits for the app.
	case c.cfg.Profile.DCCPPassiveCloseStates && !c.appClosed:
		// PASSIVE_CLOSEREQ waits for the application's Close; one that
		// already came (waiting for the send queue) is answered at once.
		c.setState(now, PassiveCloseReq, "CloseReq received, unread data is kept")
	default:
		c.startClosing(now, Closing, "CloseReq answered at once")
	}
	return true
}

// stepClose is step 14: a Close is answered with Reset(Closed), which
// ends the connection (§8.3). With the passive close states the Reset
// waits in PASSIVE_CLOSE until the application has read what is queued
// and closed. In CLOSING both ends closed at once: with the tie-breaker
// the client answers Reset and the server waits for it (seed 001 §4.1);
// without it both ignore the crossing Close and keep retransmitting.
func (c *Conn) stepClose(now clock.Instant, p *Packet) bool {
	if p.Type != wire.DCCPClose {
		return false
	}
	switch c.state {
	case Closing:
		if c.cfg.Profile.DCCPCloseTieBreaker && !c.isServer {
			c.finalReset(now, "simultaneous close: the client breaks the tie")
		}
	case PassiveClose:
		// a retransmitted Close: still waiting for the application
	case CloseReq:
		c.finalReset(now, "Close answers our CloseReq")
	default:
		// PASSIVE_CLOSE waits for the application's Close; if it already
		// came (its Close waits for the send queue to drain, which no
		// longer happens once the peer closed) there is nothing to wait
		// for: the queued datagrams are discarded unsent.
		if c.cfg.Profile.DCCPPassiveCloseStates && !c.appClosed {
			c.setState(now, PassiveClose, "Close received, unread data is kept")
		} else {
			c.finalReset(now, "Close answered at once")
		}
	}
	return true
}

// finalReset sends the Reset(Closed) that confirms a Close and ends the
// connection in CLOSED.
func (c *Conn) finalReset(now clock.Instant, why string) {
	c.setEnd(ClosedGracefully, wire.DCCPResetClosed)
	c.sendReset(now, wire.DCCPResetClosed, why, c.gsr)
}

// sendReset queues a Reset with the given code, acknowledging ackno, and
// moves to CLOSED. The Reset is emitted by NextPacket even in CLOSED.
func (c *Conn) sendReset(now clock.Instant, code wire.DCCPResetCode, why string, ackno seqnum.V48) {
	c.out.reset, c.out.resetCode, c.out.resetAck = true, code, ackno
	c.setEnd(ResetSent, code)
	c.setState(now, Closed, why)
}

// minCloseRTO bounds the first Close/CloseReq retransmission below. §8.3
// asks for two RTTs; with SRTT from real samples (a few µs on a local
// path) that is shorter than a peer's scheduling delay, and the Close
// went out again before the peer's crossing Close or final Reset could
// arrive. 200 ms is RFC 4340 §3.4's default RTT and Linux's minimum TCP
// RTO; Linux's DCCP waits longer still (DCCP_TIMEOUT_INIT, 3 s).
const minCloseRTO = 200 * time.Millisecond

// startClosing sends Close (to state Closing) or CloseReq (to CloseReq)
// and arms its retransmission timer: first after two round-trip times,
// then backing off exponentially to at most 64 s (§8.3), until the final
// timeout after CloseRetries retransmissions.
func (c *Conn) startClosing(now clock.Instant, s State, why string) {
	if s == Closing {
		c.out.close = true
	} else {
		c.out.closeReq = true
	}
	c.setState(now, s, why)
	c.timer.rtxStart = now
	c.timer.rtxCount = 0
	c.timer.rtxInterval = max(2*c.srtt, minCloseRTO)
	c.timer.rtx = now.Add(c.timer.rtxInterval)
}

// Close is the application closing the connection (seed 001 §3).
//
//   - With unread datagrams and AbortOnUnread: Reset(Aborted), CLOSED.
//   - In PASSIVE_CLOSE: the Reset(Closed) that confirms the peer's Close.
//   - In PASSIVE_CLOSEREQ: the Close that answers the peer's CloseReq.
//   - In OPEN or PARTOPEN: once the send queue is empty, a client sends
//     Close (CLOSING); a server sends CloseReq (CLOSEREQ), or Close with
//     ServerTimewait.
//   - Before the handshake completes: Reset(Closed), CLOSED.
func (c *Conn) Close(now clock.Instant) {
	if c.appClosed {
		return
	}
	c.appClosed = true
	if c.Done() {
		return
	}
	if c.state.passive() || c.state == Open || c.state == PartOpen {
		c.summary.ActiveClose = !c.state.passive()
	}
	if c.recvQ.len() > 0 && c.cfg.Profile.DCCPAbortOnUnread {
		c.summary.UnreadDiscarded += c.recvQ.len()
		c.recvQ.clear()
		c.sendReset(now, wire.DCCPResetAborted, "closed with unread data", c.gsr)
		return
	}
	c.summary.UnreadDiscarded += c.recvQ.len()
	c.recvQ.clear()
	switch c.state {
	case PassiveClose:
		c.finalReset(now, "application closed after the peer's Close")
	case PassiveCloseReq:
		c.startClosing(now, Closing, "application closed after the peer's CloseReq")
	case Open, PartOpen:
		c.closePending = true
		c.maybeStartActiveClose(now)
	case Request, Respond:
		c.sendReset(now, wire.DCCPResetClosed, "closed before the handshake completed", c.gsr)
	}
}

// maybeStartActiveClose sends the active close once every queued
// datagram has been sent.
func (c *Conn) maybeStartActiveClose(now clock.Instant) {
	if !c.closePending || c.sendQ.len() > 0 {
		return
	}
	c.closePending = false
	switch {
	case !c.isServer:
		c.startClosing(now, Closing, "application closed")
	case c.cfg.ServerTimewait:
		c.startClosing(now, Closing, "application closed, server keeps TIMEWAIT")
	default:
		c.startClosing(now, CloseReq, "application closed, client asked to keep TIMEWAIT")
	}
}

// Abort resets the connection at once with Reset(Aborted), discarding
// both queues (SO_LINGER with zero timeout).
func (c *Conn) Abort(now clock.Instant) {
	c.appClosed = true
	if c.Done() {
		return
	}
	c.summary.UnreadDiscarded += c.recvQ.len()
	c.recvQ.clear()
	c.sendReset(now, wire.DCCPResetAborted, "application aborted", c.gsr)
}

// noConnReply builds the Reset(No Connection) that answers P when there
// is no connection for it (§8.5 step 2): its sequence number is P's
// acknowledgement number plus one (zero if P has none) and it
// acknowledges P's sequence number.
func noConnReply(p *Packet) Packet {
	r := Packet{Type: wire.DCCPReset, X: true, Ack: p.Seq, ResetCode: wire.DCCPResetNoConnection}
	if p.Type.HasAck() {
		r.Seq = p.Ack.Add(1)
	}
	return r
}

// ResetFor returns the Reset with the given code that answers P when no
// connection takes it (§8.5 steps 2 and 3: No Connection; a Listener's
// Bad Service Code or Too Busy), and false when P is itself a Reset,
// which is never answered.
func ResetFor(p *Packet, code wire.DCCPResetCode) (Packet, bool) {
	if p.Type == wire.DCCPReset {
		return Packet{}, false
	}
	r := noConnReply(p)
	r.ResetCode = code
	return r, true
}
