package stack

import "sync"

// txQueue is a socket's outgoing packets. Packets are encoded into
// buffers from take and queued with push under the socket's lock; writeOut
// sends them. One goroutine at a time holds the writing role, the others
// just queue, and the lock is released around the write so that a link
// that delivers synchronously may call back into this stack while order
// is kept.
type txQueue struct {
	outq, spare [][]byte
	free        [][]byte
	writing     bool
}

// take returns a buffer of at least mtu bytes: from the socket's free
// list, the shared cache, or new.
func (q *txQueue) take(mtu int) []byte {
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		return b
	}
	if b := getPacketBuf(mtu); b != nil {
		return b
	}
	return make([]byte, mtu)
}

// push queues the first n bytes of buf, a buffer from take.
func (q *txQueue) push(buf []byte, n int) { q.outq = append(q.outq, buf[:n]) }

// giveBack returns an unused buffer from take.
func (q *txQueue) giveBack(buf []byte) { q.free = append(q.free, buf[:cap(buf)]) }

// writeOut writes the queued packets to s's link; mu is the socket's lock,
// held by the caller and released around each write.
func (q *txQueue) writeOut(s *Stack, mu *sync.Mutex) {
	if q.writing {
		return
	}
	q.writing = true
	for len(q.outq) > 0 {
		batch := q.outq
		q.outq = q.spare[:0]
		mu.Unlock()
		s.pktsOut.Add(uint64(len(batch)))
		s.link.WritePackets(batch) //nolint:errcheck // a packet the link refuses is a lost packet
		mu.Lock()
		for i, b := range batch {
			q.free = append(q.free, b[:cap(b)])
			batch[i] = nil
		}
		q.spare = batch[:0]
	}
	q.writing = false
}

// releaseBufs hands the free buffers to the shared cache (a quiet socket
// need not keep one MTU-sized buffer each).
func (q *txQueue) releaseBufs() {
	if len(q.free) == 0 {
		return
	}
	putPacketBufs(q.free)
	clear(q.free)
	q.free = q.free[:0]
}
