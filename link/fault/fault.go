package fault

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
)

// DefaultReorderDelay is the hold-back of a reordered packet when
// Faults.ReorderDelay is zero (the simulator's default too).
const DefaultReorderDelay = time.Millisecond

// DefaultMaxWaiting is Config.MaxWaiting when zero: a few thousand
// packets, about 6 MB of full-size frames, well above what a writer
// produces while one exit call is in progress.
const DefaultMaxWaiting = 4096

// Faults configures one direction. The zero value passes every packet
// through untouched and at once. Probabilities are in [0, 1].
type Faults struct {
	// Latency is a fixed delay added to every packet.
	Latency time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter]. Jitter
	// alone never reorders (see the package documentation).
	Jitter time.Duration
	// Loss is the probability that a packet is dropped.
	Loss float64
	// Duplicate is the probability that a second copy of the packet (as
	// written, before any corruption) follows it.
	Duplicate float64
	// Reorder is the probability that a packet is held back by
	// ReorderDelay (DefaultReorderDelay if zero) so that later packets
	// overtake it.
	Reorder      float64
	ReorderDelay time.Duration
	// Corrupt is the probability that one random bit of the packet is
	// flipped.
	Corrupt float64
}

// IsZero reports whether f injects nothing: packets pass straight through.
func (f Faults) IsZero() bool { return f == Faults{} }

func (f Faults) validate() error {
	for _, p := range []float64{f.Loss, f.Duplicate, f.Reorder, f.Corrupt} {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("fault: probability %v outside [0, 1]", p)
		}
	}
	if f.Latency < 0 || f.Jitter < 0 || f.ReorderDelay < 0 {
		return errors.New("fault: negative delay")
	}
	return nil
}

// Config configures an Endpoint.
type Config struct {
	// Seed seeds the one generator every decision is drawn from.
	Seed uint64
	// Clock times the delays; nil means the wall clock.
	Clock clock.TimerClock
	// Out applies to packets the host writes (towards the network), In to
	// packets the network delivers to the host.
	Out, In Faults
	// MaxWaiting caps, per direction, the packets queued behind a
	// goroutine that is handing packets to the exit (the wrapped endpoint
	// or the Receiver); beyond it packets are dropped and counted in
	// Counters.Overflow. Zero means DefaultMaxWaiting.
	MaxWaiting int
}

// Counters count what one direction did. A packet may count in several
// fields (a reordered, duplicated packet is both).
type Counters struct {
	Packets    uint64 // offered to this direction
	Lost       uint64 // dropped by the loss fault
	Duplicated uint64 // extra copies made
	Reordered  uint64 // held back by the reorder fault
	Corrupted  uint64 // packets with one bit flipped
	Delayed    uint64 // packets (copies included) that waited in the delay queue
	// Discarded counts delayed packets thrown away because the endpoint
	// closed, or that found no Receiver attached when they came due.
	Discarded uint64
	// Overflow counts packets dropped because MaxWaiting packets already
	// waited for the exit: the wrapped endpoint (Out) or the Receiver (In)
	// took them more slowly than they came.
	Overflow uint64
}

// Stats holds the counters of both directions.
type Stats struct {
	Out, In Counters
}

// Endpoint is a link.Endpoint that injects faults into the traffic of the
// endpoint it wraps. It is safe for concurrent use. It is also the
// wrapped endpoint's link.Receiver.
type Endpoint struct {
	inner  link.Endpoint
	clk    clock.TimerClock
	recv   atomic.Pointer[recvBox]
	closed atomic.Bool

	mu      sync.Mutex // guards rng and both directions' queues and counters
	rng     *rand.Rand
	out, in dir
	bufs    sync.Pool // *[]byte of MTU capacity
}

type recvBox struct{ r link.Receiver }

var _ link.Endpoint = (*Endpoint)(nil)

