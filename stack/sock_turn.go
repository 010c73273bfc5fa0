package stack

// Turns share the processors between connections. Go's scheduler runs a
// goroutine woken by a channel close next on the waking goroutine's
// processor, in what is left of the waker's time slice. A connection's
// reader and writer wake each other (data wakes the reader, the ACKs and
// window updates it sends wake the writer), so a pair of them kept a
// processor for whole 10 ms slices while the goroutines of every other
// connection waited in the run queue: with 128 flows on 2 cores a flow
// ran once every ~0.6 s, Jain's index over what the flows moved was
// 0.3–0.8 and SRTTs were 100–300 ms (issue 15, flows-128).
//
// So a goroutine that blocks on a connection through which a quantum of
// bytes has moved since the last such yield, once woken, lets the
// goroutines already waiting for a processor run first
// (runtime.Gosched: to the back of the global run queue) before it takes
// the connection again. Each busy connection then moves about a quantum
// per round of the run queue; a connection that moves little never
// yields, nor does one that is alone (endTurn). Under a Scheduler
// (simrun) nothing yields: the simulation decides who runs.

// Tried and measured worse, interleaved in one run (BENCHMARKS.md, "Fair
// turns"): taking the goroutine out of the deferral while it waits for
// its turn, so that what arrives meanwhile is processed where it arrives
// (more spurious retransmissions: the deliverers then run the receivers'
// processing under their locks), and a 256 KiB quantum (lower fairness
// and throughput than 1 MiB: the flows' buffers go cold between turns).

// turnQuantum is the bytes a connection moves between two yields: sixteen
// of the bench's 64 KiB reads or writes, so that a yield costs little
// next to the copying and a pair's buffers stay in the caches for a
// while, and well below the 10 ms slice a pair of goroutines kept (tens
// of megabytes on this machine's pipe). A round of 128 flows then moves
// about 256 MiB: 0.1-0.2 s here, which is what a flow's RTT becomes when
// every core is busy.
const turnQuantum = 1 << 20

// moved counts n bytes Read or Write moved towards the connection's
// quantum; mu held.
func (c *sock) moved(n int) {
	c.turn = int32(min(int(c.turn)+n, turnQuantum))
}

// endTurn reports whether a goroutine about to block should yield its
// processor once woken, and if so starts a new turn; mu held. A
// connection whose turns follow each other with no other connection's
// turn ending in between has nobody to give way to (a single bulk
// transfer): it does not yield.
func (c *sock) endTurn() bool {
	if c.s.sched != nil || c.turn < turnQuantum {
		return false
	}
	c.turn = 0
	n := c.s.turns.Add(1)
	alone := n-c.turnSeen == 1
	c.turnSeen = n
	if alone {
		return false
	}
	c.s.turnsYielded.Add(1)
	return true
}
