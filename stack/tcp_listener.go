package stack

import (
	"net"
	"net/netip"
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/profile"
)

// ListenOptions configure a listener.
type ListenOptions struct {
	// Backlog is listen()'s backlog: it bounds the half-open connections
	// (the SYN queue) and the connections waiting for Accept (the accept
	// queue), as the stack's profile says (profile.Profile.SeparateSYNQueue,
	// AcceptQueueExtraSlot). Zero means 128.
	Backlog int
	// AbortOnOverflow answers the final ACK of a handshake that finds the
	// accept queue full with RST instead of dropping it (Linux
	// net.ipv4.tcp_abort_on_overflow = 1). Only under profiles with
	// SeparateSYNQueue; the others reserve a place at the SYN.
	AbortOnOverflow bool
	// NoSYNCookies turns SYN cookies off for this listener even when the
	// profile uses them (Linux net.ipv4.tcp_syncookies = 0): a full SYN
	// queue then drops SYNs.
	NoSYNCookies bool
}

// ListenStats are a listener's counters, and the lengths of its queues
// at the time Stats was called.
type ListenStats struct {
	// SYNsReceived counts SYNs that reached the listener (retransmitted
	// ones for a queued request included).
	SYNsReceived uint64
	// SYNsDropped counts SYNs dropped (or, under RSTOnFullBacklog,
	// refused) because the backlog was full.
	SYNsDropped uint64
	// RSTsSent counts RSTs the listener sent: SYNs refused by a full
	// backlog, final ACKs refused by AbortOnOverflow, bad ACKs.
	RSTsSent uint64
	// SYNACKsSent counts SYN-ACKs sent from the SYN queue, and
	// SYNACKRetransmits those among them that were retransmissions.
	SYNACKsSent, SYNACKRetransmits uint64
	// RequestsExpired counts half-open connections given up after their
	// SYN-ACK retransmissions; RequestsReset those ended by an RST.
	RequestsExpired, RequestsReset uint64
	// CookiesSent counts SYN cookies sent, CookiesValidated the ACKs that
	// carried a valid one, CookiesRejected the ACKs that did not.
	CookiesSent, CookiesValidated, CookiesRejected uint64
	// AcceptOverflows counts final ACKs (cookie or not) dropped or refused
	// because the accept queue was full, and SYNs dropped for the same
	// reason (Linux ListenOverflows).
	AcceptOverflows uint64
	// QueuedResets counts connections removed from the accept queue by an
	// RST before Accept took them (profiles without AcceptReturnsReset).
	QueuedResets uint64
	// Accepted counts connections handed to Accept.
	Accepted uint64
	// SYNQueue and AcceptQueue are the current queue lengths.
	SYNQueue, AcceptQueue int
}

// TCPListener accepts TCP connections on a port of every address of the
// stack. It implements net.Listener. Its SYN queue holds small half-open
// records (tcp.Request), never connections: a tcp.Conn is made when the
// handshake completes (backlog.go).
type TCPListener struct {
	s       *Stack
	port    uint16
	backlog int
	opts    ListenOptions
	prof    profile.Profile
	jar     *tcp.CookieJar

	mu         sync.Mutex
	syn        synQueue
	building   []*TCPConn // handshake done, Conn being made (place reserved)
	acceptQ    []*TCPConn // established, waiting for Accept
	acceptors  waitq
	timer      clock.Timer
	armed      clock.Instant
	lastCookie clock.Instant // last SYN cookie sent (0: never)
	closed     bool
	stats      ListenStats
	out        outQueue
}

// ListenTCP listens on port (0 picks a free ephemeral port).
func (s *Stack) ListenTCP(port uint16, opts ListenOptions) (*TCPListener, error) {
	if opts.Backlog <= 0 {
		opts.Backlog = 128
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStackClosed
	}
	if port == 0 {
		p, ok := s.searchEphemeral(s.ephemeralStart(), func(p uint16) bool {
			_, ok := s.listeners[p]
			return ok
		})
		if !ok {
			return nil, ErrAddrNotAvailable
		}
		port = p
	}
	if _, ok := s.listeners[port]; ok {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: int(port)}, Err: ErrAddrInUse}
	}
	var key [32]byte
	for i := range key {
		key[i] = byte(s.rng.Uint32())
	}
	l := &TCPListener{
		s: s, port: port, backlog: opts.Backlog, opts: opts, prof: s.prof,
		jar: tcp.NewCookieJar(key),
	}
	l.syn.init(opts.Backlog)
	l.out.init(s)
	l.timer = s.clk.NewTimer(l.onTimer)
	s.listeners[port] = l
	return l, nil
}

