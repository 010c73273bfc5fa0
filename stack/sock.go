package stack

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// sock is the shell TCPConn and DCCPConn share: the lock and what it
// guards around the core, the goroutines blocked on the connection, the
// deadlines, the core's timer, the outgoing queue and the deferred
// segments. What differs between the protocols — the core, its events,
// its packets — is the protocol behind proto.
//
// Locking (docs/ARCHITECTURE.md, "Locks"): the connection's users take it
// with lock and give it up with unlock or wait; lock runs the segments that
// wait in the deferred queue first and unlock runs those queued meanwhile,
// so that no segment is left behind a call that used the core (Linux's
// lock_sock/release_sock). mu itself is taken directly only by the
// deferral (deferPacket, which must not run what it queues) and by
// timers that merely wake waiters.
type sock struct {
	s     *Stack
	tuple fourTuple
	proto protocol

	mu sync.Mutex

	timer clock.Timer
	armed clock.Instant

	// Output: packets encoded under mu, written with mu released.
	txQueue

	// readers wait in Read, writers in Write, opened in Dial; closing
	// waits for a close to make progress (TCP: sent data and FIN
	// acknowledged; DCCP: the connection ended).
	readers, writers, opened, closing waitq

	readDeadline, writeDeadline deadline

	closed bool // the application called Close (or Abort)
	gone   bool // removed from the stack's table

	// Goroutines inside Read and Write, and the segments waiting for
	// them (sock_defer.go); rx is nil until a segment first waits.
	inRead, inWrite int32
	// readersAsleep counts the goroutines inside Read blocked in wait,
	// or woken and not yet resumed: inRead > readersAsleep means a
	// reader is at work on the connection.
	readersAsleep int32
	// turn counts the bytes Read and Write moved since a goroutine woken
	// on this connection last yielded its processor (sock_turn.go).
	turn     int32
	turnSeen uint32 // the stack's turns when this connection's last ended
	rx       *deferredSegs
	// readerWoken is when deferPacket last woke a reader parked in Read
	// (zero: none since it ran); slowReader says the last one it woke
	// took longer than slowWake to run (sock_defer.go).
	readerWoken clock.Instant
	slowReader  bool
}

// protocol is what the shell needs from a connection's protocol: the
// calls into its core. Every method runs with the connection's lock held.
type protocol interface {
	// coreOutput encodes the packets the core wants sent into the
	// socket's queue, wakes the waiters its events concern (sock.wake)
	// and tells the listener a connection not yet accepted belongs to.
	coreOutput(now clock.Instant)
	// coreTimer runs the core's timers due at now.
	coreTimer(now clock.Instant)
	// coreAbort resets the connection.
	coreAbort(now clock.Instant)
	// coreInput runs one deferred packet (from src to dst) through the
	// core; a packet that fails its checks is counted and dropped.
	// verified: the link vouched for its transport checksum. It reports
	// that the packet filled a gap in the receive sequence space: its
	// ACK is due at once.
	coreInput(now clock.Instant, src, dst netip.Addr, raw []byte, verified bool) (filledGap bool)
	// coreAwaitsACK reports whether the sender of a raw packet can send
	// nothing more until it hears from us (deferPacket then does not hold
	// the packet back): the packet filled our window, or — where our
	// reader has been slow to run (slowReader) — it was the last the
	// sender had.
	coreAwaitsACK(raw []byte, slowReader bool) bool
	// coreDeadline is the core's next deadline (zero: none).
	coreDeadline() clock.Instant
	// coreEnded reports that the core reached CLOSED: the socket is then
	// forgotten.
	coreEnded() bool
	// coreIdle reports that nothing is in flight and no timer pending, so
	// the socket may give its packet buffers back.
	coreIdle() bool
	// coreState is the state in the protocol's RFC spelling.
	coreState() string
	// retire takes the socket out of the stack's table and adds its
	// counters to those of the connections already gone.
	retire()
	// netAddr is an endpoint as this protocol's net.Addr.
	netAddr(netip.AddrPort) net.Addr
}

