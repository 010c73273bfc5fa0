package stack

import "github.com/teardown-lab/teardown/clock"

// process runs after every call into the core, with the lock held: it
// collects the packets the core wants sent and wakes the goroutines its
// events concern (protocol.coreOutput), re-arms the timer, forgets a
// connection that has ended, and writes the packets out (releasing the
// lock meanwhile).
func (c *sock) process() { c.processAt(c.s.clk.Now()) }

// processAt is process for a caller that has just read the clock for a
// short call into the core: the core's output is taken at the same
// instant, one clock read instead of two (reads cost about 100 ns and
// were 8-9 % of the CPU of a bulk transfer at MTU 65535, issue 15). Only
// the core's work on one segment or one Read's copy separates the two,
// microseconds at most, so the timestamps (milliseconds) and transmit
// times of what it sends stay as they were. Callers whose call may run
// long — a Write's copy into the send buffer, a batch of deferred
// segments — take a fresh reading with process.
func (c *sock) processAt(now clock.Instant) {
	c.proto.coreOutput(now)
	c.stamp(now)
	// Arm the timer lazily: only when the deadline comes earlier than the
	// armed one. A firing for a deadline that moved later is harmless —
	// the core does what is due and the timer is re-armed here.
	if d := c.proto.coreDeadline(); !d.IsZero() && (c.armed.IsZero() || d.Before(c.armed)) {
		c.armed = d
		c.timer.Reset(d)
	}
	if c.proto.coreEnded() && !c.gone {
		c.forget()
	}
	c.flush()
}

// onTimer is the connection's timer: the core's next deadline arrived.
//
// Segments queued for a goroutine inside Read or Write run first, as lock
// runs them for every caller: a retransmission timer is never decided
// with the acknowledgements that would stop it still waiting in the
// queue (Linux defers a timer that fires while the socket is owned to
// release_sock, after the backlog: tcp_release_cb).
// TestDeferredQueue_TimerRunsQueuedACKsBeforeRetransmitting pins it.
func (c *sock) onTimer() {
	c.lock()
	defer c.unlock()
	if c.gone {
		// Forgotten (closed, vanished, reincarnated) while this firing
		// was on its way: nothing of it may reach the wire.
		return
	}
	c.armed = 0
	c.proto.coreTimer(c.s.clk.Now())
	c.process()
}

// abort resets the connection and wakes every call blocked on it
// (Stack.Close, a listener's Close, DCCPConn.Abort).
func (c *sock) abort() {
	c.lock()
	defer c.unlock()
	c.markClosed()
	c.proto.coreAbort(c.s.clk.Now())
	c.process()
	c.wake(wakeEveryone)
}

// forget removes an ended connection from the stack's table.
func (c *sock) forget() {
	c.gone = true
	c.dropDeferred()
	c.timer.Stop()
	c.armed = 0
	c.proto.retire()
}

// flush writes the queued packets (see txQueue). A quiet connection —
// nothing in flight, no timer — then hands its packet buffers back to the
// shared pools instead of keeping one MTU each while idle.
func (c *sock) flush() {
	c.writeOut(c.s, &c.mu)
	if !c.writing && c.proto.coreIdle() {
		c.releaseBufs()
	}
}
