package stack

import (
	"sync/atomic"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// Limits a peer cannot push the stack past, whatever its connections do
// (TCPOptions.MaxOrphans, MaxBufferMemory; their defaults are tcp.Config's).
//
// An orphan is a connection the application closed that has not ended:
// it still sends what was written, or waits for the peer's FIN. Its peer
// decides how long that lasts (the retransmission and persist timers and
// FinWait2Timeout bound it in time, not in number), so a host that closes
// many connections to slow or hostile peers piles them up. As Linux does
// (tcp_check_oom at close, tcp_out_of_resources in the timers), a
// connection closed while the orphans are at their cap or the buffer
// memory is over its cap is reset at once instead, and an orphan whose
// timer fires while the memory is over is reset too.

// stackResources counts, over a stack, the orphans and the buffer memory
// of its TCP connections, without any lock: each connection adds its own
// changes under its own lock.
type stackResources struct {
	orphans         atomic.Int64
	bufMem          atomic.Int64
	orphanCapResets atomic.Uint64
	memoryCapResets atomic.Uint64
}

// connResources is a connection's share of them: whether it counts as an
// orphan, and the buffer bytes it was last counted with.
type connResources struct {
	orphan bool
	mem    int
}

func (r *stackResources) stats(st *Stats) {
	st.Orphans = int(r.orphans.Load())
	st.BufferMemory = r.bufMem.Load()
	st.OrphanCapResets = r.orphanCapResets.Load()
	st.MemoryCapResets = r.memoryCapResets.Load()
}

// overMemory reports whether the stack's buffers exceed the cap.
func (c *TCPConn) overMemory() bool {
	return c.s.res.bufMem.Load() > c.core.Config().MaxBufferMemory
}

// orphaned runs after the application closed the connection (c locked):
// a connection that goes on without the application becomes an orphan,
// unless that exceeds a cap; then it is reset.
func (c *TCPConn) orphaned(now clock.Instant) {
	switch c.core.State() {
	case tcp.Closed, tcp.TimeWait:
		return
	}
	r := &c.s.res
	switch {
	case c.overMemory():
		r.memoryCapResets.Add(1)
	case r.orphans.Add(1) > int64(c.core.Config().MaxOrphans):
		r.orphans.Add(-1)
		r.orphanCapResets.Add(1)
	default:
		c.res.orphan = true
		return
	}
	c.core.Abort(now)
}

// outOfResources runs before an orphan's timer: over the memory cap, the
// orphan is reset instead. It reports whether it was.
func (c *TCPConn) outOfResources(now clock.Instant) bool {
	if !c.res.orphan || !c.overMemory() {
		return false
	}
	c.s.res.memoryCapResets.Add(1)
	c.core.Abort(now)
	return true
}

// account brings the stack's counts up to date with the connection's
// (after every call into its core, c locked).
func (c *TCPConn) account() {
	r := &c.s.res
	if m := c.core.BufferMemory(); m != c.res.mem {
		r.bufMem.Add(int64(m - c.res.mem))
		c.res.mem = m
	}
	if c.res.orphan {
		switch c.core.State() {
		case tcp.Closed, tcp.TimeWait:
			c.res.orphan = false
			r.orphans.Add(-1)
		}
	}
}

// unaccount takes a forgotten connection out of the counts.
func (c *TCPConn) unaccount() {
	r := &c.s.res
	r.bufMem.Add(int64(-c.res.mem))
	c.res.mem = 0
	if c.res.orphan {
		c.res.orphan = false
		r.orphans.Add(-1)
	}
}
