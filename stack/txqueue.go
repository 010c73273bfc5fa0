package stack

import (
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/bufpool"
)

// txQueue is a socket's outgoing packets. Packets are encoded into
// buffers from take and queued with push under the socket's lock; writeOut
// sends them. One goroutine at a time holds the writing role, the others
// just queue, and the lock is released around the write so that a link
// that delivers synchronously may call back into this stack while order
// is kept.
//
// The buffers are blocks from bufpool: a socket keeps the ones it has
// used while it is busy and gives them back to the shared pools when it
// goes quiet (releaseBufs), so an idle socket holds none.
type txQueue struct {
	outq, spare []txPacket
	free        []*bufpool.Block
	writing     bool
	// runOpen says run, the last packet of outq, is a run of segments
	// that may still grow into a super-segment (txqueue_gso.go).
	runOpen bool
	run     *txRun
	// outAt is the instant of the newest output that queued packets,
	// leftAt that of the newest whose packets the link has taken: what
	// was sent after leftAt is still inside this host while a write is
	// in progress (inHost).
	outAt, leftAt clock.Instant
}

// txPacket is a queued packet: the first n bytes of its buffer; gso > 0
// makes it a super-segment of gso-byte segments (link.GSOEndpoint).
type txPacket struct {
	blk *bufpool.Block
	n   int
	gso uint16
}

// batches lends writeOut the [][]byte the link takes, so that a socket
// needs no field for it; gsoSizes likewise the GSO sizes for a
// link.GSOEndpoint.
var (
	batches  = sync.Pool{New: func() any { return new([][]byte) }}
	gsoSizes = sync.Pool{New: func() any { return new([]uint16) }}
)

// take returns a buffer for one packet: its B holds at least mtu bytes;
// the packet must be encoded into B[:mtu], so that one larger than the
// link's MTU fails to encode rather than being refused by the link.
func (q *txQueue) take(mtu int) *bufpool.Block {
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		if len(b.B) >= mtu {
			return b
		}
		bufpool.Put(b)
	}
	return bufpool.Take(mtu)
}

// push queues the first n bytes of b, a buffer from take.
func (q *txQueue) push(b *bufpool.Block, n int) {
	if q.outq == nil && q.spare == nil {
		q.adoptSlices()
	}
	q.outq = append(q.outq, txPacket{blk: b, n: n})
}

// giveBack returns an unused buffer from take.
func (q *txQueue) giveBack(b *bufpool.Block) { q.free = append(q.free, b) }

// writeOut writes the queued packets to s's link; mu is the socket's lock,
// held by the caller and released around each write.
func (q *txQueue) writeOut(s *Stack, mu *sync.Mutex) {
	if q.writing {
		return
	}
	q.writing = true
	for len(q.outq) > 0 {
		q.closeRun()
		queued, taken := q.outq, q.outAt
		q.outq = q.spare[:0]
		bp := batches.Get().(*[][]byte)
		batch := (*bp)[:0]
		super := false
		for _, p := range queued {
			batch = append(batch, p.blk.B[:p.n])
			super = super || p.gso > 0
		}
		mu.Unlock()
		s.pktsOut.Add(uint64(len(batch)))
		if super {
			writeGSO(s, queued, batch)
		} else {
			s.link.WritePackets(batch) //nolint:errcheck // a packet the link refuses is a lost packet
		}
		mu.Lock()
		q.leftAt = taken
		clear(batch)
		*bp = batch[:0]
		batches.Put(bp)
		for i, p := range queued {
			q.free = append(q.free, p.blk)
			queued[i] = txPacket{}
		}
		q.spare = queued[:0]
	}
	q.writing = false
}

// stamp notes that the output of instant now is done: the packets
// queued (all of them leave together in the next write) were sent at now
// or before. Two goroutines' clock readings may reach the lock in either
// order: outAt never moves back, so that a packet the link has taken is
// never thought to be still inside the host.
func (q *txQueue) stamp(now clock.Instant) {
	if len(q.outq) > 0 && now.After(q.outAt) {
		q.outAt = now
	}
}

// inHost reports whether a packet sent at instant sent has not yet left
// this host: it waits in the queue or in a link write that has not
// returned. A link that delivers synchronously (the in-process pipe)
// blocks a write while the peer connection's lock is held, by a goroutine
// the Go scheduler may have preempted for a whole round of its run queue
// (issue 15: writes of over 200 ms at load 5).
func (q *txQueue) inHost(sent clock.Instant) bool {
	return (q.writing || len(q.outq) > 0) && sent.After(q.leftAt)
}

// writeGSO writes batch, the packets of queued, some of them
// super-segments, to s's link.GSOEndpoint.
func writeGSO(s *Stack, queued []txPacket, batch [][]byte) {
	gp := gsoSizes.Get().(*[]uint16)
	gso := (*gp)[:0]
	for _, p := range queued {
		gso = append(gso, p.gso)
	}
	s.gsoLink.WritePacketsGSO(batch, gso) //nolint:errcheck // as WritePackets
	*gp = gso[:0]
	gsoSizes.Put(gp)
}

// dropQueued forgets the packets not yet written.
func (q *txQueue) dropQueued() {
	q.runOpen = false
	for i, p := range q.outq {
		q.free = append(q.free, p.blk)
		q.outq[i] = txPacket{}
	}
	q.outq = q.outq[:0]
}

// releaseBufs hands the free buffers back to the shared pools, and the
// queue's own small slices to the next socket that wakes up (txSlices),
// so that a quiet socket holds none of it (idle connections are what a
// host has most of).
func (q *txQueue) releaseBufs() {
	for _, b := range q.free {
		bufpool.Put(b)
	}
	clear(q.free)
	q.releaseRun()
	if len(q.outq) == 0 && !q.writing {
		q.recycleSlices()
		return
	}
	q.free = nil
}

// txSlices are a txQueue's small slices while no socket has them. A
// socket goes quiet and wakes up again several times in its life (after
// the handshake, after each exchange, in TIME-WAIT), and under connection
// churn growing these slices anew from nil each time was a third of the
// allocations per connection. Two pools, so that neither a Get nor a Put
// allocates: full holds sets of slices, empty the holders.
type txSlices struct {
	outq, spare []txPacket
	free        []*bufpool.Block
}

var (
	fullSlices  sync.Pool
	emptySlices = sync.Pool{New: func() any { return new(txSlices) }}
)

// recycleSlices hands the (empty) slices to fullSlices.
func (q *txQueue) recycleSlices() {
	if q.outq == nil && q.spare == nil && q.free == nil {
		return
	}
	ts := emptySlices.Get().(*txSlices)
	ts.outq, ts.spare, ts.free = q.outq[:0], q.spare[:0], q.free[:0]
	fullSlices.Put(ts)
	q.outq, q.spare, q.free = nil, nil, nil
}

// adoptSlices takes a set of slices from fullSlices, if there is one, for
// a queue that has none.
func (q *txQueue) adoptSlices() {
	ts, _ := fullSlices.Get().(*txSlices)
	if ts == nil {
		return
	}
	if q.free == nil {
		q.free = ts.free
	}
	q.outq, q.spare = ts.outq, ts.spare
	*ts = txSlices{}
	emptySlices.Put(ts)
}
