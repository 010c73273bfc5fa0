// Package shape is the path model of the suite's impaired rows, the same
// for every stack: random loss, a bottleneck of fixed rate with a
// tail-drop queue, and a fixed one-way delay, applied to one direction of
// an in-memory link. Link wraps a teardown link.Endpoint (what it writes
// takes the path); gvlink's pumps use Line directly for gVisor.
package shape

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/link"
)

// Path is one direction's impairments. The zero Path passes everything
// at once.
type Path struct {
	// Loss is the probability that a packet is dropped, drawn from a
	// generator seeded with Seed.
	Loss float64
	Seed uint64
	// Rate, when positive, is the bottleneck's rate in bytes per second:
	// packets leave it one after another, each taking its size / Rate.
	Rate float64
	// Queue bounds the bytes waiting at the bottleneck; a packet that
	// would exceed it is dropped (tail drop). Zero means one
	// bandwidth-delay product (Rate × 2 × Delay), at least 64 KiB.
	Queue int
	// Delay is added to every packet after the bottleneck.
	Delay time.Duration
}

// timed reports whether packets must wait (and so be copied).
func (p Path) timed() bool { return p.Rate > 0 || p.Delay > 0 }

// Counters count what a Line did.
type Counters struct {
	Packets, Lost, QueueDrops uint64
}

// Line carries packets along a Path to deliver, in the order sent. An
// untimed Line (loss only) delivers on the sender's goroutine without
// copying; a timed one copies each packet and delivers from a goroutine
// of its own when it is due.
type Line struct {
	p       Path
	deliver func([]byte)

	mu   sync.Mutex
	rng  *rand.Rand
	busy time.Time // when the bottleneck finishes what it holds

	q       chan item
	done    chan struct{}
	closed  atomic.Bool
	packets atomic.Uint64
	lost    atomic.Uint64
	drops   atomic.Uint64
}

type item struct {
	at  time.Time
	pkt []byte
}

// NewLine returns a Line along p; deliver gets each surviving packet (a
// timed Line's copies are the callee's to keep).
func NewLine(p Path, deliver func(pkt []byte)) *Line {
	l := &Line{p: p, deliver: deliver, rng: rand.New(rand.NewPCG(p.Seed, 0x7368617065))}
	if l.p.Queue == 0 && p.Rate > 0 {
		l.p.Queue = max(int(p.Rate*2*p.Delay.Seconds()), 64<<10)
	}
	if p.timed() {
		l.q = make(chan item, 1<<16)
		l.done = make(chan struct{})
		go l.run()
	}
	return l
}

// Send puts pkt on the line.
func (l *Line) Send(pkt []byte) {
	if l.closed.Load() {
		return
	}
	l.packets.Add(1)
	if !l.p.timed() {
		if l.lose() {
			return
		}
		l.deliver(pkt)
		return
	}
	now := time.Now()
	l.mu.Lock()
	if l.p.Loss > 0 && l.rng.Float64() < l.p.Loss {
		l.mu.Unlock()
		l.lost.Add(1)
		return
	}
	start := now
	if l.busy.After(now) {
		start = l.busy
	}
	if l.p.Rate > 0 {
		queued := start.Sub(now).Seconds() * l.p.Rate
		if int(queued)+len(pkt) > l.p.Queue {
			l.mu.Unlock()
			l.drops.Add(1)
			return
		}
		start = start.Add(time.Duration(float64(len(pkt)) / l.p.Rate * 1e9))
	}
	l.busy = start
	// The channel send stays under mu so that items enter in the order
	// their times were given.
	select {
	case l.q <- item{at: start.Add(l.p.Delay), pkt: append([]byte(nil), pkt...)}:
	default:
		l.drops.Add(1)
	}
	l.mu.Unlock()
}

// Timed reports whether the line delays packets (a Rate or a Delay).
func (l *Line) Timed() bool { return l.p.timed() }

// Drop draws the loss for one packet of an untimed line, for a caller
// that delivers the survivors itself; it counts the packet.
func (l *Line) Drop() bool { l.packets.Add(1); return l.lose() }

func (l *Line) lose() bool {
	if l.p.Loss == 0 {
		return false
	}
	l.mu.Lock()
	x := l.rng.Float64()
	l.mu.Unlock()
	if x < l.p.Loss {
		l.lost.Add(1)
		return true
	}
	return false
}

// run delivers the queued packets when due, in order.
func (l *Line) run() {
	for {
		select {
		case <-l.done:
			return
		case it := <-l.q:
			if d := time.Until(it.at); d > 20*time.Microsecond {
				t := time.NewTimer(d)
				select {
				case <-l.done:
					t.Stop()
					return
				case <-t.C:
				}
			}
			l.deliver(it.pkt)
		}
	}
}

// Close stops the line; packets still on it are dropped.
func (l *Line) Close() {
	if l.closed.Swap(true) || l.done == nil {
		return
	}
	close(l.done)
}

// Counters returns what the line did so far.
func (l *Line) Counters() Counters {
	return Counters{Packets: l.packets.Load(), Lost: l.lost.Load(), QueueDrops: l.drops.Load()}
}

// Link is a link.Endpoint whose writes take a Path before reaching the
// endpoint it wraps; what it receives passes untouched (wrap both ends of
// a pipe to impair both directions).
type Link struct {
	inner link.Endpoint
	line  *Line
}

var _ link.Endpoint = (*Link)(nil)

// NewLink wraps inner so that its writes take p.
func NewLink(inner link.Endpoint, p Path) *Link {
	k := &Link{inner: inner}
	k.line = NewLine(p, func(pkt []byte) { inner.WritePackets([][]byte{pkt}) }) //nolint:errcheck // a refused packet is a lost one
	return k
}

// MTU returns the wrapped endpoint's MTU.
func (k *Link) MTU() int { return k.inner.MTU() }

// WritePackets puts each packet on the line; all count as written. On an
// untimed line the survivors go on in one call, as written.
func (k *Link) WritePackets(pkts [][]byte) (int, error) {
	if k.line.Timed() {
		for _, p := range pkts {
			k.line.Send(p)
		}
		return len(pkts), nil
	}
	var kept [][]byte // allocated only when a packet is lost
	for i, p := range pkts {
		switch lost := k.line.Drop(); {
		case lost && kept == nil:
			kept = append(make([][]byte, 0, len(pkts)), pkts[:i]...)
		case !lost && kept != nil:
			kept = append(kept, p)
		}
	}
	if kept == nil {
		kept = pkts
	}
	if len(kept) > 0 {
		k.inner.WritePackets(kept) //nolint:errcheck // a refused packet is a lost one
	}
	return len(pkts), nil
}

// Attach attaches r to the wrapped endpoint.
func (k *Link) Attach(r link.Receiver) { k.inner.Attach(r) }

// Close stops the line and closes the wrapped endpoint.
func (k *Link) Close() error { k.line.Close(); return k.inner.Close() }

// Counters returns the line's counters.
func (k *Link) Counters() Counters { return k.line.Counters() }
