package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// TCPConn is a TCP connection. It implements net.Conn and adds the calls
// teardown is about: CloseWrite and CloseRead (shutdown), SetLinger,
// SetNoDelay, SetKeepAlive, and GracefulClose with its CloseReport.
type TCPConn struct {
	sock // lock, waiters, deadlines, timer, output (sock.go)
	core *tcp.Conn

	listener *TCPListener // passive connections until they are accepted
	linger   time.Duration
	lingerOn bool
	res      connResources // orphan and buffer accounting (orphans.go)
	softErr  error         // the last soft ICMP error (icmp_conn.go)
}

// tcpConfig is the connection configuration for a local address: one
// shared tcp.Config per address family (tcp.Config.Share), built once.
func (s *Stack) tcpConfig(local netip.Addr) *tcp.Config {
	if local.Is4() {
		return s.tcpCfg4
	}
	return s.tcpCfg6
}

// buildTCPConfig makes the connection configuration of an address family
// from the stack's options.
func (s *Stack) buildTCPConfig(v4 bool) *tcp.Config {
	o := s.tcpOpts
	hdr := 40
	peerMSS := tcp.PeerDefaultMSS4
	if !v4 {
		hdr = 60
		peerMSS = tcp.PeerDefaultMSS6
	}
	ka := o.KeepAlive
	if ka.Enable {
		ka.Idle = orDefault(ka.Idle, goKeepAliveIdle)
		ka.Interval = orDefault(ka.Interval, goKeepAliveInterval)
		if ka.Count == 0 {
			ka.Count = goKeepAliveCount
		}
	}
	return tcp.Config{
		MSS: s.mtu - hdr, PeerDefaultMSS: peerMSS,
		RecvBuffer: o.ReceiveBuffer, SendBuffer: o.SendBuffer, MaxRecvBuffer: o.MaxReceiveBuffer,
		NoWindowScaling: o.NoWindowScaling, NoSACK: o.NoSACK, NoTimestamps: o.NoTimestamps,
		NoDelay: !o.Nagle, DelayedACK: o.DelayedACK, MSL: o.MSL,
		RTOInitial: o.RTOInitial, RTOMin: o.RTOMin, RTOMax: o.RTOMax,
		SYNRetries: o.SYNRetries, Retries: o.Retries, UserTimeout: o.UserTimeout,
		FinWait2Timeout: o.FinWait2Timeout, CongestionControl: o.CongestionControl,
		MaxOrphans: o.MaxOrphans, MaxBufferMemory: o.MaxBufferMemory,
		KeepAlive: ka.Enable, KeepAliveIdle: ka.Idle, KeepAliveInterval: ka.Interval, KeepAliveCount: ka.Count,
		Profile: s.prof, RecordStates: s.onState != nil,
		GSOMaxPayload: s.gsoPayload(hdr - 20),
	}.Share()
}

// reserveConn registers c, not yet made, under tuple unless the 4-tuple
// is taken, and reports whether it did. The caller holds s.mu for reading
// (so that Close sees c), and c.mu from before the registration until
// makeConn has run: whoever finds c in the table meanwhile (a stray
// segment, Stack.Close, Stats) waits on c.mu for it, which is the
// connection's lock order (docs/ARCHITECTURE.md, "Locks"). Everything
// they read of c before its lock (c.s, c.tuple) is set here.
func (s *Stack) reserveConn(tuple fourTuple, c *TCPConn) bool {
	c.s, c.tuple = s, tuple
	return s.conns.add(tuple, c)
}

// makeConn makes the socket c for tuple around a core built by mk (which
// receives the stack's shared config). The caller holds c.mu if c is
// already registered (reserveConn).
func (s *Stack) makeConn(c *TCPConn, tuple fourTuple, mk func(cfg *tcp.Config) *tcp.Conn) {
	c.core = mk(s.tcpConfig(tuple.local.Addr()))
	c.init(s, tuple, c)
}

// DialOptions adjust DialTCPWith.
type DialOptions struct {
	// LocalPort binds the connection to this local port instead of an
	// ephemeral one; the 4-tuple must not be in use (EADDRINUSE).
	LocalPort uint16
	// ReceiveBuffer and SendBuffer, when positive, size this connection's
	// buffers from its SYN on, as SO_RCVBUF and SO_SNDBUF set before
	// connect: the SYN's window and window scale then follow
	// ReceiveBuffer (as Linux clamps them to a buffer the application
	// fixed), and the buffers keep their size instead of growing with
	// the path.
	ReceiveBuffer, SendBuffer int
	// MSS, when positive, lowers the MSS this connection announces and
	// sends (TCP_MAXSEG before connect).
	MSS int
}

