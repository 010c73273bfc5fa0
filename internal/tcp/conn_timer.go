package tcp

import (
	"github.com/teardown-lab/teardown/clock"
)

// NextDeadline returns when HandleTimer should next be called; zero means
// no timer is armed.
func (c *Conn) NextDeadline() clock.Instant {
	t := &c.timers
	d := clock.Earliest(t.rtx, t.persist)
	d = clock.Earliest(d, t.delack)
	d = clock.Earliest(d, t.keepalive)
	d = clock.Earliest(d, t.timeWait)
	d = clock.Earliest(d, t.finWait2)
	if c.cfg.UserTimeout > 0 && c.rtxStart != 0 {
		d = clock.Earliest(d, c.rtxStart.Add(c.cfg.UserTimeout))
	}
	return d
}

func due(t, now clock.Instant) bool { return t != 0 && !now.Before(t) }

// HandleTimer runs every timer whose deadline has passed. Calling it early
// or twice is harmless.
func (c *Conn) HandleTimer(now clock.Instant) {
	t := &c.timers
	if due(t.timeWait, now) {
		c.endTimeWait(now)
		return
	}
	if due(t.finWait2, now) {
		c.end(now, EndAbandoned, "FIN-WAIT-2 timeout after close: the peer never sent FIN")
		c.setState(now, Closed, "FIN-WAIT-2 timeout")
		return
	}
	if c.cfg.UserTimeout > 0 && c.rtxStart != 0 && !now.Before(c.rtxStart.Add(c.cfg.UserTimeout)) {
		c.timeout(now, "user timeout: sent data unacknowledged (RFC 5482)")
		return
	}
	if due(t.rtx, now) {
		t.rtx = 0
		switch c.rtxKind {
		case rtxTimerPTO:
			c.onPTO(now)
		case rtxTimerREO:
			c.onReorderTimeout(now)
		default:
			c.onRTO(now)
		}
		if c.state == Closed {
			return
		}
	}
	if due(t.delack, now) {
		t.delack = 0
		c.ackNow = true
	}
	if due(t.persist, now) {
		if c.onPersist(now); c.state == Closed {
			return
		}
	}
	if due(t.keepalive, now) {
		c.onKeepalive(now)
	}
}

// onRTO is the retransmission timeout (RFC 6298 §5.4-5.7): back off,
// collapse the congestion window, and go back to SND.UNA.
func (c *Conn) onRTO(now clock.Instant) {
	c.stats.RTOs++
	limit := c.cfg.Retries
	if c.state == SynSent || c.state == SynReceived {
		limit = c.cfg.SYNRetries
	} else if c.appClosed {
		limit = min(limit, c.cfg.OrphanRetries) // Linux tcp_orphan_retries
	}
	if c.backoff >= limit {
		c.timeout(now, "retransmission limit reached")
		return
	}
	if c.rtxStart == 0 {
		c.rtxStart = now
	}
	c.backoff++
	c.rttTiming = false // Karn's rule (RFC 6298 §3)
	switch c.state {
	case SynSent, SynReceived:
		c.synPending = true
	default:
		if c.sndUna == c.sndMax {
			return
		}
		c.cc.OnRetransmitTimeout(now, int(c.sndMax.Sub(c.sndUna)))
		if c.sackOK {
			c.sackOnRTO()
			break
		}
		c.inRecovery = false
		c.recover = c.sndMax
		c.dupAcks = 0
		c.sndNxt = c.sndUna
	}
	c.armRTO(now)
}

// timeout gives the connection up (RFC 9293 §3.8.3 R2; RFC 5482). Like
// Linux it sends no RST: the peer is presumed unreachable.
func (c *Conn) timeout(now clock.Instant, why string) {
	c.events |= EventTimeout
	c.reset(now, ErrTimeout, EndTimeout, why)
}

// armKeepalive arms the idle timer in ESTABLISHED when keepalive is on.
func (c *Conn) armKeepalive(now clock.Instant) {
	if c.keepAlive && c.state == Established && c.timers.keepalive == 0 {
		c.timers.keepalive = now.Add(c.cfg.KeepAliveIdle)
	}
}

// onKeepalive sends a keepalive probe or, after KeepAliveCount unanswered
// ones, gives up with RST as Linux does.
func (c *Conn) onKeepalive(now clock.Instant) {
	if !c.keepAlive || (c.state != Established && c.state != CloseWait) {
		c.timers.keepalive = 0
		return
	}
	if c.sndUna != c.sndMax || c.snd.len() > 0 {
		// Data is outstanding: the retransmission timer watches the peer.
		c.timers.keepalive = now.Add(c.cfg.KeepAliveInterval)
		return
	}
	if int(c.kaProbes) >= c.cfg.KeepAliveCount {
		c.events |= EventTimeout
		c.queueRST(c.sndMax, c.rcvNxt, true)
		c.summary.RSTSent = true
		c.reset(now, ErrTimeout, EndTimeout, "keepalive: peer did not answer")
		return
	}
	c.kaProbes++
	c.keepalivePending = true
	c.timers.keepalive = now.Add(c.cfg.KeepAliveInterval)
}