// Port returns the port the listener is bound to.
func (l *TCPListener) Port() uint16 { return l.port }

// Addr returns the listener's address: the stack's first address and the
// port (it accepts on every address of the stack).
func (l *TCPListener) Addr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.AddrPortFrom(l.s.addrs[0], l.port))
}

// Stats returns the listener's counters.
func (l *TCPListener) Stats() ListenStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	st.SYNQueue = l.syn.used
	st.AcceptQueue = len(l.acceptQ)
	return st
}

// Accept waits for and returns the next connection (net.Listener).
func (l *TCPListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptTCP waits for and returns the next connection. Under a profile
// without SYNACKBeforeAccept it is Accept that answers the oldest queued
// SYN, and it returns once that handshake completes.
func (l *TCPListener) AcceptTCP() (*TCPConn, error) {
	l.mu.Lock()
	for {
		if l.closed {
			l.mu.Unlock()
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: ErrListenerClosed}
		}
		if len(l.acceptQ) > 0 {
			c := l.acceptQ[0]
			l.removeQueued(0)
			l.stats.Accepted++
			l.mu.Unlock()
			l.handOver(c)
			return c, nil
		}
		if !l.prof.SYNACKBeforeAccept {
			l.answerOldest()
		}
		l.mu.Unlock()
		l.out.flush(&l.mu)
		l.mu.Lock()
		if l.closed || len(l.acceptQ) > 0 {
			continue
		}
		block(&l.mu, l.acceptors.add(), l.s.sched, nil) //nolint:errcheck // no context
	}
}

// handOver detaches an accepted connection from the listener and, under
// DupACKAtAccept, sends the duplicate ACK VOS 17.1 sends at accept.
func (l *TCPListener) handOver(c *TCPConn) {
	c.mu.Lock()
	c.listener = nil
	if l.prof.DupACKAtAccept && c.core.HoldingFIN() {
		c.core.QueueACK()
		c.process()
	}
	c.mu.Unlock()
}

// removeQueued removes acceptQ[i], keeping the order.
func (l *TCPListener) removeQueued(i int) {
	copy(l.acceptQ[i:], l.acceptQ[i+1:])
	l.acceptQ[len(l.acceptQ)-1] = nil
	l.acceptQ = l.acceptQ[:len(l.acceptQ)-1]
}

// connEvent is called (with c.mu held) when a connection of the listener
// is established, or ends, before Accept took it.
func (l *TCPListener) connEvent(c *TCPConn, ev tcp.Events) {
	const ended = tcp.EventReset | tcp.EventTimeout | tcp.EventClosed
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, b := range l.building {
		if b != c {
			continue
		}
		l.building = append(l.building[:i], l.building[i+1:]...)
		if ev&tcp.EventEstablished != 0 && !l.closed {
			l.acceptQ = append(l.acceptQ, c)
			l.acceptors.wakeAll(l.s.sched)
			return
		}
		c.listener = nil
		return
	}
	if ev&ended == 0 || l.prof.AcceptReturnsReset {
		return
	}
	// VOS 17.1: "the reset effectively removes the socket from the
	// backlog queue so the accept does not see it".
	for i, q := range l.acceptQ {
		if q == c {
			l.removeQueued(i)
			l.stats.QueuedResets++
			c.listener = nil
			return
		}
	}
}

// Close stops listening. Connections not yet accepted are reset, as Linux
// does when a listening socket closes with a non-empty queue; half-open
// ones are forgotten.
func (l *TCPListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	pending := l.acceptQ
	l.acceptQ = nil
	l.syn.clear()
	l.timer.Stop()
	l.acceptors.wakeAll(l.s.sched)
	l.mu.Unlock()
	s := l.s
	s.mu.Lock()
	if s.listeners[l.port] == l {
		delete(s.listeners, l.port)
	}
	s.mu.Unlock()
	for _, c := range pending {
		c.abort()
	}
	return nil
}
