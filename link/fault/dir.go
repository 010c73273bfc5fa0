package fault

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// dir is one direction: its faults, its delay queue and its timer. All
// fields but packets are guarded by the Endpoint's mu.
type dir struct {
	e           *Endpoint
	f           Faults
	passthrough bool
	exit        func([][]byte) error

	q     delayQueue
	seq   uint64
	last  clock.Instant // departure of the last FIFO packet (jitter never reorders)
	timer clock.Timer
	armed clock.Instant

	// draining is set while one goroutine hands packets to the exit;
	// others append to waiting instead of calling the exit themselves,
	// and the drainer sends waiting after its own batch. Without this, two
	// goroutines that took packets off the queue in order (two timer
	// firings overlapping, or a firing and a write) could reach the exit
	// in the other order: delay alone reordered packets.
	draining bool
	waiting  *batch

	packets atomic.Uint64
	stats   Counters
}

func (d *dir) init(e *Endpoint, f Faults, exit func([][]byte) error) {
	d.e, d.f, d.exit = e, f, exit
	d.passthrough = f.IsZero()
	if !d.passthrough {
		d.timer = e.clk.NewTimer(d.fire)
	}
}

// batch collects the packets leaving at once and the pooled buffers to
// release after they left.
type batch struct {
	pkts  [][]byte
	owned []*[]byte
}

var batchPool = sync.Pool{New: func() any { return new(batch) }}

func (b *batch) own(bp *[]byte) {
	b.pkts = append(b.pkts, *bp)
	b.owned = append(b.owned, bp)
}

// send hands the batch to the exit, then recycles it.
func (d *dir) send(b *batch) error {
	var err error
	if len(b.pkts) > 0 {
		err = d.exit(b.pkts)
	}
	if err == errNoReceiver {
		d.e.mu.Lock()
		d.stats.Discarded += uint64(len(b.owned))
		d.e.mu.Unlock()
		err = nil
	}
	d.release(b)
	return err
}

// release gives back b's buffers and b itself.
func (d *dir) release(b *batch) {
	for i, bp := range b.owned {
		d.e.putBuf(bp)
		b.owned[i] = nil
	}
	clear(b.pkts)
	b.pkts, b.owned = b.pkts[:0], b.owned[:0]
	batchPool.Put(b)
}

// process applies the faults to a batch: what leaves now goes out in one
// call, the rest waits in the queue.
func (d *dir) process(pkts [][]byte) error {
	d.packets.Add(uint64(len(pkts)))
	b := batchPool.Get().(*batch)
	now := d.e.clk.Now()
	d.e.mu.Lock()
	for _, p := range pkts {
		d.one(now, p, b)
	}
	d.rearm()
	return d.leave(b)
}

// leave sends b, in the order it was decided in, after anything already
// on its way. It is called with e.mu held and releases it. If another
// goroutine is at the exit, b is queued behind its packets (copied: a
// packet that left at once still borrows the writer's buffer) and leave
// returns at once, so that an exit that writes back into this direction
// on the same goroutine does not deadlock.
func (d *dir) leave(b *batch) error {
	if d.draining {
		if len(b.pkts) > 0 {
			if d.waiting == nil {
				d.waiting = batchPool.Get().(*batch)
			}
			for _, p := range b.pkts {
				bp := d.e.getBuf(len(p))
				copy(*bp, p)
				d.waiting.own(bp)
			}
		}
		d.e.mu.Unlock()
		d.release(b)
		return nil
	}
	d.draining = true
	d.e.mu.Unlock()
	err := d.send(b)
	for {
		d.e.mu.Lock()
		b = d.waiting
		d.waiting = nil
		if b == nil {
			d.draining = false
			d.e.mu.Unlock()
			return err
		}
		d.e.mu.Unlock()
		if serr := d.send(b); err == nil {
			err = serr
		}
	}
}

