package stack

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/bufpool"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Deferred segments move the processing of a connection's segments onto
// the goroutines that use the connection. A segment that carries data (up
// to deferMaxPayload) for a connection on which a goroutine is inside
// Read, or a bare ACK for one
// on which a goroutine is inside Write, is not processed by the goroutine
// that delivered it (for the in-process pipe, the peer's sending
// goroutine): it is copied to the connection's queue and that goroutine
// is woken if it waits; it verifies the checksum and runs the segment
// through the core before it goes on, and at the latest before it
// returns. Segments that arrive meanwhile queue behind, so order is kept
// and they are taken as one batch. So the receiving work (checksum, copy
// into the receive buffer) lands on the reader and the sending work that
// an ACK releases (new segments, their checksums) on the writer, instead
// of all of it on whichever goroutine delivered the packet: two
// goroutines share a transfer's work. Linux does the same with its socket
// backlog while a process owns the socket (tcp_v4_rcv → tcp_add_backlog,
// processed at release_sock); the name "backlog" is kept here for the
// listen backlog.
//
// Only real-time stacks defer: under a Scheduler (simrun) every segment
// is processed where it arrives, so that simulations stay deterministic.

// deferMaxPayload is the largest data segment handed to a reader. Above
// it the copy into the queue costs about what the processing it moves
// saves (a 64 KiB segment's checksum and copy into the receive buffer run
// at memory speed), and the delivering goroutine does better to process
// it at once: measured over the pipe, MTU 65535 went from 3.1 to 3.5-3.9
// GB/s with large segments processed inline, MTU 1500 is unchanged.
const deferMaxPayload = 16 << 10

// deferredMax bounds the bytes a connection's queue holds; a segment that
// would overflow it makes the delivering goroutine process the queue and
// then the segment itself (nothing is dropped).
const deferredMax = 1 << 20

// deferredSegs is a connection's queue of raw TCP segments (header and
// payload).
type deferredSegs struct {
	blk  *bufpool.Block // lent while segments are queued; grows by doubling
	used int
	pkts []deferredSeg
}

// deferredSeg is one queued segment: its addresses (for the pseudo-header)
// and where it lies in the block.
type deferredSeg struct {
	src, dst netip.Addr
	off, n   int
}

// leave ends a Read or Write call (n is c.inRead or c.inWrite), c.mu
// held: segments queued for it are processed before it returns, so that
// none is left waiting for a goroutine that has gone (Linux's
// release_sock). Segments arriving after it return are processed where
// they arrive again.
func (c *TCPConn) leave(n *int32) {
	c.runDeferred()
	*n--
}

// deferSegment queues the TCP segment raw (from src to dst, payload bytes
// of data, syn if it carries SYN) for c's reader or writer to process if
// one is inside Read or Write, and reports whether it did.
func (c *TCPConn) deferSegment(src, dst netip.Addr, raw []byte, payload int, syn bool) bool {
	if c.s.sched != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return false
	}
	queued := c.rx != nil && len(c.rx.pkts) > 0
	if syn {
		// A SYN may reincarnate a connection in TIME-WAIT (deliverTCP's
		// reincarnate, with the listener): it is never deferred; what
		// waits is processed first, to keep the order.
		if queued {
			c.runDeferred()
		}
		return false
	}
	var wake *waitq
	switch {
	case payload > 0 && payload <= deferMaxPayload && c.inRead > 0:
		wake = &c.readers
	case payload == 0 && c.inWrite > 0:
		wake = &c.writers
	case !queued:
		return false
	}
	if c.rx == nil {
		c.rx = new(deferredSegs)
	}
	rx := c.rx
	if rx.used+len(raw) > deferredMax {
		c.runDeferred()
		return false
	}
	rx.reserve(len(raw))
	copy(rx.blk.B[rx.used:], raw)
	rx.pkts = append(rx.pkts, deferredSeg{src: src, dst: dst, off: rx.used, n: len(raw)})
	rx.used += len(raw)
	c.s.segsDeferred.Add(1)
	if wake != nil {
		wake.wakeAll(nil)
	}
	return true
}

// runDeferred runs the queued segments through the core, in order, then
// processes the outcome; c.mu held. Segments queued while process has
// released the lock are taken in the next round.
func (c *TCPConn) runDeferred() {
	rx := c.rx
	if rx == nil {
		return
	}
	for len(rx.pkts) > 0 {
		now := c.s.clk.Now()
		var seg tcp.Segment
		for _, p := range rx.pkts {
			t, err := wire.ParseTCP(rx.blk.B[p.off : p.off+p.n])
			if err == nil && c.s.tcpSegment(p.src, p.dst, t, &seg) {
				c.core.HandleSegment(now, &seg)
			}
		}
		rx.clear()
		c.process()
	}
}

// dropDeferred forgets queued segments (the connection is gone).
func (c *TCPConn) dropDeferred() {
	if c.rx != nil {
		c.rx.clear()
	}
}

// reserve makes room for n more bytes: the queue's memory comes from the
// shared pools, the smallest block that holds the first segment, doubled
// (and copied) as segments pile up.
func (rx *deferredSegs) reserve(n int) {
	need := rx.used + n
	if rx.blk != nil && need <= len(rx.blk.B) {
		return
	}
	blk := bufpool.Take(max(need, 2048))
	if rx.blk != nil {
		copy(blk.B, rx.blk.B[:rx.used])
		bufpool.Put(rx.blk)
	}
	rx.blk = blk
}

// clear empties the queue and gives its memory back.
func (rx *deferredSegs) clear() {
	rx.pkts = rx.pkts[:0]
	rx.used = 0
	if rx.blk != nil {
		bufpool.Put(rx.blk)
		rx.blk = nil
	}
}

// tcpSegment verifies the checksum of TCP segment t (from src to dst) and
// decodes it into seg, counting what it drops.
func (s *Stack) tcpSegment(src, dst netip.Addr, t wire.TCP, seg *tcp.Segment) bool {
	if !t.VerifyChecksum(src, dst) {
		s.drop(dropBadChecksum)
		return false
	}
	seg.Seq, seg.Ack, seg.Flags, seg.Window = t.Seq(), t.Ack(), t.Flags(), t.Window()
	if err := wire.ParseTCPOptions(t.Options(), &seg.Options); err != nil {
		s.drop(dropBadOptions)
		return false
	}
	seg.Payload = t.Payload()
	return true
}
