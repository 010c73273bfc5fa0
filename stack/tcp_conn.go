package stack

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// TCPConn is a TCP connection. It implements net.Conn and adds the calls
// teardown is about: CloseWrite and CloseRead (shutdown), SetLinger,
// SetNoDelay, SetKeepAlive, and GracefulClose with its CloseReport.
type TCPConn struct {
	s     *Stack
	tuple fourTuple

	mu   sync.Mutex
	core *tcp.Conn

	timer clock.Timer
	armed clock.Instant

	// Output: segments encoded under mu, written with mu released.
	txQueue

	readers, writers, opened, acked waitq

	readDeadline, writeDeadline deadline

	listener *TCPListener // passive connections until they are accepted
	linger   time.Duration
	lingerOn bool
	closed   bool // the application called Close
	gone     bool // removed from the stack's table

	// Goroutines inside Read and Write, and the segments waiting for
	// them (tcp_defer.go); rx is nil until a segment first waits.
	inRead, inWrite int32
	rx              *deferredSegs
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
	return tcp.Config{
		MSS: s.mtu - hdr, PeerDefaultMSS: peerMSS,
		RecvBuffer: o.ReceiveBuffer, SendBuffer: o.SendBuffer,
		NoWindowScaling: o.NoWindowScaling, NoSACK: o.NoSACK, NoTimestamps: o.NoTimestamps,
		NoDelay: o.NoDelay, DelayedACK: o.DelayedACK, MSL: o.MSL,
		RTOInitial: o.RTOInitial, RTOMin: o.RTOMin, RTOMax: o.RTOMax,
		SYNRetries: o.SYNRetries, Retries: o.Retries, UserTimeout: o.UserTimeout,
		FinWait2Timeout: o.FinWait2Timeout, CongestionControl: o.CongestionControl,
		Profile: s.prof, RecordStates: s.onState != nil,
	}.Share()
}

// newConn makes the socket for tuple around a core built by mk (which
// receives the stack's shared config). The caller registers it.
func (s *Stack) newConn(tuple fourTuple, mk func(cfg *tcp.Config) *tcp.Conn) *TCPConn {
	c := &TCPConn{s: s, tuple: tuple}
	c.core = mk(s.tcpConfig(tuple.local.Addr()))
	c.timer = s.clk.NewTimer(c.onTimer)
	s.opened.Add(1)
	return c
}

// DialOptions adjust DialTCPWith.
type DialOptions struct {
	// LocalPort binds the connection to this local port instead of an
	// ephemeral one; the 4-tuple must not be in use (EADDRINUSE).
	LocalPort uint16
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, ErrStackClosed
	}
	port, ok := opts.LocalPort, true
	if port == 0 {
		port, ok = s.pickPort(local, remote)
	}
	if !ok {
		s.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrAddrNotAvailable}
	}
	tuple := fourTuple{netip.AddrPortFrom(local, port), remote}
	if _, taken := s.conns[tuple]; taken {
		s.mu.Unlock()
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(remote), Err: ErrAddrInUse}
	}
	now := s.clk.Now()
	iss := s.isn.ISN(now, tuple.local, tuple.remote)
	c := s.newConn(tuple, func(cfg *tcp.Config) *tcp.Conn { return tcp.NewActive(now, cfg, iss) })
	s.conns[tuple] = c
	s.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	c.process()
	for {
		switch st := c.core.State(); {
		case st == tcp.Established || st == tcp.CloseWait:
			return c, nil
		case c.core.Err() != nil || st == tcp.Closed:
			err := mapTCPError(c.core.Err())
			if err == nil {
				err = ErrNotConnected
			}
			return nil, c.opError("dial", err)
		}
		if err := block(&c.mu, c.opened.add(), s.sched, ctx); err != nil {
			c.core.Abort(s.clk.Now())
			c.process()
			return nil, c.opError("dial", err)
		}
	}
}

func (c *TCPConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "tcp", Source: net.TCPAddrFromAddrPort(c.tuple.local),
		Addr: net.TCPAddrFromAddrPort(c.tuple.remote), Err: err}
}

// LocalAddr returns the local address (*net.TCPAddr).
func (c *TCPConn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(c.tuple.local) }

// RemoteAddr returns the peer's address (*net.TCPAddr).
func (c *TCPConn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(c.tuple.remote) }

// LocalAddrPort and RemoteAddrPort return the endpoints as netip values.
func (c *TCPConn) LocalAddrPort() netip.AddrPort { return c.tuple.local }

// RemoteAddrPort returns the peer's address.
func (c *TCPConn) RemoteAddrPort() netip.AddrPort { return c.tuple.remote }

// State returns the connection's TCP state in the RFC's spelling
// ("ESTABLISHED", "FIN-WAIT-2", "TIME-WAIT").
func (c *TCPConn) State() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.core.State().String()
}

// Read reads received data. It blocks until data, end-of-stream (io.EOF),
// an error, or the read deadline. After the peer reset the connection it
// returns an error for which errors.Is(err, syscall.ECONNRESET) holds —
// under the linux profile only once the data queued before the RST was read.
func (c *TCPConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inRead++
	defer c.leave(&c.inRead)
	for {
		c.runDeferred()
		n, err := c.core.Read(c.s.clk.Now(), p)
		if n > 0 || err != nil {
			c.process()
			if err != nil && n == 0 {
				if err == ioEOF {
					return 0, err
				}
				return 0, c.opError("read", mapTCPError(err))
			}
			return n, nil
		}
		if c.readDeadline.expired(c.s.clk.Now()) {
			return 0, c.opError("read", errDeadline)
		}
		block(&c.mu, c.readers.add(), c.s.sched, nil) //nolint:errcheck // no context
	}
}

