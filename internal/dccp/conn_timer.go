package dccp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// maxBackoff is the largest retransmission interval: §8.1.1 and §8.3 ask
// to back off "to not less than one packet every 64 seconds".
const maxBackoff = 64 * time.Second

// partOpenRetries bounds the PARTOPEN Ack retransmissions; the client
// then waits, still able to send DataAcks, for the server's next packet.
const partOpenRetries = 8

// timers are deadlines; zero means disarmed.
type timers struct {
	rtx         clock.Instant // Request, CloseReq or Close retransmission
	rtxStart    clock.Instant
	rtxInterval time.Duration
	rtxCount    int

	partOpen         clock.Instant // §8.1.5 Ack retransmission
	partOpenInterval time.Duration
	partOpenCount    int

	respond clock.Instant // a server gives up waiting in RESPOND
	// partOpenEnd: a client still in PARTOPEN after 4 MSL resets the
	// connection with Reset (Aborted) (§8.1.5).
	partOpenEnd clock.Instant
	timeWait    clock.Instant // 2 MSL (§8.3)
	delack      clock.Instant
	txRetry     clock.Instant // the CCID's next chance to send
	seqProbe    clock.Instant // a data packet goes out despite seqGated
}

// NextDeadline returns when HandleTimer must next run, or zero if no
// timer is armed.
func (c *Conn) NextDeadline() clock.Instant {
	t := c.timer
	d := clock.Earliest(t.rtx, t.partOpen)
	d = clock.Earliest(d, t.respond)
	d = clock.Earliest(d, t.partOpenEnd)
	d = clock.Earliest(d, t.timeWait)
	d = clock.Earliest(d, t.delack)
	if c.sendQ.len() > 0 {
		d = clock.Earliest(d, t.txRetry)
	}
	if c.tx != nil {
		d = clock.Earliest(d, c.tx.NextDeadline())
	}
	if c.rx != nil {
		d = clock.Earliest(d, c.rx.NextDeadline())
	}
	return d
}

// due reports whether deadline t is armed and reached.
func due(t, now clock.Instant) bool { return t != 0 && !now.Before(t) }

// HandleTimer runs every timer due at now.
func (c *Conn) HandleTimer(now clock.Instant) {
	t := &c.timer
	if due(t.timeWait, now) {
		c.setState(now, Closed, "TIMEWAIT expired after 2 MSL")
		return
	}
	if due(t.respond, now) {
		c.setEnd(GaveUp, 0)
		c.setState(now, Closed, "no Ack for the Response")
		return
	}
	if due(t.partOpenEnd, now) {
		c.setEnd(GaveUp, wire.DCCPResetAborted)
		c.sendReset(now, wire.DCCPResetAborted, "still in PARTOPEN after 4 MSL", c.gsr)
		return
	}
	if due(t.rtx, now) {
		c.retransmit(now)
	}
	if due(t.partOpen, now) {
		c.out.ack = true
		c.counters.Retransmits++
		t.partOpenCount++
		t.partOpenInterval = min(2*t.partOpenInterval, maxBackoff)
		t.partOpen = 0
		if t.partOpenCount < partOpenRetries {
			t.partOpen = now.Add(t.partOpenInterval)
		}
	}
	if due(t.delack, now) {
		t.delack = 0
		c.out.ack = true
	}
	if due(t.txRetry, now) {
		t.txRetry = 0
	}
	if c.tx != nil && due(c.tx.NextDeadline(), now) {
		c.tx.HandleTimer(now)
	}
	if c.rx != nil && due(c.rx.NextDeadline(), now) && c.rx.HandleTimer(now) {
		c.out.ack = true
	}
}

// retransmit resends the Request, CloseReq or Close with exponential
// backoff, or gives up after the configured number of retransmissions.
func (c *Conn) retransmit(now clock.Instant) {
	t := &c.timer
	limit := c.cfg.CloseRetries
	if c.state == Request {
		limit = c.cfg.RequestRetries
	}
	if t.rtxCount >= limit {
		c.setEnd(GaveUp, 0)
		if c.state == Request {
			c.setState(now, Closed, "Request retransmissions exhausted")
			return
		}
		// The final timeout of a close: nothing answered, send a Reset so
		// that a peer still listening learns of the end.
		c.out.reset, c.out.resetCode, c.out.resetAck = true, wire.DCCPResetAborted, c.gsr
		c.setState(now, Closed, c.state.String()+" retransmissions exhausted")
		return
	}
	switch c.state {
	case Request:
		c.out.request = true
	case CloseReq:
		c.out.closeReq = true
	case Closing:
		c.out.close = true
	default:
		t.rtx = 0
		return
	}
	t.rtxCount++
	c.counters.Retransmits++
	t.rtxInterval = min(2*t.rtxInterval, maxBackoff)
	t.rtx = now.Add(t.rtxInterval)
}