// New wraps inner. The faults are validated; the wrapper attaches itself
// to inner when Attach is called.
func New(inner link.Endpoint, cfg Config) (*Endpoint, error) {
	if err := cfg.Out.validate(); err != nil {
		return nil, fmt.Errorf("out: %w", err)
	}
	if err := cfg.In.validate(); err != nil {
		return nil, fmt.Errorf("in: %w", err)
	}
	if cfg.MaxWaiting < 0 {
		return nil, errors.New("fault: negative MaxWaiting")
	}
	if cfg.MaxWaiting == 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.NewRealTimers()
	}
	e := &Endpoint{
		inner: inner,
		clk:   cfg.Clock,
		rng:   rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
	}
	mtu := inner.MTU()
	e.bufs.New = func() any { b := make([]byte, mtu); return &b }
	e.out.init(e, cfg.Out, cfg.MaxWaiting, e.writeOut)
	e.in.init(e, cfg.In, cfg.MaxWaiting, e.deliverIn)
	return e, nil
}

// MTU returns the wrapped endpoint's MTU.
func (e *Endpoint) MTU() int { return e.inner.MTU() }

// WritePackets applies the Out faults and passes the surviving packets to
// the wrapped endpoint, now or when their delay ends. Lost and delayed
// packets count as written, as on a wire. Packets up to the first one
// larger than the MTU are taken; that one fails with link.ErrTooBig.
func (e *Endpoint) WritePackets(pkts [][]byte) (int, error) {
	if e.closed.Load() {
		return 0, link.ErrClosed
	}
	if e.out.passthrough {
		e.out.packets.Add(uint64(len(pkts)))
		return e.inner.WritePackets(pkts)
	}
	n, err := len(pkts), error(nil)
	mtu := e.inner.MTU()
	for i, p := range pkts {
		if len(p) > mtu {
			n, err = i, fmt.Errorf("%w: %d bytes, MTU %d", link.ErrTooBig, len(p), mtu)
			break
		}
	}
	if ierr := e.out.process(pkts[:n]); ierr != nil && err == nil {
		err = ierr
	}
	return n, err
}

// Attach sets the Receiver of incoming packets (after the In faults).
func (e *Endpoint) Attach(r link.Receiver) {
	if r == nil {
		e.recv.Store(nil)
		e.inner.Attach(nil)
		return
	}
	e.recv.Store(&recvBox{r})
	e.inner.Attach(e)
}

// DeliverPackets is the wrapped endpoint's Receiver: it applies the In
// faults and hands the surviving packets to the attached Receiver.
func (e *Endpoint) DeliverPackets(pkts [][]byte) {
	if e.in.passthrough {
		e.in.packets.Add(uint64(len(pkts)))
		if box := e.recv.Load(); box != nil && !e.closed.Load() {
			box.r.DeliverPackets(pkts)
		}
		return
	}
	e.in.process(pkts) //nolint:errcheck // delivery has no error
}

// Close discards the packets still delayed, stops the timers and closes
// the wrapped endpoint.
func (e *Endpoint) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.mu.Lock()
	e.out.discardAll()
	e.in.discardAll()
	e.mu.Unlock()
	return e.inner.Close()
}

// Stats returns the counters of both directions.
func (e *Endpoint) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Out: e.out.stats, In: e.in.stats}
	s.Out.Packets = e.out.packets.Load()
	s.In.Packets = e.in.packets.Load()
	return s
}

// writeOut is the Out direction's exit.
func (e *Endpoint) writeOut(pkts [][]byte) error {
	_, err := e.inner.WritePackets(pkts)
	return err
}

// deliverIn is the In direction's exit; it reports false when nobody was
// there to take the packets.
func (e *Endpoint) deliverIn(pkts [][]byte) error {
	box := e.recv.Load()
	if box == nil || e.closed.Load() {
		return errNoReceiver
	}
	box.r.DeliverPackets(pkts)
	return nil
}

var errNoReceiver = errors.New("fault: no receiver")

func (e *Endpoint) getBuf(n int) *[]byte {
	bp := e.bufs.Get().(*[]byte)
	if cap(*bp) < n {
		*bp = make([]byte, n)
	}
	*bp = (*bp)[:n]
	return bp
}

func (e *Endpoint) putBuf(bp *[]byte) { e.bufs.Put(bp) }
