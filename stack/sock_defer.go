package stack

import (
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/internal/bufpool"
)

// Deferred segments move the processing of a connection's segments onto
// the goroutines that use the connection. A segment that carries data (up
// to deferMaxPayload) for a connection on which a goroutine is inside
// Read, or a bare ACK for one on which a goroutine is inside Write, is not
// processed by the goroutine that delivered it (for the in-process pipe,
// the peer's sending goroutine): it is copied to the connection's queue
// and that goroutine is woken if it waits. The queue is part of the
// connection's locking: whoever takes the connection (sock.lock), resumes
// on it (sock.wait) or gives it up (sock.unlock) first verifies the
// checksums and runs the queued segments through the core, so a segment
// waits only while the goroutine it waits for is parked or writing to the
// link. Segments that arrive meanwhile queue behind, so order is kept and
// they are taken as one batch. So the receiving work (checksum, copy into
// the receive buffer) lands on the reader and the sending work that an
// ACK releases (new segments, their checksums) on the writer, instead of
// all of it on whichever goroutine delivered the packet: two goroutines
// share a transfer's work. Linux does the same with its socket backlog
// while a process owns the socket (tcp_v4_rcv → tcp_add_backlog,
// processed at release_sock); the name "backlog" is kept here for the
// listen backlog.
//
// Unlike Linux's, a reader parked in Read still takes its segments here
// (Linux processes them in softirq while nobody owns the socket): that is
// what shares the work. The price is that the ACK waits until the Go
// scheduler runs the reader, which behind a long run queue takes tens of
// milliseconds, long enough for the sender's loss probe. So a segment
// after which the sender can send nothing more — it fills our window, or
// it is pushed while our reader has been slow to wake (sock.slowReader) —
// is processed where it arrives when the reader is asleep: the sender has
// nothing else to do meanwhile (deferPacket, TCPConn.ackIfSenderWaits).
//
// Only real-time stacks defer, and only TCP segments (deliverTCP): under
// a Scheduler (simrun) every segment is processed where it arrives, so
// that simulations stay deterministic.

// deferMaxPayload is the largest data segment handed to a reader. Above
// it the copy into the queue costs about what the processing it moves
// saves (a 64 KiB segment's checksum and copy into the receive buffer run
// at memory speed), and the delivering goroutine does better to process
// it at once: measured over the pipe, MTU 65535 went from 3.1 to 3.5-3.9
// GB/s with large segments processed inline, MTU 1500 is unchanged.
const deferMaxPayload = 16 << 10

// slowWake is how long a reader woken for deferred segments may take to
// run before it counts as slow (sock.slowReader). Woken on a quiet
// machine, a reader runs within microseconds; behind a long run queue
// (many busy connections, a loaded host) it waits tens of milliseconds,
// the order of a peer's probe timeout (RFC 8985 §7.2: 2*SRTT, at least
// 10 ms here).
const slowWake = time.Millisecond

// deferredMax bounds the bytes a connection's queue holds; a segment that
// would overflow it makes the delivering goroutine process the queue and
// then the segment itself (nothing is dropped).
const deferredMax = 1 << 20

// deferredSegs is a connection's queue of raw packets (transport header
// and payload).
type deferredSegs struct {
	// blks are lent while segments are queued; when the last is full the
	// next comes from the pools, twice its size, and nothing is copied.
	blks  []*bufpool.Block
	used  int // bytes used in the last block
	total int // bytes queued in all blocks
	pkts  []deferredSeg
}

// deferredSeg is one queued packet: its addresses (for the pseudo-header)
// and where it lies: block blk, bytes [off, off+n); verified: the link
// vouched for its checksum.
type deferredSeg struct {
	src, dst    netip.Addr
	blk, off, n int
	verified    bool
}

// deferClass says which goroutine a received packet may wait for.
type deferClass uint8

const (
	// deferNever: processed where it arrives, after what waits (a TCP SYN,
	// which may reincarnate a connection in TIME-WAIT with the listener).
	deferNever deferClass = iota
	// deferIfQueued: a data segment too large to be worth its copy into
	// the queue (deferMaxPayload): processed where it arrives, after what
	// waits, as deferNever. (Queued behind the waiting packets, the
	// full-sized segments that follow a short one at MTU 65535 were all
	// copied once more: a tenth of that row's copying, issue 15.)
	deferIfQueued
	// deferToReader: data for a goroutine inside Read.
	deferToReader
	// deferToWriter: an acknowledgement for a goroutine inside Write.
	deferToWriter
)

// tcpDeferClass classes a TCP segment with payload bytes of data and the
// SYN flag set or not.
func tcpDeferClass(payload int, syn bool) deferClass {
	switch {
	case syn:
		return deferNever
	case payload > 0 && payload <= deferMaxPayload:
		return deferToReader
	case payload == 0:
		return deferToWriter
	}
	return deferIfQueued
}

