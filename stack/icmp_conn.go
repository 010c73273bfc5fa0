package stack

import (
	"errors"
	"sync/atomic"
	"syscall"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
)

// The TCP connection's side of ICMP (icmp.go matches the message to it).

// pathMTU hands the core the segment size a path MTU allows (the MTU less
// the IP and TCP fixed headers) and reports whether the send MSS went
// down, and whether the quoted segment was in flight.
func (c *TCPConn) pathMTU(mtu int, v6 bool, quoted seqnum.V32) (lowered, inFlight bool) {
	hdr := 40
	if v6 {
		hdr = 60
	}
	c.lock()
	defer c.unlock()
	if !c.core.InFlight(quoted) {
		return false, false
	}
	if c.core.HandlePathMTU(c.s.clk.Now(), mtu-hdr, quoted) {
		c.process()
		return true, true
	}
	return false, true
}

// hardError ends a connect the network refused (tcp.Conn.HandleHardError);
// in any other state the error is kept as a soft one. A connect it ends
// is counted in counted before the dialer is woken, so that the stack's
// counters already hold it when Dial returns.
func (c *TCPConn) hardError(errno syscall.Errno, quoted seqnum.V32, counted *atomic.Uint64) bool {
	c.lock()
	defer c.unlock()
	if c.core.HandleHardError(c.s.clk.Now(), errnoError(errno), quoted) {
		counted.Add(1)
		c.process()
		return true
	}
	if !c.core.InFlight(quoted) {
		return false
	}
	counted.Add(1)
	c.softErr = errnoError(errno)
	return true
}

// softError remembers a soft error for a segment in flight: if the
// connection then times out, the error reported is this one rather than
// ETIMEDOUT (RFC 1122 §4.2.3.9; Linux's sk_err_soft).
func (c *TCPConn) softError(errno syscall.Errno, quoted seqnum.V32) bool {
	c.lock()
	defer c.unlock()
	if !c.core.InFlight(quoted) {
		return false
	}
	c.softErr = errnoError(errno)
	return true
}

// errnoError is the stack's error for errno.
func errnoError(errno syscall.Errno) error {
	switch errno {
	case syscall.ECONNREFUSED:
		return ErrConnRefused
	case syscall.ENETUNREACH:
		return ErrNetUnreachable
	}
	return &sysError{errno.Error(), errno}
}

// connError is the error a call on c reports for the core's err: the
// stack's (mapTCPError), but a timeout after a soft ICMP error reports
// that error instead, as Linux does. Called with the connection locked.
func (c *TCPConn) connError(err error) error {
	if c.softErr != nil && errors.Is(err, tcp.ErrTimeout) {
		return c.softErr
	}
	return mapTCPError(err)
}
