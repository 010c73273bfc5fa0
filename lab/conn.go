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
	l, err := h.st.ListenTCP(port, stack.ListenOptions{Backlog: backlog})
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

// Conn is a recorded TCP socket: every call is drawn with its result.
type Conn struct {
	h *Host
	c *stack.TCPConn
}

// TCP returns the underlying connection, for calls the lab does not record.
func (c *Conn) TCP() *stack.TCPConn { return c.c }

// Send writes data (send()).
func (c *Conn) Send(data string) error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallSend, "", data)
	n, err := c.c.Write([]byte(data))
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
func (c *Conn) Recv(n int) (string, error) {
	call, t := c.h.rec.begin(c.h.Name, trace.CallRecv, strconv.Itoa(n), "")
	buf := make([]byte, n)
	m, err := c.c.Read(buf)
	res, detail := classify(err)
	if m > 0 {
		res, detail = trace.ResultData, string(buf[:m])
	}
	c.h.rec.end(call, t, res, m, detail)
	return string(buf[:m]), err
}

// RecvTimeout is Recv with a read deadline d from now.
func (c *Conn) RecvTimeout(n int, d time.Duration) (string, error) {
	c.c.SetReadDeadline(c.h.st.Clock().Now().Add(d).Time())
	defer c.c.SetReadDeadline(time.Time{})
	return c.Recv(n)
}

// Shutdown shuts down the sending direction (shutdown(SHUT_WR)): a FIN
// follows the queued data.
func (c *Conn) Shutdown() error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallShutdown, "write", "")
	err := c.c.CloseWrite()
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// Close closes the socket (close()).
func (c *Conn) Close() error {
	call, t := c.h.rec.begin(c.h.Name, trace.CallClose, "", "")
	err := c.c.Close()
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// Abort closes with SO_LINGER set to zero: RST, queued data discarded.
func (c *Conn) Abort() error {
	c.c.SetLinger(0)
	call, t := c.h.rec.begin(c.h.Name, trace.CallClose, "linger=0", "")
	err := c.c.Close()
	res, detail := classify(err)
	c.h.rec.end(call, t, res, 0, detail)
	return err
}

// GracefulClose closes and waits until the peer acknowledged everything
// and closed its side too (stack.TCPConn.GracefulClose), within d.
func (c *Conn) GracefulClose(d time.Duration) (stack.CloseReport, error) {
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
		return trace.ResultReset, syscall.ECONNRESET.Error()
	case errors.Is(err, syscall.ECONNREFUSED):
		return trace.ResultRefused, syscall.ECONNREFUSED.Error()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.Canceled):
		return trace.ResultTimeout, "i/o timeout"
	case errors.Is(err, syscall.ETIMEDOUT):
		return trace.ResultTimeout, syscall.ETIMEDOUT.Error()
	case errors.As(err, &errno):
		return trace.ResultError, errno.Error()
	}
	return trace.ResultError, err.Error()
}
