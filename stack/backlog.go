package stack

import (
	"sync"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The listen backlog (docs/backlog.md; docs/scenarios.md, seed 003) is
// tcp.Listener: its SYN queue, accept queue, SYN cookies and the
// profile's rules are decided there, sans-I/O. What is here is the host's
// part: the listener's lock, its timer, computing ISNs, making the Conn of
// a completed handshake, writing the listener's segments and waking
// Accept.

// handleSegment takes a segment for the listening port that matched no
// connection (RFC 9293 §3.10.7.2, LISTEN, or a queued half-open request).
func (l *TCPListener) handleSegment(tuple fourTuple, seg *tcp.Segment) {
	var iss seqnum.V32
	if seg.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN { // may be queued
		iss = l.s.isn.ISN(l.s.clk.Now(), tuple.local, tuple.remote)
	}
	l.handleSYN(tuple, seg, iss)
}

// handleSYN hands seg to the core, with iss the initial sequence number
// for it should it be queued; deliverTCP calls it directly with the ISS of
// a SYN that reincarnates a connection in TIME-WAIT.
func (l *TCPListener) handleSYN(tuple fourTuple, seg *tcp.Segment, iss seqnum.V32) {
	now := l.s.clk.Now()
	l.mu.Lock()
	req, done := l.core.HandleSegment(now, tcp.Tuple{Local: tuple.local, Remote: tuple.remote}, seg, iss)
	l.collect()
	l.mu.Unlock()
	l.out.flush(&l.mu)
	if done {
		l.establish(tuple, &req, seg)
	}
}

// collect takes what the core produced, with l.mu held: its segments into
// the out queue, a wake-up for Accept, the timer re-armed lazily (only
// when the deadline comes earlier than the armed one).
func (l *TCPListener) collect() {
	var t tcp.Tuple
	var seg tcp.Segment
	for l.core.NextSegment(&t, &seg) {
		l.out.emit(fourTuple{t.Local, t.Remote}, &seg)
	}
	l.wakeAcceptors()
	if d := l.core.NextDeadline(); !d.IsZero() && !l.closed && (l.armed.IsZero() || d.Before(l.armed)) {
		l.armed = d
		l.timer.Reset(d)
	}
}

// wakeAcceptors wakes the blocked Accept calls if the core says there is
// something for them.
func (l *TCPListener) wakeAcceptors() {
	if l.core.TakeEvents() != 0 {
		l.acceptors.wakeAll(l.s.sched)
	}
}

// onTimer is the listener's timer: SYN-ACK retransmissions are due.
func (l *TCPListener) onTimer() {
	l.mu.Lock()
	l.armed = 0
	l.core.HandleTimer(l.s.clk.Now())
	l.collect()
	l.mu.Unlock()
	l.out.flush(&l.mu)
}

// establish makes the connection of a request whose handshake the segment
// seg completes, and hands seg to it: the core takes it from SYN-RECEIVED
// to ESTABLISHED and processes its data and FIN; the connection then
// joins the accept queue (connEvent).
func (l *TCPListener) establish(tuple fourTuple, req *tcp.Request, seg *tcp.Segment) {
	s := l.s
	now := s.clk.Now()
	c := new(TCPConn)
	c.mu.Lock()
	s.mu.RLock()
	ok := !s.closed && s.reserveConn(tuple, c) // made below, with s.mu released
	s.mu.RUnlock()
	if !ok {
		return
	}
	s.makeConn(c, tuple, func(cfg *tcp.Config) *tcp.Conn { return tcp.NewFromRequest(now, l.bufs.config(cfg), req) })

	l.mu.Lock()
	l.core.Joining(c)
	l.mu.Unlock()
	c.listener = l
	c.core.HandleSegment(now, seg)
	c.process()
	c.mu.Unlock()
}

// connEvent is called (with c.mu held) when a connection of the listener
// is established, or ends, before Accept took it.
func (l *TCPListener) connEvent(c *TCPConn, ev tcp.Events) {
	const ended = tcp.EventReset | tcp.EventTimeout | tcp.EventClosed
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.core.ConnChanged(c, ev&tcp.EventEstablished != 0, ev&ended != 0) {
		c.listener = nil
	}
	l.wakeAcceptors()
}

// outQueue holds the packets a listener sends (SYN-ACKs, RSTs) until they
// are written with the listener's lock released (see txQueue).
type outQueue struct {
	s *Stack
	txQueue
}

func (o *outQueue) init(s *Stack) { o.s = s }

// emit encodes seg from tuple.local to tuple.remote into a buffer and
// queues it. The caller holds the listener's lock.
func (o *outQueue) emit(tuple fourTuple, seg *tcp.Segment) {
	o.queueTCP(o.s, tuple, seg)
}

// flush writes the queued packets; call it without mu held. One caller at
// a time writes, the others leave their packets to it.
func (o *outQueue) flush(mu *sync.Mutex) {
	mu.Lock()
	defer mu.Unlock()
	o.writeOut(o.s, mu)
}
