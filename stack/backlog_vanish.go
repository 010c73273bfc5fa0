package stack

// Vanish makes the connection disappear from its host without a word: no
// FIN, no RST, no retransmission; the host forgets it, so whatever the
// peer sends later finds no connection and is answered with RST (RFC 9293
// §3.10.7.1). It models the seed's "client socket gone" (docs/scenarios.md,
// seed 003, rows backlog-data-fin-gone and backlog-fin-gone): a client whose TCP
// state was torn down — a process killed after its close, a host that
// rebooted — while the server still holds the connection. The application
// must not use the connection afterwards.
func (c *TCPConn) Vanish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.markClosed()
	c.dropQueued() // packets not yet written never leave
	if !c.gone {
		c.forget()
	}
	c.readers.wakeAll(c.s.sched)
	c.writers.wakeAll(c.s.sched)
}
