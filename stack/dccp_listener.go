package stack

import (
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// DCCPListenOptions configure a DCCP listener. Zero values mean the
// documented defaults.
type DCCPListenOptions struct {
	// Services are the service codes accepted (RFC 4340 §8.1.2); a Request
	// for another draws Reset (Bad Service Code). Empty accepts any.
	Services []uint32
	// Backlog bounds the connections in the handshake or waiting for
	// Accept; beyond it a Request draws Reset (Too Busy), as Linux
	// answers (docs/peer-facts.md). Default 16.
	Backlog int
	// CCID is the congestion control the server prefers for both
	// directions (2, the default, or 3); the server's preference wins
	// (§6.3.1).
	CCID int
	// ServerTimewait makes the server close with Close and hold TIMEWAIT
	// itself instead of asking the client to with CloseReq (§8.3; Linux's
	// DCCP_SOCKOPT_SERVER_TIMEWAIT).
	ServerTimewait bool
	// SendQueueLen, RecvQueueLen, QueueFullError, MSL and CloseRetries
	// are as in DCCPOptions, for every accepted connection.
	SendQueueLen, RecvQueueLen int
	QueueFullError             bool
	MSL                        time.Duration
	CloseRetries               int
}

// DCCPListenStats are a DCCP listener's counters.
type DCCPListenStats struct {
	// Requests counts Requests that reached the listener.
	Requests uint64
	// TooBusy counts Requests refused with Reset (Too Busy).
	TooBusy uint64
	// BadService counts Requests refused with Reset (Bad Service Code).
	BadService uint64
	// Accepted counts connections handed to Accept.
	Accepted uint64
}

// DCCPListener accepts DCCP connections on a port of every address of
// the stack. It implements net.Listener, with SetDeadline as
// net.TCPListener's.
type DCCPListener struct {
	listenShell[*DCCPConn]
	opts DCCPListenOptions

	// Guarded by the shell's mu.
	core        dccp.Listener
	handshaking []*DCCPConn // in order of arrival: determinism
	acceptQ     []*DCCPConn
	stats       DCCPListenStats
}

// ListenDCCP listens for DCCP on port (0 picks a free ephemeral port).
func (s *Stack) ListenDCCP(port uint16, opts DCCPListenOptions) (*DCCPListener, error) {
	t := &s.dccp
	t.mu.Lock()
	defer t.mu.Unlock()
	if port == 0 {
		var ok bool
		if port, ok = s.pickDCCPPort(s.addrs[0], netip.AddrPort{}); !ok {
			return nil, ErrAddrNotAvailable
		}
	}
	if _, ok := t.listeners[port]; ok {
		return nil, &net.OpError{Op: "listen", Net: "dccp", Addr: dccpAddr(netip.AddrPortFrom(s.addrs[0], port)), Err: ErrAddrInUse}
	}
	l := &DCCPListener{opts: opts}
	l.init(s, port, "dccp", dccpAddr, l)
	l.core = dccp.Listener{ServiceCodes: append([]uint32(nil), opts.Services...), Backlog: opts.Backlog}
	t.listeners[port] = l
	return l, nil
}

// Stats returns the listener's counters.
func (l *DCCPListener) Stats() DCCPListenStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// handlePacket takes a packet for the listening port that matched no
// connection: RFC 4340 §8.5 step 3, state LISTEN.
func (l *DCCPListener) handlePacket(tuple fourTuple, p *dccp.Packet) {
	s := l.s
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		s.sendDCCPReset(tuple, p, wire.DCCPResetNoConnection)
		return
	}
	if p.Type == wire.DCCPRequest {
		l.stats.Requests++
	}
	o := l.opts
	l.core.Config = s.dccpConfig(tuple.local.Addr(), DCCPOptions{
		CCID: o.CCID, SendQueueLen: o.SendQueueLen, RecvQueueLen: o.RecvQueueLen, MSL: o.MSL, CloseRetries: o.CloseRetries,
	})
	l.core.Config.ServerTimewait = o.ServerTimewait
	c := s.newDCCPConn(tuple, l.core.Config, func(cfg dccp.Config) *dccp.Conn {
		core, r, reply := l.core.HandlePacket(s.clk.Now(), p, s.dccpISS(), len(l.acceptQ)+len(l.handshaking))
		if reply {
			l.refused(tuple, &r)
		}
		return core
	})
	if c == nil {
		l.mu.Unlock()
		return
	}
	c.listener = l
	c.queueFullError = o.QueueFullError
	l.handshaking = append(l.handshaking, c)
	s.dccp.mu.Lock()
	s.dccp.conns[tuple] = c
	s.dccp.mu.Unlock()
	l.mu.Unlock()

	c.mu.Lock()
	c.process()
	c.mu.Unlock()
}

// refused counts and sends the listener's Reset (Bad Service Code, Too
// Busy, No Connection, or an option error).
func (l *DCCPListener) refused(tuple fourTuple, r *dccp.Packet) {
	switch r.ResetCode {
	case wire.DCCPResetTooBusy:
		l.stats.TooBusy++
		l.s.dccp.count(&l.s.dccp.tooBusy)
	case wire.DCCPResetBadServiceCode:
		l.stats.BadService++
		l.s.dccp.count(&l.s.dccp.badService)
	case wire.DCCPResetNoConnection:
		l.s.dccp.count(&l.s.dccp.resetsNoConn)
	}
	l.s.sendDCCPPacket(tuple, r)
}

// connEvent is called (with c.mu held) when a connection of the listener
// changed state: once OPEN (or already passively closing) it waits for
// Accept; if it ended in the handshake it is never handed out.
func (l *DCCPListener) connEvent(c *DCCPConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := slices.Index(l.handshaking, c)
	if i < 0 {
		return
	}
	st := c.core.State()
	switch {
	case c.core.Done():
		l.handshaking = slices.Delete(l.handshaking, i, i+1)
		c.listener = nil
	case st >= dccp.Open && !l.closed:
		l.handshaking = slices.Delete(l.handshaking, i, i+1)
		l.acceptQ = append(l.acceptQ, c)
		l.acceptors.wakeAll(l.s.sched)
	}
}

// AcceptDCCP waits for and returns the next connection.
func (l *DCCPListener) AcceptDCCP() (*DCCPConn, error) { return l.accept() }

// The protocol part of the shell (listenProto).

func (l *DCCPListener) take(clock.Instant) (*DCCPConn, bool) {
	if len(l.acceptQ) == 0 {
		return nil, false
	}
	c := l.acceptQ[0]
	l.acceptQ = slices.Delete(l.acceptQ, 0, 1)
	l.stats.Accepted++
	return c, true
}

func (l *DCCPListener) waiting() bool { return false }

func (l *DCCPListener) handOver(*DCCPConn) {}

func (l *DCCPListener) shut() []*DCCPConn {
	pending := append(l.acceptQ, l.handshaking...)
	l.acceptQ, l.handshaking = nil, nil
	return pending
}

func (l *DCCPListener) unregister() {
	t := &l.s.dccp
	t.mu.Lock()
	if t.listeners[l.port] == l {
		delete(t.listeners, l.port)
	}
	t.mu.Unlock()
}