// deferPacket queues the raw packet (from src to dst) of class k for the
// goroutine inside Read or Write to process, if there is one, and reports
// whether it did; verified: the link vouched for its checksum. It takes mu itself, not lock: the point is to leave the
// packet to that goroutine.
func (c *sock) deferPacket(src, dst netip.Addr, raw []byte, k deferClass, verified bool) bool {
	if c.s.sched != nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gone {
		return false
	}
	queued := c.rx != nil && len(c.rx.pkts) > 0
	var wake *waitq
	switch {
	case k == deferNever, k == deferIfQueued:
		if queued {
			c.runDeferred()
		}
		return false
	case k == deferToReader && c.inRead > 0 && c.inRead == c.readersAsleep && c.proto.coreAwaitsACK(raw, c.slowReader):
		// The sender can send nothing more and waits for the ACK: it has
		// nothing else to do, so processing here costs no parallelism,
		// while a reader asleep in Read that the Go scheduler has not yet
		// run may leave the ACK waiting for a whole round of its run queue
		// (issue 15: 128 flows on a loaded machine, readers not run for
		// 2*SRTT = 30-130 ms, and a loss probe sent again what sat here
		// unacknowledged). A reader at work takes the queue when it lets
		// the connection go, soon: the segment waits for it. (Processing
		// here for a reader at work too let one flow of 128 run on
		// without ever blocking, its writer doing its reader's work: three
		// times the others' share.)
		if queued {
			c.runDeferred()
		}
		return false
	case k == deferToReader && c.inRead > 0:
		wake = &c.readers
	case k == deferToWriter && c.inWrite > 0:
		wake = &c.writers
	case !queued:
		return false
	}
	if c.rx == nil {
		c.rx = new(deferredSegs)
	}
	rx := c.rx
	if rx.total+len(raw) > deferredMax {
		c.runDeferred()
		return false
	}
	rx.reserve(len(raw))
	last := len(rx.blks) - 1
	copy(rx.blks[last].B[rx.used:], raw)
	rx.pkts = append(rx.pkts, deferredSeg{src: src, dst: dst, blk: last, off: rx.used, n: len(raw), verified: verified})
	rx.used += len(raw)
	rx.total += len(raw)
	c.s.segsDeferred.Add(1)
	switch wake {
	case &c.readers:
		c.wakeReaders()
	case &c.writers:
		c.writers.wakeAll(nil)
	}
	return true
}

// runDeferred runs the queued packets through the core, in order, then
// processes the outcome; mu held. Packets queued while process has
// released the lock are taken in the next round. lock, unlock and wait
// call it: nothing else needs to.
//
// A batch of four packets or more has the core's output taken after its
// first half as well as at its end, so that it draws two ACKs (each half
// holds two full-sized segments or more: RFC 5681 §4.2 asks for an ACK
// per two; one per batch is what saves the work). Between two stacks in
// one process a whole window arrives as one batch; with a single ACK for
// it, that ACK lost left the sender with a full window and nothing to
// clock it out until its probe or retransmission timer fired (issue 15:
// 0.1 Gbit/s under 1 % loss). With two, the first frees half the window
// and the segments it releases draw the next ACK: a stall needs both
// lost. A packet that fills a gap in the sequence space has its ACK
// taken at once too (RFC 5681 §4.2; Linux sends it before it reads the
// next packet): in loss recovery the window is small, a batch of two or
// three packets, a retransmission and new data, drew one ACK, and that
// ACK lost left the sender nothing but its retransmission timeout (no
// probe timeout during recovery, RFC 8985 §7.2): 200 ms.
// internal/tcp's TestLoop_LossAtMicrosecondRTT replays both.
func (c *sock) runDeferred() {
	rx := c.rx
	if rx == nil {
		return
	}
	for len(rx.pkts) > 0 {
		now := c.s.clk.Now()
		half := len(rx.pkts) / 2
		for i, p := range rx.pkts {
			filled := c.proto.coreInput(now, p.src, p.dst, rx.blks[p.blk].B[p.off:p.off+p.n], p.verified)
			if i+1 == half && half >= 2 || filled && i+1 < len(rx.pkts) {
				c.proto.coreOutput(now) // the first half's ACK, or a filled gap's
				c.stamp(now)
			}
		}
		rx.clear()
		c.process()
	}
}

// dropDeferred forgets queued segments (the connection is gone).
func (c *sock) dropDeferred() {
	if c.rx != nil {
		c.rx.clear()
	}
}

// reserve makes room for n more bytes: the queue's memory comes from the
// shared pools, first the smallest block that holds the first segment,
// then blocks of twice the size of the last as segments pile up. Queued
// bytes never move (a single block that doubled and copied itself was a
// quarter of all copying at MTU 1500, issue 15).
func (rx *deferredSegs) reserve(n int) {
	size := 2048
	if k := len(rx.blks); k > 0 {
		if rx.used+n <= len(rx.blks[k-1].B) {
			return
		}
		size = 2 * len(rx.blks[k-1].B)
	}
	rx.blks = append(rx.blks, bufpool.Take(max(n, size)))
	rx.used = 0
}

// clear empties the queue and gives its memory back.
func (rx *deferredSegs) clear() {
	rx.pkts = rx.pkts[:0]
	rx.used, rx.total = 0, 0
	for i, b := range rx.blks {
		bufpool.Put(b)
		rx.blks[i] = nil
	}
	rx.blks = rx.blks[:0]
}
