package drill

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"slices"
	"syscall"

	"github.com/teardown-lab/teardown/stack"
)

// dccpSocket is what a DCCP file descriptor holds besides socket's
// fields: the options set before listen or connect, and the stack's
// listener or connection.
type dccpSocket struct {
	service        uint32
	hasService     bool
	ccid           int
	serverTimewait bool
	ln             *stack.DCCPListener
	conn           *stack.DCCPConn
}

func init() {
	// The errnos DCCP calls return that TCP's do not (stack/dccp_errors.go).
	errnoNames[syscall.EBADRQC] = "EBADRQC"
	errnoNames[syscall.EUSERS] = "EUSERS"
	errnoNames[syscall.EPROTO] = "EPROTO"
	errnoNames[syscall.EMSGSIZE] = "EMSGSIZE"
	errnoNames[syscall.EOPNOTSUPP] = "EOPNOTSUPP"
}

// dccpSyscall performs a call on a DCCP socket, or on a socket(...) that
// asks for one; ok is false for calls it leaves to the TCP runner.
func (d *driver) dccpSyscall(c *Call) (ret int64, ok bool, err error) {
	st := d.dccpSt()
	if c.Name == "socket" {
		if !slices.ContainsFunc(c.Args, func(a Arg) bool {
			return a.Kind == ArgSym && (a.Syms[0] == "SOCK_DCCP" || a.Syms[0] == "IPPROTO_DCCP")
		}) {
			return 0, false, nil
		}
		ok := []string{"AF_INET", "PF_INET", "SOCK_DCCP", "IPPROTO_DCCP"}
		if d.s.IPv6 {
			ok = []string{"AF_INET6", "PF_INET6", "SOCK_DCCP", "IPPROTO_DCCP"}
		}
		for _, a := range c.Args {
			if a.Kind == ArgSym && !slices.Contains(ok, a.Syms[0]) {
				return 0, true, errUnsupported("socket " + a.Text)
			}
		}
		s := &socket{linger: -1}
		st.socks[s] = &dccpSocket{}
		return d.newFD(s), true, nil
	}
	if len(c.Args) == 0 || c.Args[0].Kind != ArgInt || d.fds[int(c.Args[0].Int)] == nil {
		return 0, false, nil
	}
	s := d.fds[int(c.Args[0].Int)]
	ds := st.socks[s]
	if ds == nil {
		return 0, false, nil
	}
	ret, err = d.dccpCall(c, s, ds)
	return ret, true, err
}

