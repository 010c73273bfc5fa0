package stack

import (
	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// handlePacket runs a received packet through the core (RFC 4340 §8.5).
func (c *DCCPConn) handlePacket(p *dccp.Packet) {
	c.mu.Lock()
	c.core.HandlePacket(c.s.clk.Now(), p)
	c.process()
	c.mu.Unlock()
}

// onTimer is the connection's timer: the core's next deadline arrived.
func (c *DCCPConn) onTimer() {
	c.mu.Lock()
	c.armed = 0
	c.core.HandleTimer(c.s.clk.Now())
	c.process()
	c.mu.Unlock()
}

// process runs after every call into the core, with c.mu held, as
// TCPConn.process does: it encodes the packets the core wants sent, wakes
// the goroutines its events concern, re-arms the timer lazily, forgets a
// connection that reached CLOSED, and writes the packets out (releasing
// c.mu meanwhile).
func (c *DCCPConn) process() {
	now := c.s.clk.Now()
	for c.core.NextPacket(now, &c.pkt) {
		c.encode(&c.pkt)
	}
	ev := c.core.TakeEvents()
	if ev&dccp.EventState != 0 && c.s.onState != nil {
		c.reportStates()
	}
	sched := c.s.sched
	const change = dccp.EventState | dccp.EventClosed
	if ev&(dccp.EventReadable|change) != 0 {
		c.readers.wakeAll(sched)
	}
	if ev&(dccp.EventWritable|change) != 0 {
		c.writers.wakeAll(sched)
	}
	if ev&(dccp.EventConnected|change) != 0 {
		c.opened.wakeAll(sched)
	}
	if ev&change != 0 {
		c.ended.wakeAll(sched)
	}
	if c.listener != nil && ev&(dccp.EventConnected|change) != 0 {
		c.listener.connEvent(c)
	}
	if d := c.core.NextDeadline(); !d.IsZero() && (c.armed.IsZero() || d.Before(c.armed)) {
		c.armed = d
		c.timer.Reset(d)
	}
	if c.core.State() == dccp.Closed && !c.gone {
		c.forget()
	}
	c.flush()
}

// forget removes an ended connection from the stack's table.
func (c *DCCPConn) forget() {
	c.gone = true
	c.timer.Stop()
	c.armed = 0
	t := &c.s.dccp
	t.mu.Lock()
	if t.conns[c.tuple] == c {
		delete(t.conns, c.tuple)
	}
	t.done.Add(c.core.Counters())
	t.mu.Unlock()
}

// flush writes the queued packets (see txQueue).
func (c *DCCPConn) flush() { c.writeOut(c.s, &c.mu) }

// encode writes p as an IP packet into a buffer from the free list.
func (c *DCCPConn) encode(p *dccp.Packet) {
	h := p.Header(c.tuple.local.Port(), c.tuple.remote.Port())
	h.Options = p.AppendOptions(c.optBuf[:0])
	c.optBuf = h.Options[:0]
	buf := c.take(c.s.mtu)
	n, err := wire.EncodeDCCPPacket(buf.B[:c.s.mtu], c.tuple.local.Addr(), c.tuple.remote.Addr(), &h, p.Payload)
	if err != nil {
		// Larger than the link MTU: a bug to see in the counters.
		c.s.txEncodeFailed.Add(1)
		c.giveBack(buf)
		return
	}
	c.push(buf, n)
}
