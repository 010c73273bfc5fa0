package tcp

import (
	"github.com/teardown-lab/teardown/clock"
)

// CloseWrite closes the sending direction (shutdown(SHUT_WR), RFC 9293
// §3.10.4 CLOSE for one direction): a FIN follows the queued data. In
// SYN-SENT or SYN-RECEIVED the FIN waits for the handshake.
func (c *Conn) CloseWrite(now clock.Instant) error {
	if c.err != nil {
		return c.err
	}
	if c.finQueued {
		return nil
	}
	switch c.state {
	case SynSent, SynReceived:
		c.finQueued = true
	case Established:
		c.finQueued = true
		c.setState(now, FinWait1, "close for writing")
	case CloseWait:
		c.finQueued = true
		c.setState(now, LastAck, "close for writing in CLOSE-WAIT")
	default:
		return ErrNotConnected
	}
	return nil
}

// CloseRead closes the receiving direction (shutdown(SHUT_RD)). Under
// Linux's behaviour nothing changes on the wire: data is still queued,
// acknowledged and readable, and a read of an empty queue returns io.EOF
// instead of waiting. Under DiscardAfterShutdownRead (BSD) the queue and
// all later data are discarded while still acknowledged. RFC 2525 §2.17's
// RST rules apply only to a full close.
func (c *Conn) CloseRead(now clock.Instant) {
	c.readClosed = true
	if c.cfg.Profile.DiscardAfterShutdownRead {
		c.summary.UnreadDiscarded += c.rcv.len()
		c.rcv.discard(c.rcv.len())
	}
	c.events |= EventReadable
}

// Close is the application's full close (close(2) without linger, RFC 9293
// §3.10.4). Under RSTOnCloseWithUnread, unread received data turns it into
// an abort: RST, CLOSED, the unsent queue discarded (RFC 2525 §2.17).
// Otherwise a FIN follows the queued data, and data that arrives later is
// answered with RST (RSTOnDataAfterClose). The application may not use
// the Conn afterwards except to watch it end.
func (c *Conn) Close(now clock.Instant) {
	if c.appClosed {
		return
	}
	c.appClosed = true
	c.readClosed = true
	unread := c.rcv.len()
	switch c.state {
	case Closed, TimeWait:
		c.summary.UnreadDiscarded += unread
		c.rcv.discard(unread)
		return
	case SynSent:
		c.end(now, EndAbandoned, "closed before the SYN was answered")
		c.setState(now, Closed, "close in SYN-SENT")
		return
	}
	c.summary.UnreadDiscarded += unread
	c.rcv.discard(unread)
	c.ooo.clear()
	if unread > 0 && c.cfg.Profile.RSTOnCloseWithUnread {
		c.abortRST(now, "close with "+itoa(unread)+" unread bytes: RFC 2525 §2.17")
		return
	}
	_ = c.CloseWrite(now)
	if c.state == FinWait2 {
		c.timers.finWait2 = now.Add(c.cfg.FinWait2Timeout)
	}
}

// Abort resets the connection (RFC 9293 §3.10.5 ABORT; close with
// SO_LINGER 0): RST in every state that has a peer, everything queued in
// both directions discarded, CLOSED.
func (c *Conn) Abort(now clock.Instant) {
	c.appClosed = true
	c.readClosed = true
	switch c.state {
	case Closed:
		return
	case SynSent, TimeWait:
		c.setState(now, Closed, "abort in "+c.state.String())
		return
	}
	c.summary.UnreadDiscarded += c.rcv.len()
	c.rcv.discard(c.rcv.len())
	c.tidyBuffers()
	c.abortRST(now, "abort (linger 0)")
	c.err = ErrAborted
}

// abortRST ends the connection from this side with <SEQ=SND.NXT><CTL=RST,ACK>
// (RST,ACK as Linux sends it), discarding the unsent queue (counted in the
// summary).
func (c *Conn) abortRST(now clock.Instant, why string) {
	c.queueRST(c.sndMax, c.rcvNxt, true)
	c.summary.RSTSent = true
	c.end(now, EndRSTSent, why)
	if c.err == nil {
		c.err = ErrConnReset
	}
	c.setState(now, Closed, why)
}

// reset ends the connection because of a received RST or a timeout. err
// is what Read and Write return from now on; under
// DeliverQueuedDataBeforeReset, Read first hands over the queued data.
func (c *Conn) reset(now clock.Instant, err error, e Ending, why string) {
	if e == EndRSTReceived || e == EndRefused {
		c.events |= EventReset
		c.summary.RSTReceived = true
	}
	if !c.cfg.Profile.DeliverQueuedDataBeforeReset || c.appClosed {
		c.summary.UnreadDiscarded += c.rcv.len()
		c.rcv.discard(c.rcv.len())
	}
	c.err = err
	c.end(now, e, why)
	c.setState(now, Closed, why)
}