func (d *driver) dccpCall(c *Call, s *socket, ds *dccpSocket) (int64, error) {
	switch c.Name {
	case "bind":
		s.bound = true
		return 0, nil
	case "listen":
		if c.arg(1).Kind != ArgInt {
			return 0, errUnsupported("listen without a number backlog")
		}
		opts := stack.DCCPListenOptions{Backlog: max(int(c.arg(1).Int), 1), CCID: ds.ccid, ServerTimewait: ds.serverTimewait}
		if ds.hasService {
			opts.Services = []uint32{ds.service}
		}
		ln, err := d.st.ListenDCCP(localPort, opts)
		if err != nil {
			return 0, err
		}
		ds.ln = ln
		return 0, nil
	case "accept":
		if ds.ln == nil {
			return 0, syscall.EINVAL
		}
		conn, err := acceptOn(d, s.nonblock, ds.ln.SetDeadline, ds.ln.AcceptDCCP)
		if err != nil {
			return 0, err
		}
		ns := &socket{linger: -1}
		d.dccpSt().socks[ns] = &dccpSocket{conn: conn}
		return d.newFD(ns), nil
	case "connect":
		if ds.conn != nil {
			return 0, syscall.EISCONN
		}
		if s.nonblock {
			return 0, errUnsupported("a non-blocking DCCP connect")
		}
		conn, err := d.st.DialDCCP(context.Background(), netip.AddrPortFrom(d.raddr, localPort),
			stack.DCCPOptions{Service: ds.service, CCID: ds.ccid})
		if err != nil {
			return 0, err
		}
		ds.conn = conn
		return 0, nil
	case "write", "send":
		if c.Name == "send" && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported("send flags " + c.arg(3).Text)
		}
		n := c.arg(2)
		if ds.conn == nil {
			return 0, syscall.ENOTCONN
		}
		if n.Kind != ArgInt || n.Int < 0 || n.Int > 1<<16 {
			return 0, errUnsupported("write length " + n.Text)
		}
		return dccpWritten(ds.conn.Write(make([]byte, n.Int)))
	case "read", "recv":
		if c.Name == "recv" && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported("recv flags " + c.arg(3).Text)
		}
		return d.dccpRead(s, ds, c.arg(2))
	case "close":
		delete(d.fds, int(c.Args[0].Int))
		switch {
		case ds.conn != nil:
			return 0, ds.conn.Close()
		case ds.ln != nil:
			return 0, ds.ln.Close()
		}
		return 0, nil
	case "shutdown":
		// DCCP has no half-close, and Linux's dccp_shutdown sends
		// nothing: the call succeeds on a connected socket, and the
		// wire stays silent.
		if ds.conn == nil {
			return 0, syscall.ENOTCONN
		}
		return 0, nil
	case "setsockopt":
		return 0, d.dccpSetsockopt(ds, symArg(c.arg(2)), c.arg(3))
	case "fcntl":
		if symArg(c.arg(1)) != "F_SETFL" {
			return 0, errUnsupported("fcntl " + c.arg(1).Text)
		}
		s.nonblock = slices.Contains(c.arg(2).Syms, "O_NONBLOCK")
		return 0, nil
	}
	return 0, errUnsupported("call " + c.Name + " on a DCCP socket")
}

func dccpWritten(n int, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return int64(n), nil
}

// dccpRead reads one datagram, as recv on a DCCP socket: its length (cut
// to the buffer), 0 at the end.
func (d *driver) dccpRead(s *socket, ds *dccpSocket, n Arg) (int64, error) {
	if ds.conn == nil {
		return 0, syscall.ENOTCONN
	}
	if n.Kind != ArgInt || n.Int < 0 || n.Int > 1<<16 {
		return 0, errUnsupported("read length " + n.Text)
	}
	buf := make([]byte, n.Int)
	read := func() (int64, error) {
		r, err := ds.conn.Read(buf)
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		return int64(r), err
	}
	if s.nonblock {
		return d.nonblocking(ds.conn.SetReadDeadline, read)
	}
	return read()
}

// dccpSetsockopt sets the options of Linux's DCCP sockets that the
// stack has (include/uapi/linux/dccp.h names them).
func (d *driver) dccpSetsockopt(ds *dccpSocket, name string, v Arg) error {
	switch name {
	case "SO_REUSEADDR":
		return nil
	case "DCCP_SOCKOPT_SERVICE":
		n, err := intArg(name, v)
		if err != nil {
			return err
		}
		ds.service, ds.hasService = uint32(n), true
	case "DCCP_SOCKOPT_CCID":
		n, err := intArg(name, v)
		if err != nil {
			return err
		}
		if n != 2 && n != 3 {
			return syscall.EINVAL
		}
		ds.ccid = int(n)
	case "DCCP_SOCKOPT_SERVER_TIMEWAIT":
		// The stack takes it as a listener's option: set it before
		// listen. (Linux refuses it there, and takes it on the accepted
		// socket: docs/dccp.md.)
		n, err := intArg(name, v)
		if err != nil {
			return err
		}
		if ds.ln != nil || ds.conn != nil {
			return errUnsupported("DCCP_SOCKOPT_SERVER_TIMEWAIT after listen or connect")
		}
		ds.serverTimewait = n != 0
	default:
		return errUnsupported("DCCP socket option " + name)
	}
	return nil
}
