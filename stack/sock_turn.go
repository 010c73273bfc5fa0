package stack

import "runtime"

// Turns share the processors between connections. Go's scheduler runs a
// goroutine woken by a channel close next on the waking goroutine's
// processor, in what is left of the waker's time slice. A connection's
// reader and writer wake each other (data wakes the reader, the ACKs and
// window updates it sends wake the writer), so a pair of them kept a
// processor for whole 10 ms slices while the goroutines of every other
// connection waited in the run queue: with 128 flows on 2 cores a flow
// ran once every ~0.6 s, Jain's index over what the flows moved was
// 0.2–0.8, SRTTs were 100–300 ms and timers fired for data that had
// arrived but waited in the queue of a reader that had not run (issue
// 15, flows-128).
//
// So a goroutine inside Read or Write that blocks on a connection
// through which a quantum of bytes has moved since its last turn ended,
// once woken, yields its processor (runtime.Gosched: to the back of the
// global run queue) before it takes the connection again. A pair keeps
// its processor, and its data stays in the caches, while it moves a
// quantum; then the goroutines of the other connections run, each pair
// moving about a quantum per round. A connection that moves little never
// yields. Under a Scheduler (simrun) nothing yields: the simulation
// decides who runs.
//
// From the moment it blocks until it has its processor back the
// goroutine is not inside Read or Write as far as deferral goes
// (sock_defer.go): what arrives meanwhile is processed where it arrives,
// as for a connection nobody is using, and only wakes it, rather than
// waiting unacknowledged in the deferred queue for a goroutine at the
// back of the run queue — a round of it is long enough for the peer's
// probe or retransmission timer to fire.

// turnQuantum is the bytes a connection moves through Read and Write in
// a turn: a few of the bench's 64 KiB reads and writes, so that a yield
// costs little next to the copying, and a small part of the 10 ms slice
// a pair of goroutines kept (tens of megabytes on this machine's pipe),
// so that the round of the run queue stays short.
const turnQuantum = 1 << 20

// yieldProcessor is runtime.Gosched; tests take the goroutine's place
// while it yields.
var yieldProcessor = runtime.Gosched

// moved counts n bytes Read or Write moved towards the connection's
// quantum; mu held.
func (c *sock) moved(n int) {
	c.turn = int32(min(int(c.turn)+n, turnQuantum))
}

// endTurn reports whether a goroutine about to block is to yield once
// woken, and if so starts the connection's next turn; mu held.
func (c *sock) endTurn() bool {
	if c.s.sched != nil || c.turn < turnQuantum {
		return false
	}
	c.turn = 0
	c.s.turnsYielded.Add(1)
	return true
}

// yieldTurn blocks on q and, once woken, lets the goroutines waiting for
// a processor run before it takes the connection again. Meanwhile the
// calling goroutine (counted in n, inRead or inWrite) is out of the
// connection; mu held.
func (c *sock) yieldTurn(q *waitq, n *int32) {
	*n--
	block(&c.mu, q.add(), c.s.sched, nil) //nolint:errcheck // no context
	c.mu.Unlock()
	yieldProcessor()
	c.mu.Lock()
	*n++
}
