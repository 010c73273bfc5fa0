package stack

import (
	"sync"

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
	outq, spare      [][]byte         // the packets, as the link takes them
	outBlk, spareBlk []*bufpool.Block // their buffers, in the same order
	free             []*bufpool.Block
	writing          bool
}

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
	q.outq = append(q.outq, b.B[:n])
	q.outBlk = append(q.outBlk, b)
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
		batch, blks := q.outq, q.outBlk
		q.outq, q.outBlk = q.spare[:0], q.spareBlk[:0]
		mu.Unlock()
		s.pktsOut.Add(uint64(len(batch)))
		s.link.WritePackets(batch) //nolint:errcheck // a packet the link refuses is a lost packet
		mu.Lock()
		q.free = append(q.free, blks...)
		clear(batch)
		clear(blks)
		q.spare, q.spareBlk = batch[:0], blks[:0]
	}
	q.writing = false
}

// dropQueued forgets the packets not yet written.
func (q *txQueue) dropQueued() {
	q.free = append(q.free, q.outBlk...)
	clear(q.outq)
	clear(q.outBlk)
	q.outq, q.outBlk = q.outq[:0], q.outBlk[:0]
}

// releaseBufs hands the free buffers back to the shared pools (a quiet
// socket need not keep one MTU-sized buffer each).
func (q *txQueue) releaseBufs() {
	for i, b := range q.free {
		bufpool.Put(b)
		q.free[i] = nil
	}
	q.free = q.free[:0]
}
