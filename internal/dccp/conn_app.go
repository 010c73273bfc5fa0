package dccp

import (
	"fmt"
	"io"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// MaxPayload returns the largest datagram Write accepts now: the maximum
// packet size less the room kept for headers and options.
func (c *Conn) MaxPayload() int { return c.cfg.MaxPacketSize - HeaderRoom }

// Write queues one datagram; it will be sent as one packet (DCCP keeps
// datagram boundaries). It fails with ErrNotConnected before the
// handshake, ErrClosed after a close, an error wrapping ErrTooBig that
// names the current maximum, or ErrQueueFull.
func (c *Conn) Write(now clock.Instant, b []byte) error {
	switch {
	case c.appClosed:
		return ErrClosed
	case c.state == Request || c.state == Respond:
		return ErrNotConnected
	case c.Done():
		return c.endError()
	case c.state != Open && c.state != PartOpen:
		return ErrClosed // the peer closed, or we are closing
	case len(b) > c.MaxPayload():
		return fmt.Errorf("%w: %d bytes, the current maximum is %d", ErrTooBig, len(b), c.MaxPayload())
	case !c.sendQ.push(b):
		c.events &^= EventWritable
		return ErrQueueFull
	}
	return nil
}

// Writable reports whether Write would not fail with ErrQueueFull.
func (c *Conn) Writable() bool { return !c.sendQ.full() }

// Readable reports whether Read would return without ErrWouldBlock.
func (c *Conn) Readable() bool {
	_, err := c.peek()
	return err != ErrWouldBlock
}

// Read copies the oldest received datagram into buf and returns its
// length; a datagram longer than buf is truncated. With nothing queued it
// returns io.EOF after the peer closed (in PASSIVE_CLOSE or
// PASSIVE_CLOSEREQ, or once the connection ended cleanly), a ResetError
// after a reset, ErrClosed after the application's own Close, and
// ErrWouldBlock otherwise.
func (c *Conn) Read(now clock.Instant, buf []byte) (int, error) {
	if _, err := c.peek(); err != nil {
		return 0, err
	}
	return copy(buf, c.recvQ.pop()), nil
}

// Queued returns how many received datagrams wait to be read.
func (c *Conn) Queued() int { return c.recvQ.len() }

func (c *Conn) peek() (int, error) {
	switch {
	case c.recvQ.len() > 0:
		return len(c.recvQ.front()), nil
	case c.appClosed:
		return 0, ErrClosed
	case c.state.passive():
		return 0, io.EOF
	case c.Done():
		return 0, c.endError()
	}
	return 0, ErrWouldBlock
}

// endError is what Read and Write report after the connection ended.
func (c *Conn) endError() error {
	switch {
	case c.gotReset && c.peerReset != wire.DCCPResetClosed && c.peerReset != wire.DCCPResetUnspecified:
		return &ResetError{Code: c.peerReset}
	case c.summary.How == GaveUp:
		return ErrTimeout
	}
	return io.EOF
}