// Write writes p, blocking while the send buffer is full, until all of p
// is queued, an error, or the write deadline.
func (c *TCPConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	written := 0
	c.inWrite++
	defer c.leave(&c.inWrite)
	for {
		c.runDeferred()
		n, err := c.core.Write(c.s.clk.Now(), p[written:])
		written += n
		if n > 0 {
			c.process()
		}
		if err != nil {
			return written, c.opError("write", mapTCPError(err))
		}
		if written == len(p) {
			return written, nil
		}
		if c.writeDeadline.expired(c.s.clk.Now()) {
			return written, c.opError("write", errDeadline)
		}
		if n == 0 {
			block(&c.mu, c.writers.add(), c.s.sched, nil) //nolint:errcheck // no context
		}
	}
}

// CloseWrite shuts down the sending direction: a FIN follows the queued
// data (shutdown(SHUT_WR)).
func (c *TCPConn) CloseWrite() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runDeferred()
	err := c.core.CloseWrite(c.s.clk.Now())
	c.process()
	// A Write blocked on a full send buffer can never complete now: wake
	// it to fail with EPIPE, as Linux does (inet_shutdown wakes the
	// socket's waiters).
	c.writers.wakeAll(c.s.sched)
	if err != nil {
		return c.opError("shutdown", mapTCPError(err))
	}
	return nil
}

// CloseRead shuts down the receiving direction (shutdown(SHUT_RD)): under
// the linux profile reads of an empty queue return io.EOF; nothing is sent.
func (c *TCPConn) CloseRead() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.runDeferred()
	c.core.CloseRead(c.s.clk.Now())
	c.process()
	return nil
}

// SetLinger sets SO_LINGER for Close: sec < 0 (the default) closes in the
// background; sec == 0 aborts the connection with RST, discarding queued
// data; sec > 0 makes Close block until sent data and the FIN are
// acknowledged or sec seconds pass.
func (c *TCPConn) SetLinger(sec int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lingerOn = sec >= 0
	c.linger = time.Duration(max(sec, 0)) * time.Second
	return nil
}

// SetNoDelay turns Nagle's algorithm off (true) or on.
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.core.SetNoDelay(noDelay)
	c.process()
	return nil
}

// SetKeepAlive turns keepalive probes on or off.
func (c *TCPConn) SetKeepAlive(on bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.core.SetKeepAlive(c.s.clk.Now(), on)
	c.process()
	return nil
}

// Close closes the connection. Without linger, a FIN follows the queued
// data in the background — or, under RFC 2525 §2.17 (linux profile), an
// RST if received data is still unread. See SetLinger for the other modes.
func (c *TCPConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	// Data that arrived before Close decides between FIN and RST (RFC
	// 2525 §2.17), also when it still waits for the reader (tcp_defer.go).
	c.runDeferred()
	now := c.s.clk.Now()
	if c.lingerOn && c.linger == 0 {
		c.core.Abort(now)
		c.process()
		return nil
	}
	c.core.Close(now)
	c.process()
	if c.lingerOn {
		deadline := now.Add(c.linger)
		t := c.s.clk.NewTimer(func() {
			c.mu.Lock()
			c.acked.wakeAll(c.s.sched)
			c.mu.Unlock()
		})
		t.Reset(deadline)
		defer t.Stop()
		for !c.core.AllAcked() && c.core.State() != tcp.Closed && c.core.State() != tcp.TimeWait &&
			c.s.clk.Now().Before(deadline) {
			block(&c.mu, c.acked.add(), c.s.sched, nil) //nolint:errcheck // no context
		}
	}
	// Wake anything still blocked on the socket: it is closed now.
	c.readers.wakeAll(c.s.sched)
	c.writers.wakeAll(c.s.sched)
	return nil
}

// SetDeadline sets the read and write deadlines.
func (c *TCPConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline for Read; a zero t means none. A read
// blocked now is affected too. Deadlines are read on the stack's clock.
func (c *TCPConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.readDeadline.set(c.s, &c.mu, &c.readers, t)
	return nil
}

// SetWriteDeadline sets the deadline for Write; a zero t means none.
func (c *TCPConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writeDeadline.set(c.s, &c.mu, &c.writers, t)
	return nil
}

// Stats returns the connection's counters.
func (c *TCPConn) Stats() TCPCounters {
	c.mu.Lock()
	defer c.mu.Unlock()
	return TCPCounters(c.core.Counters())
}

// encode writes seg as a packet into a buffer from the free list.
func (c *TCPConn) encode(seg *tcp.Segment) {
	h := wire.TCPHeader{
		SrcPort: c.tuple.local.Port(), DstPort: c.tuple.remote.Port(),
		Seq: seg.Seq, Ack: seg.Ack, Flags: seg.Flags, Window: seg.Window, Options: seg.Options,
	}
	buf := c.take(c.s.mtu)
	n, err := wire.EncodeTCPPacket(buf.B[:c.s.mtu], c.tuple.local.Addr(), c.tuple.remote.Addr(), &h, seg.Payload)
	if err != nil {
		// The core produced a segment that does not fit the link: a bug
		// to see in the counters, not a silent loss.
		c.s.txEncodeFailed.Add(1)
		c.giveBack(buf)
		return
	}
	c.push(buf, n)
}
