package drill

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/stack"
)

// socket is a file descriptor of the script.
type socket struct {
	bound    bool
	nonblock bool
	linger   int // -1: off
	opts     sockOpts
	nodelay  *bool
	// keepalive and userTimeout are set when the script set them; an
	// accepted socket inherits the listener's, as on Linux.
	keepalive   *bool
	userTimeout *time.Duration
	ln          *stack.TCPListener
	conn        *stack.TCPConn
	soError     syscall.Errno // pending SO_ERROR
	dialing     *pending      // a non-blocking connect in progress
}

// pending is a call running on its own program goroutine.
type pending struct {
	ev      *Event
	started clock.Instant
	base    clock.Instant // the previous event's time
	mu      sync.Mutex
	done    bool
	ret     int64
	errno   syscall.Errno
	unsup   string
	fail    string // a value the call reads differs from the script's
	at      clock.Instant
}

func (p *pending) isDone() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.done }

// errUnsupported marks a call or argument the runner does not implement.
type errUnsupported string

func (e errUnsupported) Error() string { return string(e) }

// call runs a syscall line at target; base is the time its relative
// start counts from (the previous event's).
func (d *driver) call(ev *Event, target, base clock.Instant) *Result {
	if d.block != nil {
		return d.failf(ev, "a call while %s(...) of line %d still blocks", d.block.ev.Call.Name, d.block.ev.Line)
	}
	p := &pending{ev: ev, started: target, base: base}
	if ev.Call.Name == "connect" {
		d.rport = localPort // the remote host listens where a local bind would
		f := d.flow(d.rport)
		f.remoteOff, f.remoteKnown = remoteISN, true // the SYN-ACK's script ISN is 0
	}
	done := d.rec.call(target, ev.Call)
	d.be.Go(func() {
		ret, errno, err := d.syscall(ev.Call)
		if ret == -1 {
			done(d.be.Now(), ret, errnoName(errno))
		} else {
			done(d.be.Now(), ret, "")
		}
		p.mu.Lock()
		p.done, p.ret, p.errno, p.at = true, ret, errno, d.be.Now()
		var u errUnsupported
		if errors.As(err, &u) {
			p.unsup = string(u)
		} else if err != nil {
			p.fail = err.Error()
		}
		p.mu.Unlock()
		d.notify()
	})
	if ev.When.Block {
		d.block = p
		// Let it run until it blocks or returns; the next event finds
		// which.
		d.settle()
		return nil
	}
	// In real time the call may start after its target; it has the
	// tolerance from when it started.
	if !d.waitUntil(max(target, d.be.Now()).Add(d.tol), p.isDone) {
		return d.failf(ev, "%s(...) blocked; write it as start...end to expect that", ev.Call.Name)
	}
	return d.judge(p)
}

// blockEnd is when the blocking call in progress should return: as in
// packetdrill, "+a...b" ends at b after the previous event (the offset
// its start counts from too), "a...b" at b; "...+b" (ours) b after the
// call started.
func (d *driver) blockEnd() clock.Instant {
	w := d.block.ev.When
	switch {
	case w.EndRel:
		return d.block.started.Add(w.End)
	case w.Kind == TimeRel:
		return d.block.base.Add(w.End)
	}
	return d.start.Add(w.End)
}

// checkBlocked judges the blocking call in progress if it has returned.
func (d *driver) checkBlocked() *Result {
	p := d.block
	if p == nil || !p.isDone() {
		return nil
	}
	end := d.blockEnd()
	d.block = nil
	tol := d.tolerance(end.Sub(p.started))
	if p.at.Before(end.Add(-tol)) || p.at.After(end.Add(tol)) {
		r := d.failf(p.ev, "%s(...) returned at %s, expected %s", p.ev.Call.Name, d.since(p.at), d.since(end))
		return r
	}
	return d.judge(p)
}

// judge compares a returned call with its line.
func (d *driver) judge(p *pending) *Result {
	c := p.ev.Call
	if p.unsup != "" {
		return &Result{Status: Unsupported, Line: p.ev.Line, Message: p.unsup}
	}
	if p.fail != "" {
		return d.failf(p.ev, "%s: %s", c.Name, p.fail)
	}
	got := fmt.Sprint(p.ret)
	if p.ret == -1 {
		got = "-1 " + errnoName(p.errno)
	}
	switch {
	case c.RetAny:
	case p.ret != c.Ret || c.Ret == -1 && errnoName(p.errno) != c.Errno:
		r := d.failf(p.ev, "%s returned %s", c.Name, got)
		r.Actual = got
		return r
	}
	return nil
}

func (d *driver) fd(c *Call) (*socket, int, error) {
	if len(c.Args) == 0 || c.Args[0].Kind != ArgInt {
		return nil, 0, errUnsupported(c.Name + " without a file descriptor number")
	}
	n := int(c.Args[0].Int)
	s := d.fds[n]
	if s == nil {
		return nil, n, syscall.EBADF
	}
	return s, n, nil
}

func (d *driver) newFD(s *socket) int64 {
	n := 3
	for d.fds[n] != nil {
		n++
	}
	d.fds[n] = s
	return int64(n)
}

// syscall performs a call on the stack. It returns the result, or -1 and
// an errno; err is set for what cannot be run.
func (d *driver) syscall(c *Call) (int64, syscall.Errno, error) {
	ret, err := d.be.syscall(d, c)
	if err == nil {
		return ret, 0, nil
	}
	var u errUnsupported
	if errors.As(err, &u) || errors.Is(err, errValueMismatch) {
		return 0, 0, err
	}
	return -1, toErrno(err), nil
}

