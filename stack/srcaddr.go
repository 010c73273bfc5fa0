package stack

import "net/netip"

// Source address validation. RFC 1122 §3.2.1.3: a host MUST silently
// discard a datagram whose source address no host may send from, and
// §4.2.3.10: a SYN from a broadcast or multicast address is never
// answered. Without this a SYN from 255.255.255.255 or from the host's
// own address ("land") drew a SYN-ACK and held a SYN-queue slot. The check
// runs on every packet addressed to us, before TCP or DCCP see it, so it
// covers DCCP-Requests the same way (RFC 4340 keeps IP's rules).
//
// The subnet's broadcast address (the directed broadcast, 10.0.0.255 in
// 10.0.0.0/24) is not recognised: Config.Addrs are addresses without a
// prefix, so the stack does not know its subnets. Only the limited
// broadcast 255.255.255.255 is dropped as a broadcast.

var (
	classE    = netip.MustParsePrefix("240.0.0.0/4")
	thisNet   = netip.MustParsePrefix("0.0.0.0/8")
	limitedBC = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// badSource reports whether src, the source of a packet addressed to one
// of our addresses, is one no host sends from, and which drop it counts
// as. Linux's martian-source checks (ip_route_input_slow, ip6_rcv_core)
// drop the same ones, except class E, which Linux lets through. Our own
// address is checked later, where the connections are known (landTCP).
func (s *Stack) badSource(src netip.Addr) (dropReason, bool) {
	if src.Is4In6() {
		// A v4-mapped address inside IPv6 (RFC 4291 §2.5.5.2) is not
		// an address on the wire; Linux's tcp_v6_conn_request drops it.
		return dropSrcV4Mapped, true
	}
	switch {
	case src == limitedBC:
		return dropSrcBroadcast, true
	case src.IsMulticast():
		return dropSrcMulticast, true
	case src.IsUnspecified() || thisNet.Contains(src):
		// 0.0.0.0/8 and ::, RFC 1122 §3.2.1.3 (a), (b); RFC 4291 §2.5.2.
		return dropSrcUnspecified, true
	case classE.Contains(src):
		return dropSrcReserved, true // RFC 1122 §3.2.1.3; RFC 1112 §4
	case src.IsLoopback():
		// RFC 1122 §3.2.1.3 (g), RFC 4291 §2.5.3: loopback never
		// arrives from outside, unless the host itself is loopback.
		if s.hasLoopback(src.Is4()) {
			return 0, false
		}
		return dropSrcLoopback, true
	}
	return 0, false
}

// Our own address as the source is a land attack (a SYN from the host to
// itself, whose SYN-ACK answers itself), which Linux drops (accept_local
// = 0) because its own traffic never arrives on a device: it stays on
// lo. Ours has no lo: a link may bring the packets of a connection to
// one of our own addresses back to us (testnet does), and those must
// pass. So a packet from our own address is taken only when one end of
// it is a connection of ours: the one that sent it (the reverse tuple) or
// the one it is for. A SYN to a listener from a port with no connection,
// or from the port itself (the classic land), is dropped.

// landTCP reports whether a TCP segment for tuple, which matched no
// connection, comes from one of our addresses without being our own
// traffic. The caller holds s.mu.
func (s *Stack) landTCP(tuple fourTuple) bool {
	return s.hasAddr(tuple.remote.Addr()) && s.conns.get(fourTuple{tuple.remote, tuple.local}) == nil
}

// landDCCP is landTCP for a DCCP packet. The caller holds s.dccp.mu.
func (s *Stack) landDCCP(tuple fourTuple) bool {
	return s.hasAddr(tuple.remote.Addr()) && s.dccp.conns[fourTuple{tuple.remote, tuple.local}] == nil
}

// hasLoopback reports whether the stack has a loopback address of the
// family (IPv4 if v4).
func (s *Stack) hasLoopback(v4 bool) bool {
	for _, a := range s.addrs {
		if a.Is4() == v4 && a.IsLoopback() {
			return true
		}
	}
	return false
}
