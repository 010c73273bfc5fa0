package lab

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/stack"
)

// Host is one host of a run as its applications see it: a stack whose
// socket calls are recorded.
type Host struct {
	// Name is the host's name in the diagram.
	Name string
	// Addr is the host's address.
	Addr  netip.Addr
	st    *stack.Stack
	rec   *recorder
	sleep func(time.Duration)
}

// Sleep pauses the calling application for d (simulated time in a lab
// run, wall-clock time against real peers).
func (h *Host) Sleep(d time.Duration) { h.sleep(d) }

// Stack returns the host's stack, for calls the lab does not record.
func (h *Host) Stack() *stack.Stack { return h.st }

// Listener is a recorded listening socket.
type Listener struct {
	h *Host
	l *stack.TCPListener
}

// Listen opens a listening socket on port. Listening is set up before a
// scenario starts and is not drawn.
func (h *Host) Listen(port uint16, backlog int) (*Listener, error) {
	return h.ListenWith(port, stack.ListenOptions{Backlog: backlog})
}

// ListenWith is Listen with every listener option (backlog,
// abort-on-overflow, SYN cookies).
func (h *Host) ListenWith(port uint16, opts stack.ListenOptions) (*Listener, error) {
	l, err := h.st.ListenTCP(port, opts)
	if err != nil {
		return nil, err
	}
	return &Listener{h: h, l: l}, nil
}

// Accept waits for a connection; it returns nil if accept failed (the
// failure is recorded).
func (l *Listener) Accept() *Conn {
	c, t := l.h.rec.begin(l.h.Name, trace.CallAccept, "", "")
	tc, err := l.l.AcceptTCP()
	res, detail := classify(err)
	l.h.rec.end(c, t, res, 0, detail)
	if err != nil {
		return nil
	}
	return &Conn{h: l.h, c: tc}
}

// Close closes the listener (not drawn).
func (l *Listener) Close() { l.l.Close() }

// Dial connects to addr; it returns nil if connect failed (the failure is
// recorded).
func (h *Host) Dial(addr netip.AddrPort) *Conn {
	c, t := h.rec.begin(h.Name, trace.CallConnect, "", "")
	tc, err := h.st.DialTCP(context.Background(), addr)
	res, detail := classify(err)
	h.rec.end(c, t, res, 0, detail)
	if err != nil {
		return nil
	}
	return &Conn{h: h, c: tc}
}

// DCCPListener is a recorded listening DCCP socket.
type DCCPListener struct {
	h *Host
	l *stack.DCCPListener
}

// ListenDCCP opens a listening DCCP socket on port (not drawn).
func (h *Host) ListenDCCP(port uint16, opts stack.DCCPListenOptions) (*DCCPListener, error) {
	l, err := h.st.ListenDCCP(port, opts)
	if err != nil {
		return nil, err
	}
	return &DCCPListener{h: h, l: l}, nil
}

// Accept waits for a DCCP connection; nil if accept failed (recorded).
func (l *DCCPListener) Accept() *Conn {
	c, t := l.h.rec.begin(l.h.Name, trace.CallAccept, "", "")
	dc, err := l.l.AcceptDCCP()
	res, detail := classify(err)
	l.h.rec.end(c, t, res, 0, detail)
	if err != nil {
		return nil
	}
	return &Conn{h: l.h, d: dc}
}

// DialDCCP connects with DCCP; nil if connect failed (recorded).
func (h *Host) DialDCCP(addr netip.AddrPort, opts stack.DCCPOptions) *Conn {
	c, t := h.rec.begin(h.Name, trace.CallConnect, "", "")
	dc, err := h.st.DialDCCP(context.Background(), addr, opts)
	res, detail := classify(err)
	h.rec.end(c, t, res, 0, detail)
	if err != nil {
		return nil
	}
	return &Conn{h: h, d: dc}
}

// Conn is a recorded TCP or DCCP socket: every call is drawn with its
// result. The TCP-only calls (Shutdown, GracefulClose) are errors on DCCP.
type Conn struct {
	h *Host
	c *stack.TCPConn
	d *stack.DCCPConn
	// idle, if nonzero, bounds how long one recv or send may wait (live
	// runs: LiveConfig.IdleTimeout); idled records that it ran out.
	idle  time.Duration
	idled bool
}

// sock is what TCP and DCCP connections share.
type sock interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
	RemoteAddrPort() netip.AddrPort
}

func (c *Conn) sock() sock {
	if c.d != nil {
		return c.d
	}
	return c.c
}

// errNotTCP is returned by TCP-only calls on a DCCP connection.
var errNotTCP = errors.New("lab: not a TCP connection")

// TCP returns the underlying connection, for calls the lab does not record.
func (c *Conn) TCP() *stack.TCPConn { return c.c }

// Send writes data (send()).
func (c *Conn) Send(data string) error {
	if c.idle > 0 {
		// Cleared after: an armed timer would keep the connection in
		// memory for the idle timeout after it ended.
		c.sock().SetWriteDeadline(c.h.st.Clock().Now().Add(c.idle).Time())
		defer c.sock().SetWriteDeadline(time.Time{})
	}
	call, t := c.h.rec.begin(c.h.Name, trace.CallSend, "", data)
	n, err := c.sock().Write([]byte(data))
	if c.idle > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
		c.idledOut()
	}
	res, detail := classify(err)
	if err != nil && n > 0 {
		res = trace.ResultError
	}
	if err == nil {
		detail = data
	}
	c.h.rec.end(call, t, res, n, detail)
	return err
}