func (d *driver) syscall1(c *Call) (int64, error) {
	if ret, ok, err := d.dccpSyscall(c); ok { // run_dccp_call.go
		return ret, err
	}
	if c.Name == "socket" {
		if err := socketArgs(c, d.s.IPv6); err != nil {
			return 0, err
		}
		return d.newFD(&socket{linger: -1}), nil
	}
	s, n, err := d.fd(c)
	if err != nil {
		return 0, err
	}
	switch c.Name {
	case "bind":
		s.bound = true
		return 0, nil
	case "listen":
		if c.arg(1).Kind != ArgInt {
			return 0, errUnsupported("listen without a number backlog")
		}
		// Our zero backlog means the default; Linux's zero allows one.
		lo := d.listen
		lo.Backlog = max(int(c.arg(1).Int), 1)
		ln, err := d.st.ListenTCP(localPort, s.opts.listen(lo))
		if err != nil {
			return 0, err
		}
		s.ln = ln
		return 0, nil
	case "accept":
		if s.ln == nil {
			return 0, syscall.EINVAL
		}
		conn, err := acceptOn(d, s.nonblock, s.ln.SetDeadline, s.ln.AcceptTCP)
		if err != nil {
			return 0, err
		}
		ns := &socket{linger: s.linger, nodelay: s.nodelay, keepalive: s.keepalive, userTimeout: s.userTimeout, conn: conn, opts: s.opts}
		return d.newFD(ns), d.apply(ns)
	case "connect":
		return d.connect(s)
	case "write", "send":
		if c.Name == "send" && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported("send flags " + c.arg(3).Text)
		}
		return d.write(s, c.arg(2))
	case "sendmsg", "recvmsg":
		n, err := msgLen(c)
		if err != nil {
			return 0, err
		}
		if c.Name == "sendmsg" {
			return d.write(s, n)
		}
		return d.read(s, n)
	case "read", "recv":
		if c.Name == "recv" && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported("recv flags " + c.arg(3).Text)
		}
		return d.read(s, c.arg(2))
	case "close":
		delete(d.fds, n)
		switch {
		case s.conn != nil:
			return 0, s.conn.Close()
		case s.ln != nil:
			return 0, s.ln.Close()
		}
		return 0, nil
	case "shutdown":
		if s.conn == nil {
			return 0, syscall.ENOTCONN
		}
		how := symArg(c.arg(1))
		if how == "SHUT_RD" || how == "SHUT_RDWR" {
			s.conn.CloseRead()
		}
		if how == "SHUT_WR" || how == "SHUT_RDWR" {
			return 0, s.conn.CloseWrite()
		}
		if how != "SHUT_RD" {
			return 0, errUnsupported("shutdown how " + c.arg(1).Text)
		}
		return 0, nil
	case "setsockopt":
		return 0, d.setsockopt(s, symArg(c.arg(2)), c.arg(3))
	case "getsockopt":
		if symArg(c.arg(2)) != "SO_ERROR" {
			return 0, d.getsockopt(s, symArg(c.arg(2)), c.arg(3))
		}
		if err := checkSOError(s.soError, c.arg(3)); err != nil {
			return 0, err
		}
		s.soError = 0
		return 0, nil
	case "ioctl":
		return 0, d.ioctl(s, c)
	case "fcntl":
		switch symArg(c.arg(1)) {
		case "F_SETFL":
			s.nonblock = slices.Contains(c.arg(2).Syms, "O_NONBLOCK")
			return 0, nil
		case "F_GETFL": // O_RDWR, and O_NONBLOCK when set (Linux's values)
			if s.nonblock {
				return 0x2 | 0x800, nil
			}
			return 0x2, nil
		}
		return 0, errUnsupported("fcntl " + c.arg(1).Text)
	}
	return 0, errUnsupported("call " + c.Name)
}

// socketArgs accepts a TCP socket(...) of the script's family only
// (AF_INET, or AF_INET6 with --ip_version=ipv6).
func socketArgs(c *Call, v6 bool) error {
	ok := []string{"AF_INET", "PF_INET", "SOCK_STREAM", "IPPROTO_TCP"}
	if v6 {
		ok = []string{"AF_INET6", "PF_INET6", "SOCK_STREAM", "IPPROTO_TCP"}
	}
	for _, a := range c.Args {
		if a.Kind == ArgSym && !slices.Contains(ok, a.Syms[0]) {
			return errUnsupported("socket " + a.Text)
		}
	}
	return nil
}

var errValueMismatch = errors.New("value differs")

func (d *driver) connect(s *socket) (int64, error) {
	if s.conn != nil {
		return 0, syscall.EISCONN
	}
	remote := netip.AddrPortFrom(d.raddr, localPort)
	if !s.nonblock {
		conn, err := d.st.DialTCPWith(context.Background(), remote, s.opts.dial())
		if err != nil {
			return 0, err
		}
		s.conn = conn
		return 0, d.apply(s)
	}
	if s.dialing != nil {
		return 0, syscall.EALREADY
	}
	s.dialing = &pending{}
	d.be.Go(func() {
		conn, err := d.st.DialTCPWith(context.Background(), remote, s.opts.dial())
		s.dialing.mu.Lock()
		defer s.dialing.mu.Unlock()
		s.dialing.done = true
		if err != nil {
			s.soError = toErrno(err)
			return
		}
		s.conn = conn
		d.apply(s)
	})
	return 0, syscall.EINPROGRESS
}

func (d *driver) conn(s *socket) (*stack.TCPConn, error) {
	if s.dialing != nil {
		s.dialing.mu.Lock()
		defer s.dialing.mu.Unlock()
	}
	if s.conn == nil {
		return nil, syscall.ENOTCONN
	}
	return s.conn, nil
}
