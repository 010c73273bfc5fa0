package stack

import (
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// halfOpen is one entry of a listener's SYN queue: a SYN answered (or, in
// vos-legacy, waiting for accept to answer it) whose handshake has not
// completed. A few dozen bytes; no buffers.
type halfOpen struct {
	tuple    fourTuple
	req      tcp.Request
	arrival  uint64        // order of arrival (vos-legacy answers the oldest)
	deadline clock.Instant // next SYN-ACK retransmission; 0 while unanswered
	timeouts int           // SYN-ACK retransmissions by the timer
	answered bool          // a SYN-ACK was sent
	acked    bool          // a final ACK was dropped on a full accept queue (Linux)
	used     bool
}

// synQueue is the listener's SYN queue: a fixed array of slots, allocated
// once at listen time, with an index by 4-tuple. Filling it and flooding
// past it allocate nothing (BenchmarkSYNFlood).
type synQueue struct {
	slots    []halfOpen
	index    map[fourTuple]int32
	free     []int32
	used     int
	arrivals uint64
}

func (q *synQueue) init(n int) {
	q.slots = make([]halfOpen, n)
	q.index = make(map[fourTuple]int32, n)
	q.free = make([]int32, n)
	for i := range q.free {
		q.free[i] = int32(n - 1 - i)
	}
	q.used = 0
}

func (q *synQueue) full() bool { return q.used == len(q.slots) }

// lookup returns the entry for tuple, or nil.
func (q *synQueue) lookup(t fourTuple) *halfOpen {
	i, ok := q.index[t]
	if !ok {
		return nil
	}
	return &q.slots[i]
}

// add takes a free slot for tuple; the caller checked !full().
func (q *synQueue) add(t fourTuple, req tcp.Request) *halfOpen {
	i := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	q.index[t] = i
	q.used++
	q.arrivals++
	e := &q.slots[i]
	*e = halfOpen{tuple: t, req: req, arrival: q.arrivals, used: true}
	return e
}

// remove frees e's slot.
func (q *synQueue) remove(e *halfOpen) {
	i, ok := q.index[e.tuple]
	if !ok || &q.slots[i] != e {
		return
	}
	delete(q.index, e.tuple)
	*e = halfOpen{}
	q.free = append(q.free, i)
	q.used--
}

func (q *synQueue) clear() { q.init(len(q.slots)) }

// outQueue holds the packets a listener sends (SYN-ACKs, RSTs) until they
// are written with the listener's lock released (see txQueue).
type outQueue struct {
	s *Stack
	txQueue
}

func (o *outQueue) init(s *Stack) { o.s = s }

// emit encodes seg from tuple.local to tuple.remote into a buffer and
// queues it. The caller holds the listener's lock.
func (o *outQueue) emit(tuple fourTuple, seg *tcp.Segment) bool {
	return o.queueTCP(o.s, tuple, seg)
}

// flush writes the queued packets; call it without mu held. One caller at
// a time writes, the others leave their packets to it.
func (o *outQueue) flush(mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	o.writeOut(o.s, mu)
}
