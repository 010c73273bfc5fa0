package stack

import (
	"net/netip"
	"sync/atomic"
	"syscall"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// ICMP and ICMPv6 as a host sees them: echo requests are answered (RFC
// 1122 §3.2.2.6, RFC 4443 §4.1); Fragmentation Needed and Packet Too Big
// lower the send MSS of the connection whose segment they quote (RFC 1191,
// RFC 8201); Destination Unreachable ends a connect early when hard, and
// is remembered when soft (RFC 1122 §4.2.3.9). The path MTU is learnt per
// connection: there is no destination cache, so a new connection to the
// same host learns it again. DCCP ignores ICMP today.

// ICMPCounters count the ICMP and ICMPv6 messages a stack received.
type ICMPCounters struct {
	// EchoReplies counts echo requests answered.
	EchoReplies uint64
	// PathMTUDrops counts Fragmentation Needed and Packet Too Big
	// messages that lowered a connection's send MSS.
	PathMTUDrops uint64
	// HardErrors counts Destination Unreachable messages that ended a
	// connect; SoftErrors those remembered for a connection, reported if
	// it then times out.
	HardErrors, SoftErrors uint64
	// PathMTUNoChange counts those that would not lower it: an MTU no
	// smaller than the path's already learnt (they come one per segment
	// sent before the first arrived).
	PathMTUNoChange uint64
	// NotInFlight counts errors quoting a sequence number the connection
	// has not in flight, ignored (RFC 5927 §4.1).
	NotInFlight uint64
	// NoConnection counts errors quoting no TCP connection of this stack.
	NoConnection uint64
	// Bad counts malformed messages: truncated, a bad checksum, a quote
	// that is not a packet this stack sent. Ignored counts messages of
	// types a host does not act on, and echo requests whose reply would
	// not fit the link's MTU.
	Bad, Ignored uint64
}

// icmpStats are a stack's ICMPCounters, kept as atomics.
type icmpStats struct {
	echoReplies, pmtu, pmtuSame, hard, soft, notInFlight, noConn, bad, ignored atomic.Uint64
}

func (s *icmpStats) snapshot() ICMPCounters {
	return ICMPCounters{
		EchoReplies: s.echoReplies.Load(), PathMTUDrops: s.pmtu.Load(), PathMTUNoChange: s.pmtuSame.Load(),
		HardErrors: s.hard.Load(), SoftErrors: s.soft.Load(),
		NotInFlight: s.notInFlight.Load(), NoConnection: s.noConn.Load(),
		Bad: s.bad.Load(), Ignored: s.ignored.Load(),
	}
}

// The smallest path MTUs believed. IPv4: Linux's min_pmtu, 552, so that a
// forged Fragmentation Needed cannot shrink segments to a few bytes (RFC
// 5927 §7); IPv6: 1280, every link's minimum (RFC 8200 §5, RFC 8201 §4).
const (
	minPathMTU4 = 552
	minPathMTU6 = 1280
)

// deliverICMP handles an ICMP (v4) or ICMPv6 message addressed to us.
func (s *Stack) deliverICMP(ip *wire.IPPacket) {
	if (ip.Protocol == wire.IPProtoICMPv6) != (ip.Version == 6) {
		s.icmp.ignored.Add(1) // ICMP over IPv6 or ICMPv6 over IPv4
		return
	}
	m, err := wire.ParseICMP(ip.Payload)
	if err != nil || !m.VerifyChecksum(ip.Src, ip.Dst) {
		s.icmp.bad.Add(1)
		return
	}
	v6 := ip.Version == 6
	switch t := m.Type(); {
	case !v6 && t == wire.ICMPv4Echo, v6 && t == wire.ICMPv6Echo:
		s.echoReply(ip, m)
	case !v6 && t == wire.ICMPv4Unreachable, v6 && (t == wire.ICMPv6Unreachable || t == wire.ICMPv6PacketTooBig):
		s.icmpError(ip, m)
	default:
		s.icmp.ignored.Add(1)
	}
}

// echoReply answers an echo request with the same identifier, sequence
// number and data, from the address it was sent to.
func (s *Stack) echoReply(ip *wire.IPPacket, m wire.ICMP) {
	if !ip.Src.IsGlobalUnicast() && !ip.Src.IsPrivate() && !ip.Src.IsLoopback() && !ip.Src.IsLinkLocalUnicast() {
		s.icmp.bad.Add(1) // no answer to an unspecified or multicast source
		return
	}
	typ := uint8(wire.ICMPv4EchoReply)
	if ip.Version == 6 {
		typ = wire.ICMPv6EchoReply
	}
	h := wire.ICMPHeader{Type: typ, Rest: m.Rest()}
	pkt, err := icmpPacket(ip.Dst, ip.Src, &h, m.Body())
	if err == nil && len(pkt) > s.mtu {
		// A request reassembled from fragments: the stack does not
		// fragment its answer.
		s.icmp.ignored.Add(1)
		return
	}
	if err == nil {
		s.icmp.echoReplies.Add(1)
	}
	s.sendAlone(pkt, err)
}

// icmpPacket builds an IP packet from src to dst carrying the ICMP
// message h with body.
func icmpPacket(src, dst netip.Addr, h *wire.ICMPHeader, body []byte) ([]byte, error) {
	b := make([]byte, wire.IPv6HeaderLen+wire.ICMPHeaderLen+len(body))
	var hl int
	var err error
	if src.Is4() {
		ih := wire.IPv4Header{Src: src, Dst: dst, Protocol: wire.IPProtoICMP, TTL: 64}
		hl, err = ih.Encode(b, wire.ICMPHeaderLen+len(body))
	} else {
		ih := wire.IPv6Header{Src: src, Dst: dst, NextHeader: wire.IPProtoICMPv6, HopLimit: 64}
		hl, err = ih.Encode(b, wire.ICMPHeaderLen+len(body))
	}
	if err != nil {
		return nil, err
	}
	n, err := h.Encode(b[hl:], src, dst, body)
	return b[:hl+n], err
}

// icmpError matches an error message to the TCP connection whose segment
// it quotes and hands it to the connection (icmp_conn.go).
func (s *Stack) icmpError(ip *wire.IPPacket, m wire.ICMP) {
	v6 := ip.Version == 6
	q, err := wire.ParseQuoted(m.Body(), v6)
	if err != nil || q.Src.Unmap() != ip.Dst.Unmap() {
		s.icmp.bad.Add(1) // not a packet this stack sent to anyone
		return
	}
	if q.Protocol != wire.IPProtoTCP {
		s.icmp.ignored.Add(1)
		return
	}
	sport, dport, seq := q.QuotedPorts()
	tuple := fourTuple{
		local:  netip.AddrPortFrom(q.Src.Unmap(), sport),
		remote: netip.AddrPortFrom(q.Dst.Unmap(), dport),
	}
	ep := s.conns.get(tuple)
	if ep == nil {
		s.icmp.noConn.Add(1)
		return
	}
	quoted := seqnum.V32(seq)
	if mtu, ok := pathMTU(m, v6); ok {
		switch lowered, inFlight := ep.pathMTU(mtu, v6, quoted); {
		case lowered:
			s.icmp.pmtu.Add(1)
		case inFlight:
			s.icmp.pmtuSame.Add(1)
		default:
			s.icmp.notInFlight.Add(1)
		}
		return
	}
	errno, hard := unreachable(m.Code(), v6)
	if hard {
		if !ep.hardError(errno, quoted, &s.icmp.hard) {
			s.icmp.notInFlight.Add(1)
		}
	} else {
		s.countICMP(ep.softError(errno, quoted), &s.icmp.soft)
	}
}

// countICMP counts an error that a connection took in c, or one that it
// ignored.
func (s *Stack) countICMP(taken bool, c *atomic.Uint64) {
	if taken {
		c.Add(1)
	} else {
		s.icmp.notInFlight.Add(1)
	}
}

// pathMTU returns the MTU a Fragmentation Needed or Packet Too Big
// reports, raised to the smallest believed, and whether m is one.
func pathMTU(m wire.ICMP, v6 bool) (int, bool) {
	switch {
	case v6 && m.Type() == wire.ICMPv6PacketTooBig:
		return int(max(m.MTU(true), minPathMTU6)), true
	case !v6 && m.Code() == wire.ICMPv4FragNeeded:
		// An MTU of zero comes from a router older than RFC 1191 (§5);
		// the floor then stands in for its plateau table.
		return int(max(m.MTU(false), minPathMTU4)), true
	}
	return 0, false
}

// unreachable maps a Destination Unreachable code to the errno Linux
// reports for it and whether it is hard: fatal to a connect (Linux's
// icmp_err_convert and icmpv6_err_convert tables).
func unreachable(code uint8, v6 bool) (syscall.Errno, bool) {
	if v6 {
		switch code {
		case wire.ICMPv6NoRoute:
			return syscall.ENETUNREACH, false
		case wire.ICMPv6AdminProhibited, 5: // 5: source address failed policy
			return syscall.EACCES, true
		case wire.ICMPv6PortUnreach:
			return syscall.ECONNREFUSED, true
		case 6: // reject route to destination
			return syscall.EINVAL, true
		}
		return syscall.EHOSTUNREACH, false // beyond scope, address unreachable
	}
	switch code {
	case wire.ICMPv4NetUnreachable, 11: // 11: network unreachable for TOS
		return syscall.ENETUNREACH, false
	case wire.ICMPv4HostUnreachable, 12: // 12: host unreachable for TOS
		return syscall.EHOSTUNREACH, false
	case wire.ICMPv4ProtoUnreach:
		return syscall.ENOPROTOOPT, true
	case wire.ICMPv4PortUnreach:
		return syscall.ECONNREFUSED, true
	case 5: // source route failed
		return syscall.EOPNOTSUPP, false
	case 6, 9: // destination network unknown, network prohibited
		return syscall.ENETUNREACH, true
	case 7: // destination host unknown
		return syscall.EHOSTDOWN, true
	case 8: // source host isolated
		return syscall.ENONET, true
	}
	if code > 15 {
		return syscall.EHOSTUNREACH, false // unassigned: no reason to give up
	}
	return syscall.EHOSTUNREACH, true // 10, 13-15: prohibited, precedence
}
