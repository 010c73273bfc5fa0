package stack

import (
	"cmp"
	"maps"
	"net/netip"
	"slices"
)

// SocketInfo is one socket of a stack, as one line of netstat shows it.
type SocketInfo struct {
	// Proto is "tcp" or "dccp".
	Proto string
	// Local is the socket's address; a listener's is the stack's first
	// address and its port (it accepts on every address). Remote is the
	// peer's, the zero AddrPort for a listener.
	Local, Remote netip.AddrPort
	// State is the protocol state in the RFC's spelling ("ESTABLISHED",
	// "TIME-WAIT", "PASSIVE_CLOSEREQ"); "LISTEN" for a listener.
	State string
	// SendQueue is what the application wrote that the peer has not
	// acknowledged, sent or not, in bytes (TCP; netstat's Send-Q).
	SendQueue int
	// RecvQueue is what arrived and the application has not read: bytes
	// for TCP (netstat's Recv-Q), datagrams for DCCP. For a listener it is
	// the connections waiting for Accept.
	RecvQueue int
	// SYNQueue is a TCP listener's half-open connections; zero for
	// connections.
	SYNQueue int
}

// Sockets lists every connection (TIME-WAIT included) and listener of the
// stack, TCP then DCCP, listeners first, each group in address order, so
// that two calls on the same state give the same list. It is a snapshot:
// each socket is read under its own lock, one after the other.
func (s *Stack) Sockets() []SocketInfo {
	s.mu.Lock()
	ls, cs := slices.Collect(maps.Values(s.listeners)), s.conns.all()
	s.mu.Unlock()
	var out []SocketInfo
	for _, l := range ls {
		st := l.Stats()
		out = append(out, SocketInfo{Proto: "tcp", Local: l.AddrPort(),
			State: "LISTEN", RecvQueue: st.AcceptQueue, SYNQueue: st.SYNQueue})
	}
	for _, c := range cs {
		c.mu.Lock()
		out = append(out, SocketInfo{Proto: "tcp", Local: c.tuple.local, Remote: c.tuple.remote,
			State: c.core.State().String(), SendQueue: c.core.Unacked(), RecvQueue: c.core.Readable()})
		c.mu.Unlock()
	}
	t := &s.dccp
	t.mu.Lock()
	dls, dcs := slices.Collect(maps.Values(t.listeners)), slices.Collect(maps.Values(t.conns))
	t.mu.Unlock()
	for _, l := range dls {
		l.mu.Lock()
		out = append(out, SocketInfo{Proto: "dccp", Local: netip.AddrPortFrom(s.addrs[0], l.port),
			State: "LISTEN", RecvQueue: len(l.acceptQ)})
		l.mu.Unlock()
	}
	for _, c := range dcs {
		c.mu.Lock()
		out = append(out, SocketInfo{Proto: "dccp", Local: c.tuple.local, Remote: c.tuple.remote,
			State: c.core.State().String(), RecvQueue: c.core.Queued()})
		c.mu.Unlock()
	}
	slices.SortStableFunc(out, func(a, b SocketInfo) int {
		return cmp.Or(cmp.Compare(a.Proto, b.Proto)*-1, // tcp before dccp
			boolOrder(a.State != "LISTEN", b.State != "LISTEN"),
			a.Local.Compare(b.Local), a.Remote.Compare(b.Remote))
	})
	return out
}

// boolOrder orders false before true.
func boolOrder(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}
