package drill

import (
	"syscall"

	"github.com/teardown-lab/teardown/stack"
)

// sockOpts are the buffer and segment options of a socket: set before
// connect or listen they shape the SYN (stack.DialOptions and
// ListenOptions), later they apply to the connection; an accepted socket
// inherits the listener's, as on Linux.
type sockOpts struct {
	rcvbuf, sndbuf, maxseg int // 0: not set
	cork, inq              bool
}

// setsockoptMore sets SO_RCVBUF, SO_SNDBUF, TCP_MAXSEG, TCP_CORK and
// TCP_INQ.
func (d *driver) setsockoptMore(s *socket, name string, v Arg) error {
	n, err := intArg(name, v)
	if err != nil {
		return err
	}
	if n < 0 {
		return syscall.EINVAL
	}
	o := &s.opts
	switch name {
	case "SO_RCVBUF":
		o.rcvbuf = int(n)
	case "SO_SNDBUF":
		o.sndbuf = int(n)
	case "TCP_MAXSEG":
		if s.conn != nil {
			return nil // Linux takes it, and the connection's MSS stays
		}
		o.maxseg = int(n)
	case "TCP_CORK":
		o.cork = n != 0
	case "TCP_INQ":
		o.inq = n != 0
	default:
		return errUnsupported("socket option " + name)
	}
	return d.apply(s)
}

// dial is the options a connect of s starts with.
func (o sockOpts) dial() stack.DialOptions {
	return stack.DialOptions{ReceiveBuffer: o.rcvbuf, SendBuffer: o.sndbuf, MSS: o.maxseg}
}

// listen is the options a listen of s starts with, backlog aside.
func (o sockOpts) listen(lo stack.ListenOptions) stack.ListenOptions {
	lo.ReceiveBuffer, lo.SendBuffer, lo.MSS = o.rcvbuf, o.sndbuf, o.maxseg
	return lo
}

// apply sets the options on a connection made.
func (o sockOpts) apply(c *stack.TCPConn) error {
	if o.rcvbuf > 0 {
		if err := c.SetReadBuffer(o.rcvbuf); err != nil {
			return err
		}
	}
	if o.sndbuf > 0 {
		if err := c.SetWriteBuffer(o.sndbuf); err != nil {
			return err
		}
	}
	return c.SetCork(o.cork)
}

// getsockopt reads an option other than SO_ERROR, as Linux reports it,
// and compares it with the script's [N].
func (d *driver) getsockopt(s *socket, name string, v Arg) error {
	var got int64
	o := s.opts
	switch name {
	case "SO_RCVBUF", "SO_SNDBUF":
		n := o.rcvbuf
		if name == "SO_SNDBUF" {
			n = o.sndbuf
		}
		if n == 0 {
			// Linux reports its autotuned size; ours is another.
			return errUnsupported("getsockopt " + name + " of a buffer the script did not set")
		}
		got = 2 * int64(n) // Linux doubles the value set, for its bookkeeping
	case "TCP_MAXSEG":
		switch {
		case s.conn != nil:
			got = int64(s.conn.Info().MSS)
		case o.maxseg > 0:
			got = int64(o.maxseg)
		default:
			got = 536 // Linux, before a connection: the default MSS
		}
	case "TCP_CORK":
		got = b2i(o.cork)
	case "TCP_INQ":
		got = b2i(o.inq)
	case "TCP_USER_TIMEOUT":
		if s.userTimeout != nil {
			got = s.userTimeout.Milliseconds()
		}
	case "TCP_NODELAY":
		got = b2i(s.nodelay != nil && *s.nodelay)
	case "SO_KEEPALIVE":
		got = b2i(s.keepalive != nil && *s.keepalive)
	default:
		return errUnsupported("getsockopt " + name)
	}
	return checkIntOpt(name, got, v)
}

// ioctl answers SIOCINQ (FIONREAD): the bytes waiting to be read.
func (d *driver) ioctl(s *socket, c *Call) error {
	if symArg(c.arg(1)) != "SIOCINQ" && symArg(c.arg(1)) != "FIONREAD" {
		return errUnsupported("ioctl " + c.arg(1).Text)
	}
	if s.conn == nil {
		return syscall.EINVAL
	}
	return checkIntOpt("SIOCINQ", int64(s.conn.Info().Unread), c.arg(2))
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