// config is cfg with the options' buffers and MSS, or cfg itself.
func (o DialOptions) config(cfg *tcp.Config) *tcp.Config {
	if o.ReceiveBuffer <= 0 && o.SendBuffer <= 0 && o.MSS <= 0 {
		return cfg
	}
	own := *cfg
	if o.ReceiveBuffer > 0 {
		own.RecvBuffer, own.RecvBufferSet = o.ReceiveBuffer, true
	}
	if o.SendBuffer > 0 {
		own.SendBuffer, own.SendBufferSet = o.SendBuffer, true
	}
	if o.MSS > 0 {
		own.MSS = min(own.MSS, o.MSS)
	}
	return &own
}

// DialTCP opens a connection to remote and waits until it is established,
// refused, timed out, or ctx ends (the attempt is then abandoned).
func (s *Stack) DialTCP(ctx context.Context, remote netip.AddrPort) (*TCPConn, error) {
	return s.DialTCPWith(ctx, remote, DialOptions{})
}

// DialTCPWith is DialTCP with options.
func (s *Stack) DialTCPWith(ctx context.Context, remote netip.AddrPort, opts DialOptions) (*TCPConn, error) {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	if !remote.Addr().IsValid() || remote.Port() == 0 {
		return nil, fmt.Errorf("stack: dial %v: %w", remote, ErrAddrNotAvailable)
	}
	local, ok := s.addrFor(remote.Addr())
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrNetUnreachable}
	}
	// The keyed hashes and the connection's making stay out of s.mu, which
	// every segment of the stack reads and every dial, accept and retire
	// takes alone: the table only reserves the 4-tuple (reserveConn).
	var offset uint32
	var slot int
	if opts.LocalPort == 0 {
		offset, slot = s.portHash(local, remote)
	}
	tsOff := s.isn.TSOffset(local, remote.Addr())
	c := new(TCPConn)
	c.mu.Lock()
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return nil, ErrStackClosed
	}
	port, ok := opts.LocalPort, true
	if port == 0 {
		port, ok = s.claimPort(offset, slot, local, remote, c)
		if !ok {
			s.mu.RUnlock()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrAddrNotAvailable}
		}
	} else if !s.reserveConn(fourTuple{netip.AddrPortFrom(local, port), remote}, c) {
		s.mu.RUnlock()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrAddrInUse}
	}
	s.mu.RUnlock()
	tuple := fourTuple{netip.AddrPortFrom(local, port), remote}
	now := s.clk.Now()
	iss := s.isn.ISN(now, tuple.local, tuple.remote)
	s.makeConn(c, tuple, func(cfg *tcp.Config) *tcp.Conn {
		k := tcp.NewActive(now, opts.config(cfg), iss)
		k.SetTSOffset(tsOff)
		return k
	})
	c.mu.Unlock()

	err := c.handshake(ctx, func() (bool, error) {
		switch st := c.core.State(); {
		case st == tcp.Established || st == tcp.CloseWait:
			return true, nil
		case c.core.Err() != nil || st == tcp.Closed:
			if err := c.connError(c.core.Err()); err != nil {
				return true, err
			}
			return true, ErrNotConnected
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// netAddr is an endpoint as a *net.TCPAddr.
func (c *TCPConn) netAddr(a netip.AddrPort) net.Addr { return net.TCPAddrFromAddrPort(a) }

// Read reads received data. It blocks until data, end-of-stream (io.EOF),
// an error, or the read deadline. After the peer reset the connection it
// returns an error for which errors.Is(err, syscall.ECONNRESET) holds —
// under the linux profile only once the data queued before the RST was read.
// After Close it fails with net.ErrClosed.
func (c *TCPConn) Read(p []byte) (int, error) {
	c.lock()
	c.inRead++
	defer c.unlockFrom(&c.inRead)
	if len(p) == 0 && !c.closed {
		return 0, nil
	}
	for {
		now := c.s.clk.Now()
		if err := c.ready(&c.readDeadline, now); err != nil {
			return 0, c.opError("read", err)
		}
		n, err := c.core.Read(now, p)
		c.moved(n)
		if n > 0 || err != nil {
			c.processAt(now)
			if err != nil && n == 0 {
				if err == ioEOF {
					return 0, err
				}
				return 0, c.opError("read", c.connError(err))
			}
			return n, nil
		}
		c.waitRead()
	}
}

// Write writes p, blocking while the send buffer is full, until all of p
// is queued, an error, or the write deadline. After Close it fails with
// net.ErrClosed.
func (c *TCPConn) Write(p []byte) (int, error) {
	c.lock()
	c.inWrite++
	defer c.unlockFrom(&c.inWrite)
	written := 0
	for {
		now := c.s.clk.Now()
		if err := c.ready(&c.writeDeadline, now); err != nil {
			return written, c.opError("write", err)
		}
		n, err := c.core.Write(now, p[written:])
		written += n
		c.moved(n)
		if n > 0 {
			// A fresh reading: the segments this sends are stamped
			// with it (RACK's transmit times), and the copy into the
			// send buffer may have taken a while.
			c.process()
		}
		if err != nil {
			return written, c.opError("write", c.connError(err))
		}
		if written == len(p) {
			return written, nil
		}
		if n == 0 {
			c.wait(&c.writers, nil) //nolint:errcheck // no context
		}
	}
}

// CloseWrite shuts down the sending direction: a FIN follows the queued
// data (shutdown(SHUT_WR)).
func (c *TCPConn) CloseWrite() error {
	c.lock()
	defer c.unlock()
	err := c.core.CloseWrite(c.s.clk.Now())
	c.process()
	// A Write blocked on a full send buffer can never complete now: wake
	// it to fail with EPIPE, as Linux does (inet_shutdown wakes the
	// socket's waiters).
	c.wake(wakeWriters)
	if err != nil {
		return c.opError("shutdown", mapTCPError(err))
	}
	return nil
}

// CloseRead shuts down the receiving direction (shutdown(SHUT_RD)): under
// the linux profile reads of an empty queue return io.EOF; nothing is sent.
func (c *TCPConn) CloseRead() error {
	c.lock()
	defer c.unlock()
	c.core.CloseRead(c.s.clk.Now())
	c.process()
	return nil
}

// SetLinger sets SO_LINGER for Close: sec < 0 (the default) closes in the
// background; sec == 0 aborts the connection with RST, discarding queued
// data; sec > 0 makes Close block until sent data and the FIN are
// acknowledged or sec seconds pass.
func (c *TCPConn) SetLinger(sec int) error {
	return c.setOption(func(clock.Instant) {
		c.lingerOn = sec >= 0
		c.linger = time.Duration(max(sec, 0)) * time.Second
	})
}

// SetNoDelay turns Nagle's algorithm off (true, the default unless
// TCPOptions.Nagle) or on.
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	return c.setOption(func(clock.Instant) { c.core.SetNoDelay(noDelay) })
}

// SetKeepAlive turns keepalive probes on or off.
func (c *TCPConn) SetKeepAlive(on bool) error {
	return c.setOption(func(now clock.Instant) { c.core.SetKeepAlive(now, on) })
}

// Close closes the connection. Without linger, a FIN follows the queued
// data in the background — or, under RFC 2525 §2.17 (linux profile), an
// RST if received data is still unread. See SetLinger for the other modes.
func (c *TCPConn) Close() error {
	c.lock()
	defer c.unlock()
	if c.closed {
		return c.opError("close", netErrClosed) // as Go's second Close
	}
	c.markClosed()
	// Data that arrived before Close decides between FIN and RST (RFC
	// 2525 §2.17), also when it waited for the reader: lock ran it.
	now := c.s.clk.Now()
	if c.lingerOn && c.linger == 0 {
		c.core.Abort(now)
		c.process()
		return nil
	}
	c.core.Close(now)
	c.orphaned(now)
	c.process()
	if c.lingerOn {
		deadline := now.Add(c.linger)
		t := c.s.clk.NewTimer(func() {
			c.mu.Lock() // wakes only: the waiter runs what was deferred
			c.closing.wakeAll(c.s.sched)
			c.mu.Unlock()
		})
		t.Reset(deadline)
		defer t.Stop()
		for !c.core.AllAcked() && c.core.State() != tcp.Closed && c.core.State() != tcp.TimeWait &&
			c.s.clk.Now().Before(deadline) {
			c.wait(&c.closing, nil) //nolint:errcheck // no context
		}
	}
	// Wake anything still blocked on the socket: it is closed now.
	c.wake(wakeReaders | wakeWriters)
	return nil
}

// Stats returns the connection's counters.
func (c *TCPConn) Stats() TCPCounters {
	c.lock()
	defer c.unlock()
	return TCPCounters(c.core.Counters())
}