// init sets the shell up for the connection tuple of s, run by p. The
// caller registers the connection in its table.
func (c *sock) init(s *Stack, tuple fourTuple, p protocol) {
	c.s, c.tuple, c.proto = s, tuple, p
	c.timer = s.clk.NewTimer(c.onTimer)
	s.opened.Add(1)
}

// lock takes the connection for a call that uses its core: segments
// queued for a goroutine inside Read or Write are run first, since they
// arrived before this call.
func (c *sock) lock() {
	c.mu.Lock()
	if c.pending() {
		c.runDeferred()
	}
}

// unlock runs the segments queued while the lock was let go (process
// writing to the link), then releases the connection.
func (c *sock) unlock() {
	if c.pending() {
		c.runDeferred()
	}
	c.mu.Unlock()
}

// pending reports whether packets wait in the deferred queue.
func (c *sock) pending() bool { return c.rx != nil && len(c.rx.pkts) > 0 }

// unlockFrom ends a Read or Write (n is inRead or inWrite): the packets
// queued for it are run before it leaves, so that none is left waiting
// for a goroutine that has gone.
func (c *sock) unlockFrom(n *int32) {
	*n--
	c.unlock()
}

// wait blocks on q until woken or ctx ends (nil: never), with the lock
// released meanwhile, then runs what was deferred to this goroutine. It
// reports ctx's error if the context ended first. If packets were queued
// while process had the lock released, it runs them instead of blocking:
// they may be what the caller is waiting for, so it looks again.
func (c *sock) wait(q *waitq, ctx context.Context) error {
	if c.pending() {
		c.runDeferred()
		return nil
	}
	err := block(&c.mu, q.add(), c.s.sched, ctx, c.endTurn())
	c.runDeferred()
	return err
}

// waitRead is wait for a goroutine inside Read that found nothing to
// read: asleep, it counts in readersAsleep (deferPacket and
// ackIfSenderWaits then know no reader is at work), and once resumed it
// measures how long its wake took to run it (slowReader). Other waits on
// readers (GracefulClose's drain, DCCP) are plain waits.
func (c *sock) waitRead() {
	if c.pending() {
		c.runDeferred()
		return
	}
	c.readersAsleep++
	block(&c.mu, c.readers.add(), c.s.sched, nil, c.endTurn()) //nolint:errcheck // no context
	c.readersAsleep--
	if c.readerWoken != 0 {
		c.slowReader = c.s.clk.Now().Sub(c.readerWoken) > slowWake
		c.readerWoken = 0
	}
	c.runDeferred()
}

// wakeReaders wakes the goroutines parked on readers; in real time, when
// one of them is a Read asleep, it notes the instant for waitRead's
// measure.
func (c *sock) wakeReaders() {
	if c.s.sched == nil && c.readersAsleep > 0 && c.readerWoken == 0 && len(c.readers.ws) > 0 {
		c.readerWoken = c.s.clk.Now()
	}
	c.readers.wakeAll(c.s.sched)
}

// ready says whether a Read or Write may go on, asked before each try at
// now, the instant the try then hands the core (d is its deadline): not
// after the application's own Close (net.ErrClosed, as Go's conns
// return), and not once the deadline has passed — even if data is waiting
// to be read or there is room to write, since net.Conn fails every call
// at once after a deadline in the past. (It read the clock itself: a
// third of the clock reads of a bulk transfer at MTU 65535, issue 15.)
func (c *sock) ready(d *deadline, now clock.Instant) error {
	if c.closed {
		return netErrClosed
	}
	if d.expired(now) {
		return errDeadline
	}
	return nil
}

// markClosed records the application's Close (or Abort, or Vanish). Every
// call fails with net.ErrClosed from now on, deadlines included, so their
// timers are disarmed here: an armed one would otherwise stay in the
// runtime's timer heap and keep the connection reachable until it fired,
// which under connection churn is thousands of dead connections held for
// a deadline's length (and a goroutine each when they fire).
func (c *sock) markClosed() {
	c.closed = true
	c.readDeadline.stop()
	c.writeDeadline.stop()
}

