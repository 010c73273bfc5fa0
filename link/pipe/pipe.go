package pipe

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/teardown-lab/teardown/link"
)

// Endpoint is one end of a pipe. It is safe for concurrent use.
type Endpoint struct {
	mtu    int
	peer   *Endpoint
	recv   atomic.Pointer[receiver]
	closed atomic.Bool
	share  bool // see ShareBuffers
	vouch  bool // see VouchChecksums

	delivered atomic.Uint64
	dropped   atomic.Uint64
}

// receiver boxes a link.Receiver so that it can be swapped atomically.
type receiver struct{ r link.Receiver }

var _ link.Endpoint = (*Endpoint)(nil)

// New returns the two ends of a pipe whose MTU is mtu bytes. It panics if
// mtu is not positive.
func New(mtu int, opts ...Option) (*Endpoint, *Endpoint) {
	if mtu <= 0 {
		panic("pipe: MTU must be positive")
	}
	a := &Endpoint{mtu: mtu}
	for _, o := range opts {
		o(a)
	}
	b := &Endpoint{mtu: mtu, peer: a, share: a.share, vouch: a.vouch}
	a.peer = b
	return a, b
}

// Option changes how a pipe made by New behaves.
type Option func(*Endpoint)

// ShareBuffers makes both ends hand the writer's own packet slices to the
// peer's Receiver instead of copies: one copy fewer per packet, as when
// two in-process stacks share reference-counted buffers. The Receiver must
// then treat the packets as read-only (it sees, and would change, the
// writer's buffers); teardown's stack does.
func ShareBuffers() Option { return func(e *Endpoint) { e.share = true } }

// VouchChecksums makes both ends hand packets to a peer Receiver that is
// also a link.VerifiedReceiver by DeliverVerifiedPackets: the pipe cannot
// corrupt a packet, so the receiver may skip its pass over the payload to
// verify the transport checksum. The vouching is for the link, not the
// writer: a packet written with a wrong checksum arrives vouched for all
// the same, so use it only between stacks that compute their checksums
// (teardown's do; tests that inject damaged packets must not use it).
func VouchChecksums() Option { return func(e *Endpoint) { e.vouch = true } }

// Stats counts the packets an end has received.
type Stats struct {
	Delivered uint64 // handed to this end's Receiver
	Dropped   uint64 // arrived while no Receiver was attached or the end was closed
}

// Stats returns the counters of packets that arrived at this end.
func (e *Endpoint) Stats() Stats {
	return Stats{Delivered: e.delivered.Load(), Dropped: e.dropped.Load()}
}

// MTU returns the largest packet WritePackets accepts.
func (e *Endpoint) MTU() int { return e.mtu }

// Attach sets the Receiver that packets written on the other end are
// delivered to; nil detaches it, after which packets are dropped.
func (e *Endpoint) Attach(r link.Receiver) {
	if r == nil {
		e.recv.Store(nil)
		return
	}
	e.recv.Store(&receiver{r})
}

// Close closes this end: later writes on it fail with link.ErrClosed and
// packets written on the other end are dropped. The other end stays open.
// Closing twice is harmless. A delivery already under way completes.
func (e *Endpoint) Close() error {
	e.closed.Store(true)
	return nil
}

// WritePackets copies the packets and delivers them to the other end's
// Receiver before returning (see the package documentation for what that
// implies). Packets up to the first one larger than the MTU are delivered;
// that one fails with link.ErrTooBig. Packets written while the other end
// is closed or has no Receiver are dropped and still count as written, as
// on a wire.
func (e *Endpoint) WritePackets(pkts [][]byte) (int, error) {
	if e.closed.Load() {
		return 0, link.ErrClosed
	}
	n := len(pkts)
	var err error
	for i, p := range pkts {
		if len(p) > e.mtu {
			n = i
			err = fmt.Errorf("%w: %d bytes, MTU %d", link.ErrTooBig, len(p), e.mtu)
			break
		}
	}
	if n > 0 {
		e.peer.deliver(pkts[:n])
	}
	return n, err
}

// deliver hands copies of pkts to e's Receiver. No lock is held during
// the call, so the Receiver may write on either end.
func (e *Endpoint) deliver(pkts [][]byte) {
	box := e.recv.Load()
	if box == nil || e.closed.Load() {
		e.dropped.Add(uint64(len(pkts)))
		return
	}
	var sc *scratch
	if !e.share {
		sc = scratchPool.Get().(*scratch)
		pkts = sc.fill(pkts)
	}
	if vr, ok := box.r.(link.VerifiedReceiver); ok && e.vouch {
		vr.DeliverVerifiedPackets(pkts)
	} else {
		box.r.DeliverPackets(pkts)
	}
	if sc != nil {
		scratchPool.Put(sc)
	}
	e.delivered.Add(uint64(len(pkts)))
}

// scratch holds the copies of one batch during its delivery.
type scratch struct {
	data []byte
	pkts [][]byte
}

// scratchPool lends scratch buffers to concurrent and re-entrant writes;
// in steady state a write takes one that has already grown big enough.
var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// fill copies pkts into the scratch buffer and returns the copies.
func (sc *scratch) fill(pkts [][]byte) [][]byte {
	total := 0
	for _, p := range pkts {
		total += len(p)
	}
	if cap(sc.data) < total {
		sc.data = make([]byte, total)
	}
	data := sc.data[:total]
	sc.pkts = sc.pkts[:0]
	off := 0
	for _, p := range pkts {
		n := copy(data[off:], p)
		sc.pkts = append(sc.pkts, data[off:off+n:off+n])
		off += n
	}
	return sc.pkts
}
