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
// waits until the ACKs handed over before it are written, so the kernel
// gets one goroutine's packets in the order it wrote them.
type ackWriter struct {
	q       chan ackPkt
	pending atomic.Int32 // handed over and not yet written
	mu      sync.Mutex
	drained sync.Cond // on mu: pending fell to 0
	stop    chan struct{}
	stopped atomic.Bool
	done    chan struct{}
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
	w := &ackWriter{q: make(chan ackPkt, ackQueueLen), stop: make(chan struct{}), done: make(chan struct{})}
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
// full.
func (w *ackWriter) handOver(p []byte) bool {
	var a ackPkt
	a.n = uint8(copy(a.b[:], p))
	w.pending.Add(1)
	select {
	case w.q <- a:
		return true
	default:
		w.written1()
		return false
	}
}

// wait returns once no handed-over ACK waits (or the writer stopped).
func (w *ackWriter) wait() {
	if w.pending.Load() == 0 {
		return
	}
	w.mu.Lock()
	for w.pending.Load() > 0 && !w.stopped.Load() {
		w.drained.Wait()
	}
	w.mu.Unlock()
}

// written1 counts one handed-over ACK as done.
func (w *ackWriter) written1() {
	if w.pending.Add(-1) == 0 {
		w.mu.Lock()
		w.drained.Broadcast()
		w.mu.Unlock()
	}
}

func (w *ackWriter) run(d *Device) {
	defer close(w.done)
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
			w.written1()
		}
	}
}

// close stops the writer and waits for it; nobody waits for the ACKs
// left (an ACK handed over by a write that raced with Close is dropped,
// as by a device going down).
func (w *ackWriter) close() {
	w.stopped.Store(true)
	close(w.stop)
	<-w.done
	w.mu.Lock()
	w.drained.Broadcast()
	w.mu.Unlock()
}