// handshake runs a new connection's first output and waits, for Dial,
// until done reports the handshake's outcome (with the lock held): nil
// once the connection is open, or why it failed. If ctx ends first the
// attempt is abandoned: the core aborts it.
func (c *sock) handshake(ctx context.Context, done func() (bool, error)) error {
	c.lock()
	defer c.unlock()
	c.process()
	for {
		if ok, err := done(); ok {
			if err != nil {
				return c.opError("dial", err)
			}
			return nil
		}
		if err := c.wait(&c.opened, ctx); err != nil {
			c.proto.coreAbort(c.s.clk.Now())
			c.process()
			return c.opError("dial", err)
		}
	}
}

// wakeups say which of a socket's wait queues an outcome concerns.
type wakeups uint8

const (
	wakeReaders wakeups = 1 << iota
	wakeWriters
	wakeOpened
	wakeClosing
	wakeEveryone = wakeReaders | wakeWriters | wakeOpened | wakeClosing
)

// wake wakes the queues of w, always in the same order (a simulation runs
// woken goroutines in the order they were woken).
func (c *sock) wake(w wakeups) {
	sched := c.s.sched
	if w&wakeReaders != 0 {
		c.wakeReaders()
	}
	if w&wakeWriters != 0 {
		c.writers.wakeAll(sched)
	}
	if w&wakeOpened != 0 {
		c.opened.wakeAll(sched)
	}
	if w&wakeClosing != 0 {
		c.closing.wakeAll(sched)
	}
}

// opError wraps err as a net.OpError naming the connection's endpoints.
func (c *sock) opError(op string, err error) error {
	remote := c.proto.netAddr(c.tuple.remote)
	return &net.OpError{Op: op, Net: remote.Network(), Source: c.proto.netAddr(c.tuple.local), Addr: remote, Err: err}
}

// LocalAddr returns the local address: a *net.TCPAddr for TCP, a
// DCCPAddr for DCCP.
func (c *sock) LocalAddr() net.Addr { return c.proto.netAddr(c.tuple.local) }

// RemoteAddr returns the peer's address, as LocalAddr does.
func (c *sock) RemoteAddr() net.Addr { return c.proto.netAddr(c.tuple.remote) }

// LocalAddrPort returns the local address as a netip value.
func (c *sock) LocalAddrPort() netip.AddrPort { return c.tuple.local }

// RemoteAddrPort returns the peer's address as a netip value.
func (c *sock) RemoteAddrPort() netip.AddrPort { return c.tuple.remote }

// State returns the connection's state in its RFC's spelling
// ("ESTABLISHED", "FIN-WAIT-2", "TIME-WAIT" for TCP; "OPEN", "PARTOPEN",
// "TIMEWAIT" or the seed's "PASSIVE_CLOSE" for DCCP).
func (c *sock) State() string {
	c.lock()
	defer c.unlock()
	return c.proto.coreState()
}

// SetDeadline sets the read and write deadlines.
func (c *sock) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for Read; a zero t means none. A read
// blocked now is affected too. Deadlines are read on the stack's clock.
// After Close it fails with net.ErrClosed.
func (c *sock) SetReadDeadline(t time.Time) error {
	return c.setDeadline(&c.readDeadline, &c.readers, t)
}

// SetWriteDeadline sets the deadline for Write; a zero t means none.
func (c *sock) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(&c.writeDeadline, &c.writers, t)
}

// setOption runs set, which changes a socket option through the core, on
// the locked connection and sends what that changes (a window update, a
// segment Nagle held back). After Close it fails with net.ErrClosed, as
// Go's setsockopt wrappers do.
func (c *sock) setOption(set func(now clock.Instant)) error {
	c.lock()
	defer c.unlock()
	if c.closed {
		return c.opError("set", netErrClosed)
	}
	set(c.s.clk.Now())
	c.process()
	return nil
}

func (c *sock) setDeadline(d *deadline, q *waitq, t time.Time) error {
	c.lock()
	defer c.unlock()
	if c.closed {
		return c.opError("set", netErrClosed)
	}
	d.set(c.s, &c.mu, q, t)
	return nil
}
