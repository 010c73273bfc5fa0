package udp

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
)

// RFC 6773 §3.8 names a DCCP-UDP connection by its 6-tuple: both IP
// addresses, both UDP ports and both DCCP ports. The stack behind this
// endpoint sees only the DCCP 4-tuple (the IP addresses are the outer
// ones, the UDP ports are gone), so two clients behind one NAPT that
// happen to pick the same DCCP source port would reach the same DCCP
// connection. Of the two methods §3.8 allows, this endpoint follows the
// second (several DCCP connections may share a UDP 4-tuple, each 6-tuple
// is one connection): it binds each DCCP 4-tuple to the UDP address and
// port of the peer while the connection is active, and drops, uncounted
// by the stack, a packet of that DCCP 4-tuple from another UDP source
// (counted in Stats.PortReuse; the Reset with code 12, Encapsulated Port
// Reuse, is a MAY there and is not sent). A binding ends when a DCCP-Reset
// of the connection passes either way (every DCCP connection ends with
// one, RFC 4340 §8.3).

// flowKey is a DCCP 4-tuple as this endpoint sees it.
type flowKey struct {
	peer                netip.Addr
	peerPort, localPort uint16
}

// bindOutgoing records the UDP endpoint a packet d to peer is sent to and
// returns where to send it: the bound UDP endpoint if the connection has
// one (replies go where the peer's datagrams come from, §3.8: a server
// accepts any UDP source port, which a NAT may have rewritten), else def.
// e.mu is held.
func (e *Endpoint) bindOutgoing(peer netip.Addr, d wire.DCCP, def netip.AddrPort) netip.AddrPort {
	k := flowKey{peer, d.DstPort(), d.SrcPort()}
	to, ok := e.flows[k]
	if !ok {
		to = def
	}
	if d.Type() == wire.DCCPReset {
		delete(e.flows, k)
	} else if !ok {
		e.flows[k] = to
	}
	return to
}

// admitIncoming reports whether packet d from the UDP endpoint from may
// reach the stack, binding its DCCP 4-tuple to from if it has no binding.
// e.mu is held.
func (e *Endpoint) admitIncoming(from netip.AddrPort, d wire.DCCP) bool {
	k := flowKey{from.Addr(), d.SrcPort(), d.DstPort()}
	bound, ok := e.flows[k]
	switch {
	case ok && bound != from:
		return false
	case d.Type() == wire.DCCPReset:
		delete(e.flows, k)
	case !ok:
		e.flows[k] = from
	}
	return true
}
