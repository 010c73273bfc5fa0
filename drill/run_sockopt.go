package drill

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

func zeroFlags(a Arg) bool { return a.Kind == ArgAny || a.Kind == ArgInt && a.Int == 0 }

func symArg(a Arg) string {
	if a.Kind == ArgSym && len(a.Syms) == 1 {
		return a.Syms[0]
	}
	return a.Text
}

func (d *driver) setsockopt(s *socket, name string, v Arg) error {
	intv := func() (int64, error) { return intArg(name, v) }
	switch name {
	case "SO_REUSEADDR":
		return nil // the stack lets a listener reuse its port at once
	case "TCP_NODELAY":
		n, err := intv()
		on := n != 0
		s.nodelay = &on
		if err != nil {
			return err
		}
	case "SO_KEEPALIVE":
		n, err := intv()
		if err != nil {
			return err
		}
		on := n != 0
		s.keepalive = &on
	case "TCP_USER_TIMEOUT":
		n, err := intv()
		if err != nil {
			return err
		}
		if n < 0 {
			return syscall.EINVAL
		}
		ut := time.Duration(n) * time.Millisecond
		s.userTimeout = &ut
	case "SO_LINGER":
		l, err := lingerArg(v)
		if err != nil {
			return err
		}
		s.linger = l
	default:
		return d.setsockoptMore(s, name, v)
	}
	return d.apply(s)
}

// lingerArg reads SO_LINGER's {l_onoff=N, l_linger=S}: -1 when off,
// else the seconds.
func lingerArg(v Arg) (int, error) {
	var on, sec int64 = -1, -1
	for _, f := range v.Fields {
		switch {
		case f.Name == "l_onoff" && f.Value.Kind == ArgInt:
			on = f.Value.Int
		case f.Name == "l_linger" && f.Value.Kind == ArgInt:
			sec = f.Value.Int
		}
	}
	if v.Kind != ArgStruct || on < 0 || sec < 0 {
		return 0, errUnsupported("SO_LINGER value " + v.Text)
	}
	if on == 0 {
		return -1, nil
	}
	return int(sec), nil
}

// intArg reads a setsockopt value [N].
func intArg(name string, v Arg) (int64, error) {
	if v.Kind == ArgList && len(v.Elems) == 1 && v.Elems[0].Kind == ArgInt {
		return v.Elems[0].Int, nil
	}
	return 0, errUnsupported("setsockopt " + name + " value " + v.Text)
}

// apply sets a socket's options on its connection, once it has one.
func (d *driver) apply(s *socket) error {
	if s.conn == nil {
		return nil
	}
	if s.nodelay != nil {
		if err := s.conn.SetNoDelay(*s.nodelay); err != nil {
			return err
		}
	}
	if s.keepalive != nil {
		if err := s.conn.SetKeepAlive(*s.keepalive); err != nil {
			return err
		}
	}
	if s.userTimeout != nil {
		if err := s.conn.SetUserTimeout(*s.userTimeout); err != nil {
			return err
		}
	}
	if err := s.opts.apply(s.conn); err != nil {
		return err
	}
	return s.conn.SetLinger(s.linger)
}

// checkIntOpt compares an integer a call read with the script's [N].
func checkIntOpt(name string, got int64, v Arg) error {
	if v.Kind == ArgList && len(v.Elems) == 1 && v.Elems[0].Kind == ArgInt && v.Elems[0].Int != got {
		return fmt.Errorf("%s is %d, expected %d: %w", name, got, v.Elems[0].Int, errValueMismatch)
	}
	return nil
}

// checkSOError compares a pending SO_ERROR with the script's [N] or
// [ENAME].
func checkSOError(got syscall.Errno, v Arg) error {
	if v.Kind != ArgList || len(v.Elems) != 1 {
		return nil
	}
	e := v.Elems[0]
	switch {
	case e.Kind == ArgInt && int64(got) != e.Int,
		e.Kind == ArgSym && (got == 0 || errnoName(got) != e.Text):
		name := "0"
		if got != 0 {
			name = errnoName(got)
		}
		return fmt.Errorf("SO_ERROR is %s, expected %s: %w", name, e.Text, errValueMismatch)
	}
	return nil
}

// toErrno maps a stack error to the errno a kernel would return.
func toErrno(err error) syscall.Errno {
	var e syscall.Errno
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, net.ErrClosed):
		return syscall.EBADF
	case errors.Is(err, context.DeadlineExceeded):
		return syscall.ETIMEDOUT
	}
	return syscall.EIO
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno%d", int(e))
}

var errnoNames = map[syscall.Errno]string{
	syscall.ECONNRESET: "ECONNRESET", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EPIPE: "EPIPE",
	syscall.ETIMEDOUT: "ETIMEDOUT", syscall.ENOTCONN: "ENOTCONN", syscall.EBADF: "EBADF",
	syscall.EINVAL: "EINVAL", syscall.EAGAIN: "EAGAIN", syscall.EINPROGRESS: "EINPROGRESS",
	syscall.EALREADY: "EALREADY", syscall.EISCONN: "EISCONN", syscall.EADDRINUSE: "EADDRINUSE",
	syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL", syscall.ENETUNREACH: "ENETUNREACH", syscall.EIO: "EIO",
	syscall.ECONNABORTED: "ECONNABORTED", syscall.EHOSTUNREACH: "EHOSTUNREACH",
}
