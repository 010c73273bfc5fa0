//go:build linux

package tun

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// ackWriter writes pure ACKs (no data, no SYN, FIN or RST) on a goroutine
// of the device's own, so that WritePackets returns at once for them
// (Config.SyncWrites turns it off). The write of an ACK to a TUN device
// runs the kernel's processing of it in the writer's system call: the
// sender's ACK handling and the transmissions it releases, which over a
// bulk transfer toward us come back through the device. Done inline,
// that work held up the goroutine that sent the ACK, most often the one
// that reads the device; on its own goroutine it overlaps the next read.
// Receiving 2 GiB from the kernel with offloads, 8 alternated runs: 10.6
// Gbit/s median inline, 11.5 on the writer's goroutine; sending, no
// difference (BENCHMARKS.md).
//
// Order is kept as a caller sees it: a write that is not handed over
// waits until the ACKs handed over before it began are written (a ticket
// each, in queue order), so the kernel gets one goroutine's packets in the
// order it wrote them; ACKs handed over meanwhile by others do not hold it.
type ackWriter struct {
	q chan ackPkt
	// mu orders hand-overs (a ticket is issued as its ACK enters q) and
	// is drained's lock.
	mu      sync.Mutex
	drained sync.Cond // done moved or the writer stopped
	issued  atomic.Uint64
	done    atomic.Uint64 // ACKs written (or failed), in ticket order
	waiters atomic.Int32
	stop    chan struct{}
	stopped atomic.Bool
	exited  chan struct{}
	written atomic.Uint64
	errors  atomic.Uint64
}

// ackQueueLen bounds the ACKs waiting for the writer; one that finds the
// queue full is written by its caller (after the queue drains).
const ackQueueLen = 256

// maxPureACK is the largest pure ACK: an IPv6 header and a TCP header
// with 40 bytes of options.
const maxPureACK = 40 + 60

type ackPkt struct {
	n uint8
	b [maxPureACK]byte
}

func newACKWriter(d *Device) *ackWriter {
	w := &ackWriter{q: make(chan ackPkt, ackQueueLen), stop: make(chan struct{}), exited: make(chan struct{})}
	w.drained.L = &w.mu
	go w.run(d)
	return w
}

// pureACK reports whether p is a TCP segment with the ACK flag alone and
// no data.
func pureACK(p []byte) bool {
	if len(p) > maxPureACK {
		return false
	}
	ipHL, tcpHL, ok := tcpSegHeaders(p)
	return ok && ipHL+tcpHL == len(p) && p[ipHL+13] == 0x10
}

// handOver queues p, a pure ACK, for the writer; false if the queue is
// full or the writer stopped (the caller writes it, and learns of the
// closed device).
func (w *ackWriter) handOver(p []byte) bool {
	var a ackPkt
	a.n = uint8(copy(a.b[:], p))
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped.Load() {
		return false
	}
	select {
	case w.q <- a:
		w.issued.Add(1)
		return true
	default:
		return false
	}
}

// wait returns once the ACKs handed over before it was called are written
// (or the writer stopped).
func (w *ackWriter) wait() {
	t := w.issued.Load()
	if w.done.Load() >= t {
		return
	}
	w.waiters.Add(1)
	w.mu.Lock()
	for w.done.Load() < t && !w.stopped.Load() {
		w.drained.Wait()
	}
	w.mu.Unlock()
	w.waiters.Add(-1)
}

func (w *ackWriter) run(d *Device) {
	defer close(w.exited)
	for {
		select {
		case <-w.stop:
			return
		case a := <-w.q:
			var iov [2]unix.Iovec
			err := vnethdr.Writev(d.rc, appendIovec(appendIovec(iov[:0], zeroVnetHdr[:]), a.b[:a.n]))
			if err != nil {
				w.errors.Add(1)
			} else {
				w.written.Add(1)
				d.pktsOut.Add(1)
				d.bytesOut.Add(uint64(a.n))
			}
			w.done.Add(1)
			if w.waiters.Load() > 0 {
				w.mu.Lock()
				w.drained.Broadcast()
				w.mu.Unlock()
			}
		}
	}
}

// close stops the writer and waits for it; nobody waits for the ACKs
// left, which are dropped as by a device going down and counted with the
// failed writes. Once stopped (under mu, as hand-overs are), the writer
// takes no more, so every ACK handed over is written or counted. The
// device's file is closed first, so that a write the writer is blocked
// in returns.
func (w *ackWriter) close() {
	w.mu.Lock()
	w.stopped.Store(true)
	w.mu.Unlock()
	close(w.stop)
	<-w.exited
	for dropped := true; dropped; {
		select {
		case <-w.q:
			w.errors.Add(1) // counted with the failed writes: lost on the way
		default:
			dropped = false
		}
	}
	w.mu.Lock()
	w.drained.Broadcast()
	w.mu.Unlock()
}
