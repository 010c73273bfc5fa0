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

// isDCCP says whether a socket(...) line asks for a DCCP socket
// (SOCK_DCCP, IPPROTO_DCCP): our extension, on the simulator only.
func isDCCP(c *Call) bool {
	for _, a := range c.Args {
		if a.Kind == ArgSym && (slices.Contains(a.Syms, "SOCK_DCCP") || slices.Contains(a.Syms, "IPPROTO_DCCP")) {
			return true
		}
	}
	return false
}

// dccpCall performs a call on a DCCP socket of the simulated stack:
// listen, accept, connect (blocking), write and read of one datagram of
// the given length, close. The service code is 0 both ways.
func (d *driver) dccpCall(s *socket, n int, c *Call) (int64, error) {
	switch c.Name {
	case "bind", "setsockopt":
		return 0, nil // port 8080 is the listener's; SO_REUSEADDR has no meaning
	case "listen":
		if c.arg(1).Kind != ArgInt {
			return 0, errUnsupported("listen without a number backlog")
		}
		ln, err := d.st.ListenDCCP(localPort, stack.DCCPListenOptions{Backlog: max(int(c.arg(1).Int), 1)})
		s.dln = ln
		return 0, err
	case "accept":
		if s.dln == nil {
			return 0, syscall.EINVAL
		}
		conn, err := s.dln.AcceptDCCP()
		if err != nil {
			return 0, err
		}
		return d.newFD(&socket{dccp: true, linger: -1, dconn: conn}), nil
	case "connect":
		if s.dconn != nil {
			return 0, syscall.EISCONN
		}
		conn, err := d.st.DialDCCP(context.Background(), netip.AddrPortFrom(d.raddr, localPort), stack.DCCPOptions{})
		s.dconn = conn
		return 0, err
	case "write", "send", "read", "recv":
		if s.dconn == nil {
			return 0, syscall.ENOTCONN
		}
		l := c.arg(2)
		if l.Kind != ArgInt || l.Int < 0 || l.Int > 1<<16 || (c.Name == "send" || c.Name == "recv") && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported(c.Name + " on DCCP with " + l.Text)
		}
		buf := make([]byte, l.Int)
		var r int
		var err error
		if c.Name == "write" || c.Name == "send" {
			r, err = s.dconn.Write(buf)
		} else if r, err = s.dconn.Read(buf); errors.Is(err, io.EOF) {
			err = nil
		}
		return int64(r), err
	case "close":
		delete(d.fds, n)
		switch {
		case s.dconn != nil:
			return 0, s.dconn.Close()
		case s.dln != nil:
			return 0, s.dln.Close()
		}
		return 0, nil
	}
	return 0, errUnsupported(c.Name + " on a DCCP socket")
}
