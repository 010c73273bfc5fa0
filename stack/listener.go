package stack

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// listenShell is what the TCP and DCCP listeners share, written once: the
// lock, Accept's blocking and waking, its deadline, and the order of work
// of Close. What differs — the backlog, how a connection gets ready, what
// accepting it means — is the protocol part, listenProto, which the
// listener types (TCPListener, DCCPListener) implement around their cores.
type listenShell[C acceptable] struct {
	s       *Stack
	port    uint16
	network string // "tcp" or "dccp", for errors
	addrOf  func(netip.AddrPort) net.Addr
	proto   listenProto[C]

	mu        sync.Mutex
	acceptors waitq // blocked Accept calls
	deadline  deadline
	closed    bool
}

// acceptable is a connection a listener hands out.
type acceptable interface {
	comparable
	net.Conn
	// abort resets a connection that was never accepted (Close).
	abort()
}

// listenProto is a listener's protocol part. The shell calls take and
// waiting and shut with its lock held, the others without.
type listenProto[C acceptable] interface {
	// take removes and returns the next connection ready for Accept.
	take(now clock.Instant) (C, bool)
	// waiting is called when Accept finds nothing to take, before it
	// blocks: it may send what take set going (releasing the lock while
	// it writes), and reports whether Accept should look again at once.
	waiting() bool
	// handOver readies an accepted connection for the application.
	handOver(c C)
	// shut stops the listener's work at Close and returns the connections
	// that were not accepted; the shell resets them.
	shut() []C
	// unregister removes the listener from the stack's table.
	unregister()
}

func (l *listenShell[C]) init(s *Stack, port uint16, network string, addrOf func(netip.AddrPort) net.Addr, p listenProto[C]) {
	l.s, l.port, l.network, l.addrOf, l.proto = s, port, network, addrOf, p
}

// Port returns the port the listener is bound to.
func (l *listenShell[C]) Port() uint16 { return l.port }

// Addr returns the listener's address: the stack's first address and the
// port (it accepts on every address of the stack).
func (l *listenShell[C]) Addr() net.Addr { return l.addrOf(netip.AddrPortFrom(l.s.addrs[0], l.port)) }

// Accept waits for and returns the next connection (net.Listener).
func (l *listenShell[C]) Accept() (net.Conn, error) {
	c, err := l.accept()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// accept waits for the next connection, until Close or the deadline.
func (l *listenShell[C]) accept() (C, error) {
	var none C
	l.mu.Lock()
	for {
		if l.closed {
			l.mu.Unlock()
			return none, l.opError(ErrListenerClosed)
		}
		now := l.s.clk.Now()
		if c, ok := l.proto.take(now); ok {
			l.mu.Unlock()
			l.proto.handOver(c)
			return c, nil
		}
		if l.deadline.expired(now) {
			l.mu.Unlock()
			return none, l.opError(errDeadline)
		}
		if l.proto.waiting() {
			continue
		}
		block(&l.mu, l.acceptors.add(), l.s.sched, nil, false) //nolint:errcheck // no context
	}
}

func (l *listenShell[C]) opError(err error) error {
	return &net.OpError{Op: "accept", Net: l.network, Addr: l.Addr(), Err: err}
}

// SetDeadline sets the time after which Accept fails with an error that
// wraps os.ErrDeadlineExceeded, as net.TCPListener's; a blocked Accept
// sees the new deadline. The zero time means none.
func (l *listenShell[C]) SetDeadline(t time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.deadline.set(l.s, &l.mu, &l.acceptors, t)
	return nil
}

// Close stops listening. Connections not yet accepted are reset, as Linux
// does when a listening socket closes with a non-empty queue; half-open
// ones are forgotten. Blocked Accept calls return ErrListenerClosed.
func (l *listenShell[C]) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	pending := l.proto.shut()
	if l.deadline.timer != nil {
		l.deadline.timer.Stop()
	}
	l.acceptors.wakeAll(l.s.sched)
	l.mu.Unlock()
	l.proto.unregister()
	for _, c := range pending {
		c.abort()
	}
	return nil
}
