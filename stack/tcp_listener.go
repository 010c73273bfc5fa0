package stack

import (
	"net"
	"net/netip"
	"sync"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// ListenOptions configure a listener.
type ListenOptions struct {
	// Backlog bounds the connections that completed the handshake and wait
	// for Accept (the accept queue). Zero means 128.
	Backlog int
}

// ListenStats are a listener's counters.
type ListenStats struct {
	// SYNsReceived counts SYNs that reached the listener.
	SYNsReceived uint64
	// SYNsDropped counts SYNs dropped because the backlog was full.
	SYNsDropped uint64
	// Accepted counts connections handed to Accept.
	Accepted uint64
}

// TCPListener accepts TCP connections on a port of every address of the
// stack. It implements net.Listener.
type TCPListener struct {
	s       *Stack
	port    uint16
	backlog int

	mu        sync.Mutex
	synQueue  map[*TCPConn]struct{} // handshake in progress
	acceptQ   []*TCPConn            // established, waiting for Accept
	acceptors waitq
	closed    bool
	stats     ListenStats
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
		n := ephemeralLast - ephemeralFirst + 1
		start := s.rng.IntN(n)
		for i := range n {
			p := uint16(ephemeralFirst + (start+i)%n)
			if _, ok := s.listeners[p]; !ok {
				port = p
				break
			}
		}
		if port == 0 {
			return nil, ErrAddrNotAvailable
		}
	}
	if _, ok := s.listeners[port]; ok {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Addr: &net.TCPAddr{Port: int(port)}, Err: ErrAddrInUse}
	}
	l := &TCPListener{s: s, port: port, backlog: opts.Backlog, synQueue: make(map[*TCPConn]struct{})}
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
	return l.stats
}

// handleSegment takes a segment for the listening port that matched no
// connection: RFC 9293 §3.10.7.2, state LISTEN.
func (l *TCPListener) handleSegment(tuple fourTuple, seg *tcp.Segment) {
	switch {
	case seg.Flags.Has(wire.RST): // an RST to a listener is ignored
		return
	case seg.Flags.Has(wire.ACK): // nothing here was ever sent: RST
		l.s.sendRSTFor(tuple, seg)
		return
	case !seg.Flags.Has(wire.SYN): // no SYN, no ACK: drop
		return
	}
	l.handleSYN(tuple, seg, l.s.isn.ISN(l.s.clk.Now(), tuple.local, tuple.remote))
}

// handleSYN opens a passive connection for a SYN, with initial sequence
// number iss, if the backlog has room.
func (l *TCPListener) handleSYN(tuple fourTuple, seg *tcp.Segment, iss seqnum.V32) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.s.sendRSTFor(tuple, seg)
		return
	}
	l.stats.SYNsReceived++
	if len(l.acceptQ)+len(l.synQueue) >= l.backlog {
		// A full backlog drops the SYN in silence; the client retries.
		l.stats.SYNsDropped++
		l.mu.Unlock()
		return
	}
	s := l.s
	now := s.clk.Now()
	c := s.newConn(tuple, func(cfg tcp.Config) *tcp.Conn { return tcp.NewPassive(now, cfg, iss, seg) })
	c.listener = l
	l.synQueue[c] = struct{}{}
	s.mu.Lock()
	s.conns[tuple] = c
	s.mu.Unlock()
	l.mu.Unlock()

	c.mu.Lock()
	c.process()
	c.mu.Unlock()
}

// connEvent is called (with c.mu held) when a connection of the listener
// is established or ends before Accept took it.
func (l *TCPListener) connEvent(c *TCPConn, ev tcp.Events) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.synQueue[c]; !ok {
		return
	}
	delete(l.synQueue, c)
	if ev&tcp.EventEstablished != 0 && !l.closed {
		l.acceptQ = append(l.acceptQ, c)
		l.acceptors.wakeAll(l.s.sched)
		return
	}
	// Ended during the handshake: the listener never hands it out.
	c.listener = nil
}

// Accept waits for and returns the next connection (net.Listener).
func (l *TCPListener) Accept() (net.Conn, error) {
	c, err := l.AcceptTCP()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AcceptTCP waits for and returns the next connection.
func (l *TCPListener) AcceptTCP() (*TCPConn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.closed {
			return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: ErrListenerClosed}
		}
		if len(l.acceptQ) > 0 {
			c := l.acceptQ[0]
			copy(l.acceptQ, l.acceptQ[1:])
			l.acceptQ[len(l.acceptQ)-1] = nil
			l.acceptQ = l.acceptQ[:len(l.acceptQ)-1]
			l.stats.Accepted++
			// c.listener is cleared under c.mu by the caller's first use;
			// clearing it here would race with process, so leave it: the
			// listener ignores events of connections not in synQueue.
			return c, nil
		}
		block(&l.mu, l.acceptors.add(), l.s.sched, nil) //nolint:errcheck // no context
	}
}

// Close stops listening. Connections not yet accepted are reset, as Linux
// does when a listening socket closes with a non-empty queue.
func (l *TCPListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	pending := append([]*TCPConn(nil), l.acceptQ...)
	for c := range l.synQueue {
		pending = append(pending, c)
	}
	l.acceptQ = nil
	l.synQueue = map[*TCPConn]struct{}{}
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