// Recv reads at most n bytes (recv(n)). It returns io.EOF at the end of
// the peer's stream.
func (c *Conn) Recv(n int) (string, error) { return c.recv(n, 0) }

// recv is Recv waiting at most d (0: no limit) or the idle timeout,
// whichever is shorter.
func (c *Conn) recv(n int, d time.Duration) (string, error) {
	limit := d
	if c.idle > 0 && (limit == 0 || c.idle < limit) {
		limit = c.idle
	}
	if limit > 0 {
		c.sock().SetReadDeadline(c.h.st.Clock().Now().Add(limit).Time())
		defer c.sock().SetReadDeadline(time.Time{})
	}
	call, t := c.h.rec.begin(c.h.Name, trace.CallRecv, strconv.Itoa(n), "")
	buf := make([]byte, n)
	m, err := c.sock().Read(buf)
	if c.idle > 0 && limit == c.idle && errors.Is(err, os.ErrDeadlineExceeded) {
		c.idledOut()
	}
	res, detail := classify(err)
	if m > 0 {
		res, detail = trace.ResultData, string(buf[:m])
	}
	c.h.rec.end(call, t, res, m, detail)
	return string(buf[:m]), err
}

// RecvTimeout is Recv with a read deadline d from now.
func (c *Conn) RecvTimeout(n int, d time.Duration) (string, error) { return c.recv(n, d) }

// idledOut marks a connection whose recv or send waited the whole idle
// timeout: the peer went silent, stopped reading or stopped acknowledging.
// Its close then resets it (SO_LINGER 0), so that such a peer cannot keep
// the connection's buffers once the application gave up on it.
func (c *Conn) idledOut() {
	c.idled = true
	if c.c != nil {
		c.c.SetLinger(0)
	}
}

// Shutdown shuts down the sending direction (shutdown(SHUT_WR)): a FIN
// follows the queued data.
func (c *Conn) Shutdown() error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallShutdown, "write", "")
	err := errNotTCP
	if c.c != nil {
		err = c.c.CloseWrite()
	}
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// Close closes the socket (close()).
func (c *Conn) Close() error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallClose, "", "")
	err := c.sock().Close()
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// Abort closes with SO_LINGER set to zero: RST, queued data discarded.
func (c *Conn) Abort() error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallClose, "linger=0", "")
	var err error
	if c.d != nil {
		err = c.d.Abort()
	} else {
		c.c.SetLinger(0)
		err = c.c.Close()
	}
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// Vanish makes the socket disappear without a trace, as a process killed
// with its host's memory of the connection (stack.TCPConn.Vanish): nothing
// is sent, and the host answers later segments with RST. It is drawn as a
// note, since no socket call does this.
func (c *Conn) Vanish() {
	c.h.rec.note(c.h.Name, "socket vanishes")
	if c.c != nil {
		c.c.Vanish()
	}
}

// isEOF reports whether err is the end of the peer's stream.
func isEOF(err error) bool { return errors.Is(err, io.EOF) }

// GracefulClose closes and waits until the peer acknowledged everything
// and closed its side too (stack.TCPConn.GracefulClose), within d.
func (c *Conn) GracefulClose(d time.Duration) (stack.CloseReport, error) {
	if c.c == nil {
		return stack.CloseReport{}, errNotTCP
	}
	call, t := c.h.rec.begin(c.h.Name, trace.CallGracefulClose, "", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tm := c.h.st.Clock().NewTimer(cancel)
	tm.Reset(c.h.st.Clock().Now().Add(d))
	defer tm.Stop()
	rep, err := c.c.GracefulClose(ctx)
	res, detail := classify(err)
	if err == nil {
		detail = rep.String()
	}
	c.h.rec.end(call, t, res, 0, detail)
	return rep, err
}

// classify maps a socket error to the JSON contract's result and a short
// text (the errno's words, not the whole wrapped message).
func classify(err error) (trace.Result, string) {
	var errno syscall.Errno
	switch {
	case err == nil:
		return trace.ResultOK, ""
	case errors.Is(err, io.EOF):
		return trace.ResultEOF, ""
	case errors.Is(err, syscall.ECONNRESET):
		return trace.ResultReset, errnoText(syscall.ECONNRESET)
	case errors.Is(err, syscall.ECONNREFUSED):
		return trace.ResultRefused, errnoText(syscall.ECONNREFUSED)
	case errors.Is(err, syscall.EUSERS):
		// A DCCP Reset code 9 (Too Busy, RFC 4340 §5.6) answering a
		// Request: the peer refused the connection; Linux's errno for it
		// is EUSERS, kept in the detail.
		return trace.ResultRefused, errnoText(syscall.EUSERS) + " (Reset: Too Busy)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.Canceled):
		return trace.ResultTimeout, "i/o timeout"
	case errors.Is(err, syscall.ETIMEDOUT):
		return trace.ResultTimeout, errnoText(syscall.ETIMEDOUT)
	case errors.As(err, &errno):
		return trace.ResultError, errnoText(errno)
	}
	return trace.ResultError, err.Error()
}
