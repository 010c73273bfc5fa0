package tcp

import "github.com/teardown-lab/teardown/clock"

// The persist timer (RFC 9293 §3.8.6.1): while the peer's window is zero
// and data waits, a probe goes out at every timeout, backed off as the
// RTO. A window too small to send into without silly windows (nothing in
// flight) runs the same timer, which then sends what fits instead of a
// probe (§3.8.6.2.1's override timeout; Linux does the same). Probing must go on as long as the peer answers (RFC 1122
// §4.2.2.17), but not for ever against a peer that went silent or one that
// pins an orphan's buffers, and a user timeout covers it (RFC 6429 §2):
//
//   - probesOut counts the probes since the peer last sent an acceptable
//     ACK; at Retries unanswered ones the connection times out, as Linux
//     counts them against tcp_retries2;
//   - the user timeout runs from the first probe (rtxStart, which the
//     retransmission timer uses the same way: time without progress) until
//     the window opens, answered probes or not, as Linux's
//     TCP_USER_TIMEOUT;
//   - an orphan (the application closed) is given up after OrphanRetries
//     unanswered probes, or that many once their interval reached RTOMax,
//     answered or not (Linux tcp_orphan_retries).

// onPersist runs the persist timer: give up, or send the next probe.
func (c *Conn) onPersist(now clock.Instant) {
	t := &c.timers
	limit := c.cfg.Retries
	if c.appClosed {
		limit = min(limit, c.cfg.OrphanRetries)
	}
	if int(c.probesOut) >= limit {
		c.timeout(now, "zero-window probes unanswered: retransmission limit reached")
		return
	}
	if c.appClosed && int(c.persistN) >= c.cfg.OrphanRetries && c.rto.backedOff(int(c.persistN)) >= c.cfg.RTOMax {
		c.timeout(now, "orphan: the peer's window stayed shut (OrphanRetries)")
		return
	}
	if c.rtxStart == 0 {
		c.rtxStart = now
	}
	if c.persistN < 1<<15 {
		c.persistN++
	}
	c.probesOut++
	if c.sndWnd > 0 {
		// A window too small for SWS avoidance: the override timeout
		// sends what fits (RFC 9293 §3.8.6.2.1); the retransmission
		// timer watches it, and the persist timer is rearmed when the
		// window holds data back again.
		c.swsOverride = true
		t.persist = 0
		return
	}
	c.probePending = true
	t.persist = now.Add(c.rto.backedOff(int(c.persistN)))
}

// windowOpened stops probing: the peer opened its window.
func (c *Conn) windowOpened() {
	c.timers.persist = 0
	c.persistN, c.probesOut = 0, 0
	c.probePending = false
	if c.sndUna == c.sndMax {
		c.rtxStart = 0 // nothing in flight: the persist state's clock
	}
}
