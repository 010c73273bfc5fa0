package stack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/internal/dccp"
)

// DCCPOptions configure a DCCP connection (DialDCCP). Zero values mean
// the documented defaults.
type DCCPOptions struct {
	// Service is the service code of the Request (RFC 4340 §8.1.2); a
	// listener without it answers Reset (Bad Service Code).
	Service uint32
	// CCID is the congestion control this end's sender prefers: 2
	// (TCP-like, RFC 4341; the default) or 3 (TFRC, RFC 4342). The server
	// decides (§6.3.1, server priority).
	CCID int
	// LocalPort binds the connection to this port instead of an ephemeral
	// one.
	LocalPort uint16
	// SendQueueLen bounds the datagrams written but not yet sent (default
	// 5, Linux's tx_qlen); RecvQueueLen those received but not read
	// (default 64).
	SendQueueLen, RecvQueueLen int
	// QueueFullError makes Write on a full send queue fail at once with
	// ErrWouldBlock (EAGAIN, as Linux's sendmsg does even on a blocking
	// socket) instead of blocking until there is room or the deadline.
	QueueFullError bool
	// MaxPacketSize is the largest DCCP packet, header included (the MPS
	// of §14); default the link MTU less the IP header.
	MaxPacketSize int
	// MSL is the maximum segment lifetime; TIMEWAIT lasts 2 MSL (RFC 4340
	// §8.3). Default 30 s, so TIMEWAIT lasts 60 s like Linux's
	// DCCP_TIMEWAIT_LEN (the RFC's MSL is 2 minutes: a 4-minute TIMEWAIT).
	MSL time.Duration
	// RequestRetries and CloseRetries bound the Request and the
	// Close/CloseReq retransmissions (defaults 6 and 15, Linux's
	// request_retries and retries2).
	RequestRetries, CloseRetries int
	// SequenceWindow is this end's Sequence Window (§7.5.2; default 100).
	SequenceWindow uint64
}

// DCCPConn is a DCCP connection. It keeps datagram boundaries: one Write
// sends one packet, one Read returns one datagram (truncated to the
// buffer). It implements net.Conn. Close follows the seed 001 semantics
// of the stack's profile (PASSIVE_CLOSE, PASSIVE_CLOSEREQ, tie-breaker,
// abort on unread data).
type DCCPConn struct {
	sock // lock, waiters, deadlines, timer, output (sock.go)
	core *dccp.Conn

	listener       *DCCPListener // until accepted
	queueFullError bool
	pkt            dccp.Packet // the packet being encoded
	optBuf         []byte      // its options, reused
	read, written  uint64
}

// dccpConfig builds the core's configuration for a connection from local.
func (s *Stack) dccpConfig(local netip.Addr, o DCCPOptions) dccp.Config {
	mps := o.MaxPacketSize
	if mps == 0 {
		mps = s.mtu - 20
		if !local.Is4() {
			mps = s.mtu - 40
		}
	}
	return dccp.Config{
		Profile: s.prof, ServiceCode: o.Service, CCID: uint8(o.CCID),
		MSL: o.MSL, MaxPacketSize: mps, SendQueueLen: o.SendQueueLen, RecvQueueLen: o.RecvQueueLen,
		SequenceWindow: o.SequenceWindow, RequestRetries: o.RequestRetries, CloseRetries: o.CloseRetries,
		RecordStates: s.onState != nil,
	}
}

// newDCCPConn makes the socket for tuple; mk builds the core from the
// configuration, or returns nil (then so does newDCCPConn). The caller
// registers the socket.
func (s *Stack) newDCCPConn(tuple fourTuple, cfg dccp.Config, mk func(dccp.Config) *dccp.Conn) *DCCPConn {
	core := mk(cfg)
	if core == nil {
		return nil
	}
	c := &DCCPConn{core: core}
	c.init(s, tuple, c)
	return c
}

