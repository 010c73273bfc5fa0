package stack

import (
	"context"
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/internal/tcp"
)

// Ending says how a connection ended.
type Ending string

// The endings a CloseReport names.
const (
	// EndGraceful: FINs were exchanged and acknowledged both ways.
	EndGraceful Ending = "graceful"
	// EndResetSent: this end reset the connection.
	EndResetSent Ending = "reset-sent"
	// EndResetReceived: the peer reset the connection.
	EndResetReceived Ending = "reset-received"
	// EndRefused: the peer refused the connection.
	EndRefused Ending = "refused"
	// EndTimeout: retransmissions, keepalive or the user timeout gave up.
	EndTimeout Ending = "timeout"
	// EndAbandoned: closed before the handshake completed.
	EndAbandoned Ending = "abandoned"
	// EndOpen: not ended when the report was made (the context of
	// GracefulClose ran out first).
	EndOpen Ending = "open"
)

// CloseReport answers the question every teardown leaves an application
// with: did my data arrive, and did I miss any of the peer's?
type CloseReport struct {
	// Ending is how the connection ended.
	Ending Ending
	// Why is a short explanation with the rule that decided it.
	Why string
	// FINSent, FINAcked and FINReceived record the FIN exchange.
	FINSent, FINAcked, FINReceived bool
	// RSTSent and RSTReceived record resets either way.
	RSTSent, RSTReceived bool
	// Drained counts the peer's bytes GracefulClose read and discarded
	// while waiting for its FIN.
	Drained int
	// UnreadDiscarded counts the peer's bytes that arrived but were never
	// read (queued at close, discarded by a reset, or arriving after it).
	UnreadDiscarded int
	// SentUnacked counts bytes sent that the peer never acknowledged: they
	// may not have arrived.
	SentUnacked int
	// UnsentDiscarded counts bytes written but never sent, thrown away by
	// a reset or abort.
	UnsentDiscarded int
	// State is the connection's state when the report was made (CLOSED,
	// TIME-WAIT, or an open state when the context ran out).
	State string
	// Duration is the connection's lifetime, open to end.
	Duration time.Duration
}

// DataDelivered reports whether everything this end wrote was
// acknowledged by the peer's TCP (not necessarily read by its application).
func (r CloseReport) DataDelivered() bool { return r.SentUnacked == 0 && r.UnsentDiscarded == 0 }

// String summarises the report in one line.
func (r CloseReport) String() string {
	return fmt.Sprintf("%s (%s): FIN sent=%v acked=%v received=%v, RST sent=%v received=%v, drained %d, unread %d, unacked %d, unsent %d",
		r.Ending, r.State, r.FINSent, r.FINAcked, r.FINReceived, r.RSTSent, r.RSTReceived,
		r.Drained, r.UnreadDiscarded, r.SentUnacked, r.UnsentDiscarded)
}

// report builds a CloseReport from the core's summary; c.mu is held.
func (c *TCPConn) report(drained int) CloseReport {
	sum := c.core.Summary()
	r := CloseReport{
		Why: sum.Why, FINSent: sum.FINSent, FINAcked: sum.FINAcked, FINReceived: sum.FINReceived,
		RSTSent: sum.RSTSent, RSTReceived: sum.RSTReceived, Drained: drained,
		UnreadDiscarded: sum.UnreadDiscarded, SentUnacked: sum.SentUnacked, UnsentDiscarded: sum.UnsentDiscarded,
		State: c.core.State().String(), Duration: sum.Duration,
	}
	switch sum.Ending {
	case tcp.EndGraceful:
		r.Ending = EndGraceful
	case tcp.EndRSTSent:
		r.Ending = EndResetSent
	case tcp.EndRSTReceived:
		r.Ending = EndResetReceived
	case tcp.EndRefused:
		r.Ending = EndRefused
	case tcp.EndTimeout:
		r.Ending = EndTimeout
	case tcp.EndAbandoned:
		r.Ending = EndAbandoned
	default:
		r.Ending = EndOpen
		if c.core.State() == tcp.TimeWait {
			// Both FINs are acknowledged: TIME-WAIT only guards the last ACK.
			r.Ending = EndGraceful
		}
	}
	if r.Ending == EndOpen {
		// Still open: what was written and is not acknowledged yet counts
		// as unacknowledged.
		r.SentUnacked = c.core.Unacked()
	}
	return r
}

// GracefulClose is the close that confirms delivery: shutdown(write), read
// and discard the peer's data until its FIN, wait until our data and FIN
// are acknowledged, then close. No RST is sent unless the peer keeps
// sending after ctx ends. The report says how it ended; the error is
// ctx's if it ran out first, or the connection's error.
func (c *TCPConn) GracefulClose(ctx context.Context) (CloseReport, error) {
	c.lock()
	defer c.unlock()
	now := c.s.clk.Now()
	if err := c.core.CloseWrite(now); err != nil && c.core.Err() != nil {
		c.process()
		c.markClosed()
		c.core.Close(now)
		c.process()
		return c.report(0), c.opError("close", mapTCPError(c.core.Err()))
	}
	c.process()
	var buf [4096]byte
	drained := 0
	var ctxErr, connErr error
	// Drain until the peer's FIN (io.EOF) or an error.
	for ctxErr == nil {
		n, err := c.core.Read(c.s.clk.Now(), buf[:])
		drained += n
		if n > 0 {
			c.process()
			continue
		}
		if err != nil {
			if err != ioEOF {
				connErr = mapTCPError(err)
			}
			break
		}
		ctxErr = c.wait(&c.readers, ctx)
	}
	// Wait until what we sent, FIN included, is acknowledged.
	for ctxErr == nil && connErr == nil && !c.core.AllAcked() && c.core.State() != tcp.Closed {
		ctxErr = c.wait(&c.closing, ctx)
	}
	c.markClosed()
	c.core.Close(c.s.clk.Now())
	c.process()
	c.wake(wakeReaders | wakeWriters)
	r := c.report(drained)
	switch {
	case ctxErr != nil:
		return r, c.opError("close", ctxErr)
	case connErr != nil:
		return r, c.opError("close", connErr)
	}
	if err := c.core.Err(); err != nil {
		return r, c.opError("close", mapTCPError(err))
	}
	return r, nil
}

// Report returns how the connection ended so far (see CloseReport); it can
// be called at any time, also after Close.
func (c *TCPConn) Report() CloseReport {
	c.lock()
	defer c.unlock()
	return c.report(0)
}
