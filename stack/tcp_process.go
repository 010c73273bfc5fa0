package stack

import (
	"io"
	"net/netip"
	"os"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

var (
	ioEOF       = io.EOF
	errDeadline = os.ErrDeadlineExceeded
)

func expired(deadline, now clock.Instant) bool { return !deadline.IsZero() && !now.Before(deadline) }

// instantOf converts a net.Conn deadline to the stack's clock. Only the
// zero time.Time means "no deadline"; every other time in the past
// expires at once, the Unix epoch included (its UnixNano is 0, the
// "not set" Instant: it and everything before it map to -1, earlier than
// any clock's now). Times past int64 nanoseconds are Never.
func instantOf(t time.Time) clock.Instant {
	switch {
	case t.IsZero():
		return 0
	case !t.After(epoch):
		return -1
	case !t.Before(lastInstant):
		return clock.Never
	}
	return clock.Instant(t.UnixNano())
}

var (
	epoch       = time.Unix(0, 0)
	lastInstant = time.Unix(0, int64(clock.Never))
)

// handleSegment runs a received segment through the core, and reports
// false if the connection was forgotten since the caller found it: the
// segment is then not the core's, whose counters went to the stack's sum
// when it retired.
func (c *TCPConn) handleSegment(seg *tcp.Segment) bool {
	c.lock()
	if c.gone {
		c.unlock()
		return false
	}
	now := c.s.clk.Now()
	c.core.HandleSegment(now, seg)
	c.ackIfSenderWaits(seg)
	c.processAt(now)
	c.unlock()
	return true
}

// ackIfSenderWaits has the core ACK at once a data segment that leaves
// its sender no room for another (tcp.Conn.ClosesWindow), in real time,
// when no reader is at work on the connection: the sender can do nothing
// until it hears from us, and the delayed-ACK timer that would otherwise
// send the ACK — or the reader parked in Read that would send a window
// update once it took the data — runs on a goroutine that, on a busy
// host, waits its turn behind every runnable one (issue 15: with 128
// flows, 100 ms and more, and the sender's loss probe sent again what had
// arrived). A reader at work sends that update itself when its copy
// frees room (over TUN, an ACK at once as well was one ACK in five more
// for nothing). RFC 5681 §4.2 lets a receiver ACK any segment at once.
// Under a Scheduler the ACK policy stays Linux's, as the goldens show it.
func (c *TCPConn) ackIfSenderWaits(seg *tcp.Segment) {
	if c.s.sched == nil && c.inRead <= c.readersAsleep && len(seg.Payload) > 0 && c.core.ClosesWindow(seg.Seq, seqnum.Size32(len(seg.Payload))) {
		c.core.ACKNow()
	}
}

// reincarnate asks the core whether a SYN that reached a listening port
// opens a new connection on this one's 4-tuple (tcp.Conn.Reincarnate
// decides, in TIME-WAIT). If so the old connection is forgotten and the
// ISS for the new one returned.
func (c *TCPConn) reincarnate(seg *tcp.Segment, listening bool) (seqnum.V32, bool) {
	if !listening || seg.Flags&(wire.SYN|wire.ACK|wire.RST) != wire.SYN {
		return 0, false // not a candidate: no need to lock
	}
	c.lock()
	defer c.unlock()
	if c.gone {
		// Retired since the caller found it (a SYN that raced another
		// that reincarnated it): handleSegment says so, and the segment
		// meets no connection.
		return 0, false
	}
	now := c.s.clk.Now()
	iss, ok := c.core.Reincarnate(now, seg, c.s.isn.ISN(now, c.tuple.local, c.tuple.remote))
	if ok {
		c.forget()
	}
	return iss, ok
}

// The TCP side of the shell (protocol, sock.go).

// coreOutput encodes the segments the core wants sent, wakes the waiters
// of its events and tells the listener, if the connection is not yet
// accepted, that it was established or ended.
func (c *TCPConn) coreOutput(now clock.Instant) {
	var seg tcp.Segment // on the goroutine's stack: neither call keeps it
	for c.core.NextSegment(now, &seg) {
		c.queueTCP(c.s, c.tuple, &seg)
	}
	ev := c.core.TakeEvents()
	if ev&tcp.EventState != 0 && c.s.onState != nil {
		c.reportStates()
	}
	const ended = tcp.EventReset | tcp.EventTimeout | tcp.EventClosed
	var w wakeups
	if ev&(tcp.EventReadable|tcp.EventPeerFIN|ended) != 0 {
		w |= wakeReaders
	}
	if ev&(tcp.EventWritable|ended) != 0 {
		w |= wakeWriters
	}
	if ev&(tcp.EventEstablished|ended) != 0 {
		w |= wakeOpened
	}
	if ev&(tcp.EventAcked|tcp.EventTimeWait|ended) != 0 {
		w |= wakeClosing
	}
	c.wake(w)
	c.account()
	if c.listener != nil && ev&(tcp.EventEstablished|ended) != 0 {
		c.listener.connEvent(c, ev)
	}
}

// coreInput runs a deferred segment: checksum (unless the link vouched
// for it), decode, SEGMENT ARRIVES.
func (c *TCPConn) coreInput(now clock.Instant, src, dst netip.Addr, raw []byte, verified bool) bool {
	var seg tcp.Segment
	t, err := wire.ParseTCP(raw)
	if err != nil || !(verified || c.s.tcpChecksumOK(src, dst, t)) || !c.s.decodeTCP(t, &seg) {
		return false
	}
	nxt, gap := c.core.ReceiveGap()
	c.core.HandleSegment(now, &seg)
	c.ackIfSenderWaits(&seg)
	after, _ := c.core.ReceiveGap()
	return gap && after != nxt
}

// coreTimer runs the core's timers. A loss probe due to send the last
// segment again while that segment has not left this host is not sent
// (Linux's tcp_send_loss_probe checks skb_still_in_host_queue): the copy
// would queue behind the original, and the peer would see both — a
// spurious retransmission that no loss caused. The retransmission timer
// the probe timeout armed still guards the flight: should the segment be
// lost once it leaves, the RTO repairs it, not a probe (as on Linux). A
// simulated link never holds a write, so under a Scheduler this never
// applies; the check says so.
func (c *TCPConn) coreTimer(now clock.Instant) {
	if c.outOfResources(now) {
		return
	}
	c.core.HandleTimer(now)
	if sent, ok := c.core.ProbeResends(); ok && c.s.sched == nil && c.inHost(sent) {
		c.core.SkipProbe()
		c.s.probesHeld.Add(1)
	}
}

// coreAwaitsACK reports whether the raw segment (header checked by
// deliverTCP) leaves its sender with nothing more to send until our ACK:
// it fills our window (tcp.Conn.ClosesWindow), or it carries PSH, which
// our peers set on the segment that empties their send buffer (RFC 9293
// §3.9.1; Linux and this stack alike) — heeded only for a slow reader,
// since a bulk sender pushes at the end of every write.
func (c *TCPConn) coreAwaitsACK(raw []byte, slowReader bool) bool {
	t := wire.TCP(raw)
	if slowReader && t.Flags().Has(wire.PSH) {
		return true
	}
	return c.core.ClosesWindow(t.Seq(), t.SegLen())
}

func (c *TCPConn) coreAbort(now clock.Instant) { c.core.Abort(now) }
func (c *TCPConn) coreDeadline() clock.Instant { return c.core.NextDeadline() }
func (c *TCPConn) coreEnded() bool             { return c.core.State() == tcp.Closed }
func (c *TCPConn) coreState() string           { return c.core.State().String() }
func (c *TCPConn) coreIdle() bool {
	return c.core.Unacked() == 0 && c.core.NextDeadline().IsZero()
}

// retire takes the connection out of the stack's table and keeps its
// counters.
func (c *TCPConn) retire() {
	s := c.s
	c.unaccount()
	// Out of the table and into the sum at once, under statsMu: Stats
	// would otherwise see the connection in neither, and the counters,
	// which never decrease, go back.
	s.statsMu.Lock()
	s.conns.remove(c.tuple, c)
	s.tcpDone.Add(c.core.Counters())
	s.statsMu.Unlock()
}