// DialDCCP opens a DCCP connection to remote and waits until the
// handshake completes (the client reaches PARTOPEN, §8.1.5, and may send),
// the server refuses it (ErrConnRefused, ErrBadServiceCode, ErrTooBusy,
// each unwrapping to its errno), the Requests time out (ErrTimedOut), or
// ctx ends (the attempt is then abandoned with a Reset).
func (s *Stack) DialDCCP(ctx context.Context, remote netip.AddrPort, opts DCCPOptions) (*DCCPConn, error) {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	fail := func(err error) error {
		return &net.OpError{Op: "dial", Net: "dccp", Addr: dccpAddr(remote), Err: err}
	}
	if !remote.Addr().IsValid() || remote.Port() == 0 {
		return nil, fail(ErrAddrNotAvailable)
	}
	if opts.CCID != 0 && opts.CCID != 2 && opts.CCID != 3 {
		return nil, fail(fmt.Errorf("CCID %d: only 2 and 3 are implemented", opts.CCID))
	}
	local, ok := s.addrFor(remote.Addr())
	if !ok {
		return nil, fail(ErrNetUnreachable)
	}
	t := &s.dccp
	t.mu.Lock()
	port := opts.LocalPort
	if port == 0 {
		if port, ok = s.pickDCCPPort(local, remote); !ok {
			t.mu.Unlock()
			return nil, fail(ErrAddrNotAvailable)
		}
	}
	tuple := fourTuple{netip.AddrPortFrom(local, port), remote}
	if _, taken := t.conns[tuple]; taken {
		t.mu.Unlock()
		return nil, fail(ErrAddrInUse)
	}
	cfg := s.dccpConfig(local, opts)
	cfg.ISS = s.dccpISS()
	now := s.clk.Now()
	c := s.newDCCPConn(tuple, cfg, func(cfg dccp.Config) *dccp.Conn { return dccp.NewClient(now, cfg) })
	c.queueFullError = opts.QueueFullError
	t.conns[tuple] = c
	t.mu.Unlock()

	err := c.handshake(ctx, func() (bool, error) {
		switch {
		case c.core.Done():
			return true, c.endError()
		case c.core.State() >= dccp.PartOpen:
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// endError says why a connection ended, for calls that cannot return
// end-of-stream (Dial, Write).
func (c *DCCPConn) endError() error {
	sum := c.core.Summary()
	switch sum.How {
	case dccp.ResetReceived:
		return &DCCPResetError{Code: DCCPResetCode(sum.Code)}
	case dccp.GaveUp:
		return ErrTimedOut
	case dccp.ResetSent:
		return ErrAborted
	}
	return ErrNotConnected
}

// DCCPAddr is the address of a DCCP endpoint (net.Addr, network "dccp").
type DCCPAddr netip.AddrPort

func dccpAddr(a netip.AddrPort) net.Addr { return DCCPAddr(a) }

// Network returns "dccp".
func (a DCCPAddr) Network() string { return "dccp" }

// String returns "ip:port".
func (a DCCPAddr) String() string { return netip.AddrPort(a).String() }

// netAddr is an endpoint as a DCCPAddr.
func (c *DCCPConn) netAddr(a netip.AddrPort) net.Addr { return dccpAddr(a) }

// MaxDatagram returns the largest datagram Write accepts now.
func (c *DCCPConn) MaxDatagram() int {
	c.lock()
	defer c.unlock()
	return c.core.MaxPayload()
}

// ServiceCode returns the connection's service code.
func (c *DCCPConn) ServiceCode() uint32 {
	c.lock()
	defer c.unlock()
	return c.core.ServiceCode()
}

// Stats returns the connection's counters.
func (c *DCCPConn) Stats() DCCPCounters {
	c.lock()
	defer c.unlock()
	return DCCPCounters(c.core.Counters())
}

// Read reads one datagram into p (the rest of a longer datagram is
// discarded, as with recv on a datagram socket). It blocks until a
// datagram arrives, the read deadline passes, or the connection ends.
// After the peer closed (Close or CloseReq) and every datagram was read it
// returns io.EOF; after a reset, the queued datagrams first (under the
// linux profile), then a DCCPResetError (ECONNRESET for Aborted). After
// Close (or Abort) it fails with net.ErrClosed.
func (c *DCCPConn) Read(p []byte) (int, error) {
	c.lock()
	c.inRead++
	defer c.unlockFrom(&c.inRead)
	for {
		now := c.s.clk.Now()
		if err := c.ready(&c.readDeadline, now); err != nil {
			return 0, c.opError("read", err)
		}
		n, err := c.core.Read(now, p)
		switch {
		case err == nil:
			c.read++
			c.process()
			return n, nil
		case err == ioEOF:
			return 0, err
		case !errors.Is(err, dccp.ErrWouldBlock):
			return 0, c.opError("read", mapDCCPError(err))
		}
		c.wait(&c.readers, nil) //nolint:errcheck // no context
	}
}

// Write sends p as one datagram. A datagram larger than MaxDatagram fails
// with a DCCPTooBigError (EMSGSIZE) naming the maximum. On a full send
// queue Write blocks until there is room or the write deadline passes —
// or, with DCCPOptions.QueueFullError, fails at once with ErrWouldBlock.
// After the peer closed it fails with ErrBrokenPipe, after Close (or
// Abort) with net.ErrClosed.
func (c *DCCPConn) Write(p []byte) (int, error) {
	c.lock()
	c.inWrite++
	defer c.unlockFrom(&c.inWrite)
	for {
		now := c.s.clk.Now()
		if err := c.ready(&c.writeDeadline, now); err != nil {
			return 0, c.opError("write", err)
		}
		err := c.core.Write(now, p)
		switch {
		case err == nil:
			c.written++
			c.process()
			return len(p), nil
		case errors.Is(err, dccp.ErrTooBig):
			return 0, c.opError("write", &DCCPTooBigError{Size: len(p), Max: c.core.MaxPayload()})
		case errors.Is(err, dccp.ErrQueueFull) && !c.queueFullError:
		case errors.Is(err, dccp.ErrClosed):
			return 0, c.opError("write", ErrBrokenPipe)
		case c.core.Done():
			return 0, c.opError("write", c.endError())
		default:
			return 0, c.opError("write", mapDCCPError(err))
		}
		c.wait(&c.writers, nil) //nolint:errcheck // no context
	}
}

// Close closes the connection without blocking, as the profile says
// (seed 001): with unread datagrams under AbortOnUnread, Reset (Aborted);
// in PASSIVE_CLOSE the Reset that confirms the peer's Close; in
// PASSIVE_CLOSEREQ the Close that answers its CloseReq; otherwise, once
// the queued datagrams are sent, Close (client, or server with
// ServerTimewait) or CloseReq (server), retransmitted until answered.
// A second Close fails with net.ErrClosed, as Go's does.
func (c *DCCPConn) Close() error {
	c.lock()
	defer c.unlock()
	if c.closed {
		return c.opError("close", netErrClosed)
	}
	c.closeLocked()
	return nil
}

func (c *DCCPConn) closeLocked() {
	if c.closed {
		return
	}
	c.markClosed()
	c.core.Close(c.s.clk.Now())
	c.process()
	c.wake(wakeReaders | wakeWriters)
}

// CloseAndWait closes the connection and waits until it ended (CLOSED or
// TIMEWAIT) or ctx ends, then returns the close report.
func (c *DCCPConn) CloseAndWait(ctx context.Context) (DCCPCloseReport, error) {
	c.lock()
	defer c.unlock()
	c.closeLocked()
	for !c.core.Done() {
		if err := c.wait(&c.closing, ctx); err != nil {
			return c.report(), err
		}
	}
	return c.report(), nil
}

// Abort resets the connection at once with Reset (Aborted), discarding
// both queues.
func (c *DCCPConn) Abort() error {
	c.abort()
	return nil
}
