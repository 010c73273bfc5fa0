package stack

// process runs after every call into the core, with the lock held: it
// collects the packets the core wants sent and wakes the goroutines its
// events concern (protocol.coreOutput), re-arms the timer, forgets a
// connection that has ended, and writes the packets out (releasing the
// lock meanwhile).
func (c *sock) process() {
	c.proto.coreOutput(c.s.clk.Now())
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
