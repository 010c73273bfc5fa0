package stack

import (
	"net/netip"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/dccp"
)

// handlePacket runs a received packet through the core (RFC 4340 §8.5).
func (c *DCCPConn) handlePacket(p *dccp.Packet) {
	c.lock()
	c.core.HandlePacket(c.s.clk.Now(), p)
	c.process()
	c.unlock()
}

// The DCCP side of the shell (protocol, sock.go).

// coreOutput encodes the packets the core wants sent, wakes the waiters
// of its events and tells the listener, if the connection is not yet
// accepted, that its state changed.
func (c *DCCPConn) coreOutput(now clock.Instant) {
	for c.core.NextPacket(now, &c.pkt) {
		c.queueDCCP(c.s, c.tuple, &c.pkt, &c.optBuf)
	}
	ev := c.core.TakeEvents()
	if ev&dccp.EventState != 0 && c.s.onState != nil {
		c.reportStates()
	}
	const change = dccp.EventState | dccp.EventClosed
	var w wakeups
	if ev&(dccp.EventReadable|change) != 0 {
		w |= wakeReaders
	}
	if ev&(dccp.EventWritable|change) != 0 {
		w |= wakeWriters
	}
	if ev&(dccp.EventConnected|change) != 0 {
		w |= wakeOpened
	}
	if ev&change != 0 {
		w |= wakeClosing
	}
	c.wake(w)
	if c.listener != nil && ev&(dccp.EventConnected|change) != 0 {
		c.listener.connEvent(c)
	}
}

// coreInput runs a deferred packet: checksum, decode, §8.5. (deliverDCCP
// defers none today: DCCP packets are processed where they arrive.)
func (c *DCCPConn) coreInput(now clock.Instant, src, dst netip.Addr, raw []byte, _ bool) bool {
	var p dccp.Packet
	if _, ok := c.s.decodeDCCP(src, dst, raw, &p); ok {
		c.core.HandlePacket(now, &p)
	}
	return false
}

func (c *DCCPConn) coreTimer(now clock.Instant) { c.core.HandleTimer(now) }
func (c *DCCPConn) coreAbort(now clock.Instant) { c.core.Abort(now) }
func (c *DCCPConn) coreDeadline() clock.Instant { return c.core.NextDeadline() }
func (c *DCCPConn) coreEnded() bool             { return c.core.State() == dccp.Closed }
func (c *DCCPConn) coreState() string           { return c.core.State().String() }

// coreAwaitsACK: DCCP packets are never deferred (deliverDCCP).
func (c *DCCPConn) coreAwaitsACK([]byte, bool) bool { return false }

// coreIdle: no timer pending means nothing to retransmit or pace.
func (c *DCCPConn) coreIdle() bool { return c.core.NextDeadline().IsZero() }

// retire takes the connection out of the stack's DCCP table and keeps
// its counters.
func (c *DCCPConn) retire() {
	t := &c.s.dccp
	t.mu.Lock()
	if t.conns[c.tuple] == c {
		delete(t.conns, c.tuple)
	}
	t.done.Add(c.core.Counters())
	t.mu.Unlock()
}
