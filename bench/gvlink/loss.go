package gvlink

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/teardown-lab/teardown/link"
)

// Loss wraps a link.Endpoint and drops packets in both directions with a
// seeded probability. It is safe for concurrent use.
type Loss struct {
	inner link.Endpoint
	p     float64

	mu  sync.Mutex
	rng *rand.Rand

	recv    atomic.Pointer[link.Receiver]
	dropped atomic.Uint64
}

var _ link.Endpoint = (*Loss)(nil)

// NewLoss returns inner with probability p of dropping each packet, drawn
// from a generator seeded with seed.
func NewLoss(inner link.Endpoint, p float64, seed uint64) *Loss {
	l := &Loss{inner: inner, p: p, rng: rand.New(rand.NewPCG(seed, 0x6c6f7373))}
	inner.Attach(link.ReceiverFunc(l.deliver))
	return l
}

// Dropped counts the packets dropped so far, both directions.
func (l *Loss) Dropped() uint64 { return l.dropped.Load() }

func (l *Loss) lose() bool {
	l.mu.Lock()
	x := l.rng.Float64()
	l.mu.Unlock()
	if x < l.p {
		l.dropped.Add(1)
		return true
	}
	return false
}

// MTU returns the inner endpoint's MTU.
func (l *Loss) MTU() int { return l.inner.MTU() }

// WritePackets writes the packets that survive the draw. Dropped packets
// count as accepted, as on a real lossy link.
func (l *Loss) WritePackets(pkts [][]byte) (int, error) {
	for _, p := range pkts {
		if l.lose() {
			continue
		}
		if _, err := l.inner.WritePackets([][]byte{p}); err != nil {
			return 0, err
		}
	}
	return len(pkts), nil
}

// Attach sets the receiver of the packets that survive the draw.
func (l *Loss) Attach(r link.Receiver) {
	if r == nil {
		l.recv.Store(nil)
		return
	}
	l.recv.Store(&r)
}

// Close closes the inner endpoint.
func (l *Loss) Close() error { return l.inner.Close() }

func (l *Loss) deliver(pkts [][]byte) {
	r := l.recv.Load()
	if r == nil {
		return
	}
	var kept [][]byte
	for _, p := range pkts {
		if !l.lose() {
			kept = append(kept, p)
		}
	}
	if len(kept) > 0 {
		(*r).DeliverPackets(kept)
	}
}
