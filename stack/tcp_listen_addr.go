package stack

import (
	"net"
	"net/netip"
)

// Binding a listener to one address (ListenOptions.Addr). The stack keeps
// one TCP listener per port, whatever its address: two listeners on the
// same port and different addresses, which a kernel allows, give
// ErrAddrInUse here. What the binding changes is which SYNs the listener
// sees and the address it reports.

// ListenTCPAddr listens on ap: ap's address as ListenOptions.Addr (it
// overrides opts.Addr), its port as ListenTCP's (0 picks one).
func (s *Stack) ListenTCPAddr(ap netip.AddrPort, opts ListenOptions) (*TCPListener, error) {
	opts.Addr = ap.Addr()
	return s.ListenTCP(ap.Port(), opts)
}

// checkBind checks that a listener's address is the unspecified one of
// a family or one of the stack's.
func (s *Stack) checkBind(a netip.Addr, port uint16) error {
	a = a.Unmap()
	if !a.IsValid() || a.IsUnspecified() || s.hasAddr(a) {
		return nil
	}
	return &net.OpError{Op: "listen", Net: "tcp", Addr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(a, port)), Err: ErrAddrNotAvailable}
}

// accepts reports whether a SYN to local address a is the listener's.
func (l *TCPListener) accepts(a netip.Addr) bool {
	switch {
	case !l.bind.IsValid():
		return true
	case l.bind.IsUnspecified():
		return l.bind.Is4() == a.Is4()
	}
	return l.bind == a
}

// listenerFor returns the listener a segment to local belongs to, or nil;
// s.mu held.
func (s *Stack) listenerFor(local netip.AddrPort) *TCPListener {
	l := s.listeners[local.Port()]
	if l == nil || !l.accepts(local.Addr().Unmap()) {
		return nil
	}
	return l
}

// AddrPort returns the address the listener is bound to and its port: the
// address ListenOptions.Addr named (the unspecified one for a family), or
// the stack's first address for a listener on every address.
func (l *TCPListener) AddrPort() netip.AddrPort {
	if l.bind.IsValid() {
		return netip.AddrPortFrom(l.bind, l.port)
	}
	return netip.AddrPortFrom(l.s.addrs[0], l.port)
}

// Addr returns AddrPort as a *net.TCPAddr (net.Listener).
func (l *TCPListener) Addr() net.Addr { return net.TCPAddrFromAddrPort(l.AddrPort()) }
