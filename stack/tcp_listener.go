package stack

import (
	"net"
	"net/netip"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// ListenOptions configure a listener.
type ListenOptions struct {
	// Backlog is listen()'s backlog: it bounds the half-open connections
	// (the SYN queue) and the connections waiting for Accept (the accept
	// queue), as the stack's profile says (profile.Profile.SeparateSYNQueue,
	// AcceptQueueExtraSlot, SYNQueueExtraSlot). Zero means 128.
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
	// Addr binds the listener to one address of the stack, or to one
	// family (0.0.0.0: every IPv4 address; ::, every IPv6 one, as Go's
	// "tcp6" listens IPV6_V6ONLY); SYNs to the stack's other addresses
	// find no listener. The zero Addr listens on every address. The port
	// is still the listener's alone (tcp_listen_addr.go).
	Addr netip.Addr
	// ReceiveBuffer, SendBuffer and MSS are DialOptions' (SO_RCVBUF,
	// SO_SNDBUF and TCP_MAXSEG set before listen) for every connection
	// the listener makes: its SYN-ACK's window and scale follow them.
	ReceiveBuffer, SendBuffer, MSS int
}

// conns is the options' part that shapes each connection.
func (o ListenOptions) conns() DialOptions {
	return DialOptions{ReceiveBuffer: o.ReceiveBuffer, SendBuffer: o.SendBuffer, MSS: o.MSS}
}

// ListenStats are a listener's counters, and the lengths of its queues
// at the time Stats was called. (It is converted from tcp.ListenStats:
// the two keep the same fields in the same order.)
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
	// SYNFINsDropped counts segments with SYN and FIN (and neither ACK
	// nor RST) dropped without an answer, as Linux does.
	SYNFINsDropped uint64
	// StaleACKsReset counts ACKs answered with RST, without a cookie
	// check, because they came for a 4-tuple whose cookie had already made
	// a connection: the stray ACK of a connection that has ended (the
	// peer in TIME-WAIT re-acknowledging a FIN), which would otherwise
	// pass the check again and make a connection the peer does not have.
	StaleACKsReset uint64
	// SpentCookiesEvicted counts the 4-tuples forgotten before their
	// cookie expired because more cookie connections were made in two
	// minutes than the listener remembers (8192): for those the stale
	// ACK above is checked as a cookie again, as on Linux.
	SpentCookiesEvicted uint64
	// SYNQueue and AcceptQueue are the current queue lengths.
	SYNQueue, AcceptQueue int
}

// TCPListener accepts TCP connections on a port of every address of the
// stack, or of the one ListenOptions.Addr names. It implements net.Listener, with SetDeadline as
// net.TCPListener's. Its backlog is a tcp.Listener: the SYN queue holds
// small half-open records (tcp.Request), never connections; a tcp.Conn is
// made when the handshake completes (backlog.go).
type TCPListener struct {
	listenShell[*TCPConn]

	// Guarded by the shell's mu.
	core  *tcp.Listener[*TCPConn]
	bind  netip.Addr  // ListenOptions.Addr, unmapped; immutable
	bufs  DialOptions // ListenOptions' buffers and MSS; immutable
	timer clock.Timer
	armed clock.Instant
	out   outQueue
}

// ListenTCP listens on port (0 picks a free ephemeral port).
func (s *Stack) ListenTCP(port uint16, opts ListenOptions) (*TCPListener, error) {
	if opts.Backlog <= 0 {
		opts.Backlog = 128
	}
	if err := s.checkBind(opts.Addr, port); err != nil {
		return nil, err
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
	l := &TCPListener{core: tcp.NewListener[*TCPConn](listenConfig(s, opts, key)), bind: opts.Addr.Unmap(), bufs: opts.conns()}
	l.init(s, port, "tcp", tcpAddr, l)
	l.out.init(s)
	l.timer = s.clk.NewTimer(l.onTimer)
	s.listeners[port] = l
	return l, nil
}

func tcpAddr(ap netip.AddrPort) net.Addr { return net.TCPAddrFromAddrPort(ap) }

// listenConfig is the backlog's configuration: the listener's options and
// the rules of the stack's profile.
func listenConfig(s *Stack, opts ListenOptions, key [32]byte) tcp.ListenConfig {
	p := &s.prof
	return tcp.ListenConfig{
		Backlog: opts.Backlog, CookieSecret: key, TSOffsets: s.isn,
		Conn4: opts.conns().config(s.tcpCfg4), Conn6: opts.conns().config(s.tcpCfg6),
		SYNACKBeforeAccept:   p.SYNACKBeforeAccept,
		RSTOnFullBacklog:     p.RSTOnFullBacklog,
		SeparateSYNQueue:     p.SeparateSYNQueue,
		AcceptQueueExtraSlot: p.AcceptQueueExtraSlot,
		SYNQueueExtraSlot:    p.SYNQueueExtraSlot,
		SYNCookies:           p.SYNCookies && !opts.NoSYNCookies,
		AcceptReturnsReset:   p.AcceptReturnsReset,
		AbortOnOverflow:      opts.AbortOnOverflow,
	}
}

// Stats returns the listener's counters.
func (l *TCPListener) Stats() ListenStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return ListenStats(l.core.Stats())
}

// AcceptTCP waits for and returns the next connection. Under a profile
// without SYNACKBeforeAccept it is Accept that answers the oldest queued
// SYN, and it returns once that handshake completes.
func (l *TCPListener) AcceptTCP() (*TCPConn, error) { return l.accept() }

// The protocol part of the shell (listenProto).

func (l *TCPListener) take(now clock.Instant) (*TCPConn, bool) { return l.core.Accept(now) }

// waiting sends the SYN-ACK with which Accept may have answered a SYN.
func (l *TCPListener) waiting() bool {
	l.collect()
	l.out.writeOut(l.s, &l.mu)
	return l.closed || l.core.Ready()
}

// handOver detaches an accepted connection from the listener and tells
// its core (DupACKAtAccept's duplicate ACK).
func (l *TCPListener) handOver(c *TCPConn) {
	c.mu.Lock()
	c.listener = nil
	if c.core.Accepted() {
		c.process()
	}
	c.mu.Unlock()
}

func (l *TCPListener) shut() []*TCPConn {
	l.timer.Stop()
	return l.core.Close()
}

func (l *TCPListener) unregister() {
	s := l.s
	s.mu.Lock()
	if s.listeners[l.port] == l {
		delete(s.listeners, l.port)
	}
	s.mu.Unlock()
}
