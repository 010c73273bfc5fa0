package tcp

import (
	"io"

	"github.com/teardown-lab/teardown/clock"
)

// Write copies as much of p as fits into the send buffer and returns how
// much that was; (0, nil) means the buffer is full (wait for
// EventWritable). Data written during the handshake is sent once it
// completes (RFC 9293 §3.10.2). The caller then drains NextSegment.
func (c *Conn) Write(now clock.Instant, p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.finQueued || c.appClosed {
		return 0, ErrWriteClosed
	}
	switch c.state {
	case SynSent, SynReceived, Established, CloseWait:
	default:
		return 0, ErrNotConnected
	}
	return c.snd.write(p), nil
}

// Read moves received in-order data into p. It returns io.EOF once the
// peer's FIN is reached (or after CloseRead, when the queue is empty),
// the connection's error after a reset or timeout — under the Linux
// profile only after the data queued before the RST was read — and
// (0, nil) when nothing is available yet (wait for EventReadable).
func (c *Conn) Read(now clock.Instant, p []byte) (int, error) {
	if c.rcv.len() > 0 && len(p) > 0 {
		before := int(c.rcvWnd())
		n := c.rcv.read(p)
		c.tuneAfterRead(now)
		c.afterRead(now, before)
		c.tidyBuffers()
		return n, nil
	}
	switch {
	case c.finRcvd && c.cfg.Profile.FINBeforeResetReadsEOF:
		// Linux checks SOCK_DONE (set by the FIN) before sk_err in
		// tcp_recvmsg: once the peer's FIN was received, a later RST
		// leaves reads at end-of-stream.
		return 0, io.EOF
	case c.err != nil && c.errRead && c.cfg.Profile.ReadErrorOnce:
		// Linux reports sk_err once (sock_error clears it); the socket
		// is shut down, so later reads return end-of-stream.
		return 0, io.EOF
	case c.err != nil:
		c.errRead = true
		return 0, c.err
	case c.finRcvd, c.readClosed:
		return 0, io.EOF
	case c.state == Closed && c.summary.Ending != EndOpen:
		return 0, io.EOF
	}
	return 0, nil
}

// afterRead sends a window update when reading opened the window enough
// to matter (RFC 9293 §3.8.6.2.2, RFC 1122 §4.2.3.3): from below one MSS,
// or to at least twice what was advertised. A FIN held by
// HoldFINWhileUnread is consumed once the queue is empty.
func (c *Conn) afterRead(now clock.Instant, old int) {
	if c.hasRcvFin && c.rcvFin == c.rcvNxt && c.rcv.len() == 0 {
		c.hasRcvFin = false
		c.consumeFIN(now)
	}
	if !c.state.synchronized() || c.state == TimeWait || c.finRcvd {
		return
	}
	if c.pushed && c.rcv.len() == 0 && c.timers.delack != 0 {
		// The reader took the end of a burst: ACK it now rather than
		// when the delayed-ACK timer fires (Linux tcp_cleanup_rbuf with
		// ICSK_ACK_PUSHED), so that the sender's probe timeout (RFC
		// 8985 §7.2, 2*SRTT) does not expire first.
		c.ackNow = true
	}
	buf := c.rcvBuf()
	potential := buf - c.rcv.len()
	if (old < c.cfg.MSS && potential >= c.cfg.MSS) || (old <= buf/2 && potential >= 2*old && potential-old >= c.cfg.MSS) {
		c.ackNow = true
	}
}
