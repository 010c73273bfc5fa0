package stack

import (
	"io"
	"os"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

var (
	ioEOF       = io.EOF
	errDeadline = os.ErrDeadlineExceeded
)

func expired(deadline, now clock.Instant) bool { return !deadline.IsZero() && !now.Before(deadline) }

func instantOf(t time.Time) clock.Instant {
	if t.IsZero() {
		return 0
	}
	return clock.Instant(t.UnixNano())
}

// handleSegment runs a received segment through the core.
func (c *TCPConn) handleSegment(seg *tcp.Segment) {
	c.mu.Lock()
	c.runDeferred()
	c.core.HandleSegment(c.s.clk.Now(), seg)
	c.process()
	c.mu.Unlock()
}

// reincarnate asks the core whether a SYN that reached a listening port
// opens a new connection on this one's 4-tuple (tcp.Conn.Reincarnate
// decides, in TIME-WAIT). If so the old connection is forgotten and the
// ISS for the new one returned.
func (c *TCPConn) reincarnate(seg *tcp.Segment, listening bool) (seqnum.V32, bool) {
	if !listening || seg.Flags&(wire.SYN|wire.ACK|wire.RST) != wire.SYN {
		return 0, false // not a candidate: no need to lock
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.clk.Now()
	iss, ok := c.core.Reincarnate(now, seg, c.s.isn.ISN(now, c.tuple.local, c.tuple.remote))
	if ok {
		c.forget()
	}
	return iss, ok
}

// onTimer is the connection's timer: the core's next deadline arrived.
func (c *TCPConn) onTimer() {
	c.mu.Lock()
	if c.gone {
		// Forgotten (closed, vanished, reincarnated) while this firing
		// was on its way: nothing of it may reach the wire.
		c.mu.Unlock()
		return
	}
	c.armed = 0
	c.runDeferred()
	c.core.HandleTimer(c.s.clk.Now())
	c.process()
	c.mu.Unlock()
}

// abort resets the connection (Stack.Close).
func (c *TCPConn) abort() {
	c.mu.Lock()
	c.closed = true
	c.core.Abort(c.s.clk.Now())
	c.process()
	c.readers.wakeAll(c.s.sched)
	c.writers.wakeAll(c.s.sched)
	c.opened.wakeAll(c.s.sched)
	c.mu.Unlock()
}

// process runs after every call into the core, with c.mu held: it
// collects the segments the core wants sent, wakes the goroutines its
// events concern, re-arms the timer, forgets a connection that has ended,
// and writes the packets out (releasing c.mu meanwhile).
func (c *TCPConn) process() {
	now := c.s.clk.Now()
	var seg tcp.Segment // on the goroutine's stack: neither call keeps it
	for c.core.NextSegment(now, &seg) {
		c.encode(&seg)
	}
	ev := c.core.TakeEvents()
	if ev&tcp.EventState != 0 && c.s.onState != nil {
		c.reportStates()
	}
	sched := c.s.sched
	const ended = tcp.EventReset | tcp.EventTimeout | tcp.EventClosed
	if ev&(tcp.EventReadable|tcp.EventPeerFIN|ended) != 0 {
		c.readers.wakeAll(sched)
	}
	if ev&(tcp.EventWritable|ended) != 0 {
		c.writers.wakeAll(sched)
	}
	if ev&(tcp.EventEstablished|ended) != 0 {
		c.opened.wakeAll(sched)
	}
	if ev&(tcp.EventAcked|tcp.EventTimeWait|ended) != 0 {
		c.acked.wakeAll(sched)
	}
	if c.listener != nil && ev&(tcp.EventEstablished|ended) != 0 {
		c.listener.connEvent(c, ev)
	}
	// Arm the timer lazily: only when the deadline comes earlier than the
	// armed one. A firing for a deadline that moved later is harmless —
	// the core does what is due and the timer is re-armed here.
	if d := c.core.NextDeadline(); !d.IsZero() && (c.armed.IsZero() || d.Before(c.armed)) {
		c.armed = d
		c.timer.Reset(d)
	}
	if c.core.State() == tcp.Closed && !c.gone {
		c.forget()
	}
	c.flush()
}

// forget removes an ended connection from the stack's table.
func (c *TCPConn) forget() {
	c.gone = true
	c.dropDeferred()
	c.timer.Stop()
	c.armed = 0
	s := c.s
	s.mu.Lock()
	if s.conns[c.tuple] == c {
		delete(s.conns, c.tuple)
	}
	s.mu.Unlock()
	s.statsMu.Lock()
	s.tcpDone.Add(c.core.Counters())
	s.statsMu.Unlock()
}

// flush writes the queued packets (see txQueue). A quiet connection —
// nothing unacknowledged, no timer — then hands its packet buffers back to
// the shared pools instead of keeping one MTU each while idle.
func (c *TCPConn) flush() {
	c.writeOut(c.s, &c.mu)
	if !c.writing && c.core.Unacked() == 0 && c.core.NextDeadline().IsZero() {
		c.releaseBufs()
	}
}