// one decides the fate of one packet, drawing from the generator in a
// fixed order: loss, duplicate, corrupt (and which bit), reorder, jitter.
func (d *dir) one(now clock.Instant, p []byte, b *batch) {
	f, rng := &d.f, d.e.rng
	if f.Loss > 0 && rng.Float64() < f.Loss {
		d.stats.Lost++
		return
	}
	dup := f.Duplicate > 0 && rng.Float64() < f.Duplicate
	bit := -1
	if f.Corrupt > 0 && rng.Float64() < f.Corrupt && len(p) > 0 {
		bit = rng.IntN(len(p) * 8)
	}
	reorder := f.Reorder > 0 && rng.Float64() < f.Reorder
	at := now.Add(f.Latency)
	if f.Jitter > 0 {
		at = at.Add(time.Duration(rng.Int64N(int64(f.Jitter) + 1)))
	}
	if reorder {
		hold := f.ReorderDelay
		if hold == 0 {
			hold = DefaultReorderDelay
		}
		at = at.Add(hold)
		d.stats.Reordered++
	} else {
		at = max(at, d.last)
		d.last = at
	}
	var twin *[]byte
	if dup {
		twin = d.e.getBuf(len(p))
		copy(*twin, p) // the copy as written, before any corruption
		d.stats.Duplicated++
	}
	var pkt []byte
	var owned *[]byte
	if bit >= 0 || at.After(now) {
		owned = d.e.getBuf(len(p))
		copy(*owned, p)
		pkt = *owned
	} else {
		pkt = p // leaves now, untouched: no copy
	}
	if bit >= 0 {
		pkt[bit/8] ^= 1 << (7 - bit%8)
		d.stats.Corrupted++
	}
	if !at.After(now) {
		if owned != nil {
			b.own(owned)
		} else {
			b.pkts = append(b.pkts, pkt)
		}
		if twin != nil {
			b.own(twin)
		}
		return
	}
	d.push(at, owned)
	if twin != nil {
		d.push(at, twin)
	}
}

func (d *dir) push(at clock.Instant, bp *[]byte) {
	d.seq++
	d.q.push(item{at: at, seq: d.seq, buf: bp})
	d.stats.Delayed++
}

// rearm arms the timer for the queue's head if it is due earlier than the
// timer already armed (a firing for a later head is harmless).
func (d *dir) rearm() {
	if d.q.len() == 0 {
		return
	}
	if next := d.q.head().at; d.armed.IsZero() || next.Before(d.armed) {
		d.armed = next
		d.timer.Reset(next)
	}
}

// fire releases the packets that came due, in order of due time and,
// for equal times, of arrival.
func (d *dir) fire() {
	if d.e.closed.Load() {
		return
	}
	b := batchPool.Get().(*batch)
	now := d.e.clk.Now()
	d.e.mu.Lock()
	d.armed = 0
	for d.q.len() > 0 && !d.q.head().at.After(now) {
		b.own(d.q.pop().buf)
	}
	d.rearm()
	d.leave(b) //nolint:errcheck // a delayed packet the link refuses is a lost packet
}

// discardAll drops every queued packet (the endpoint closed).
func (d *dir) discardAll() {
	if d.timer != nil {
		d.timer.Stop()
	}
	for d.q.len() > 0 {
		d.e.putBuf(d.q.pop().buf)
		d.stats.Discarded++
	}
	if d.waiting != nil {
		d.stats.Discarded += uint64(len(d.waiting.owned))
		d.release(d.waiting)
		d.waiting = nil
	}
}

// item is a delayed packet.
type item struct {
	at  clock.Instant
	seq uint64 // ties broken by arrival order
	buf *[]byte
}

func (a item) less(b item) bool { return a.at < b.at || (a.at == b.at && a.seq < b.seq) }

// delayQueue is a binary min-heap of items (container/heap would box
// every item in an interface).
type delayQueue struct{ h []item }

func (q *delayQueue) len() int    { return len(q.h) }
func (q *delayQueue) head() *item { return &q.h[0] }

func (q *delayQueue) push(it item) {
	q.h = append(q.h, it)
	for i := len(q.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.h[i].less(q.h[p]) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *delayQueue) pop() item {
	top := q.h[0]
	n := len(q.h) - 1
	q.h[0] = q.h[n]
	q.h[n] = item{}
	q.h = q.h[:n]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && q.h[l].less(q.h[m]) {
			m = l
		}
		if r < n && q.h[r].less(q.h[m]) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}
