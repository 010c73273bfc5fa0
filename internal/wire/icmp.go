package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IP protocol numbers of ICMP (RFC 792) and ICMPv6 (RFC 4443).
const (
	IPProtoICMP   = 1
	IPProtoICMPv6 = 58
)

// ICMPHeaderLen is the fixed part of every ICMP and ICMPv6 message: type,
// code, checksum and four type-specific bytes.
const ICMPHeaderLen = 8

// The ICMP message types and codes teardown reads or writes (RFC 792,
// RFC 1191 §4 for Fragmentation Needed's MTU field).
const (
	ICMPv4EchoReply   = 0
	ICMPv4Unreachable = 3
	ICMPv4Echo        = 8

	// Codes of Destination Unreachable (RFC 792; RFC 1812 §5.2.7.1 for
	// 9 to 15).
	ICMPv4NetUnreachable  = 0
	ICMPv4HostUnreachable = 1
	ICMPv4ProtoUnreach    = 2
	ICMPv4PortUnreach     = 3
	ICMPv4FragNeeded      = 4
	ICMPv4AdminProhibited = 13
)

// The ICMPv6 message types and codes teardown reads or writes (RFC 4443).
const (
	ICMPv6Unreachable  = 1
	ICMPv6PacketTooBig = 2
	ICMPv6Echo         = 128
	ICMPv6EchoReply    = 129

	// Codes of Destination Unreachable (RFC 4443 §3.1).
	ICMPv6NoRoute         = 0
	ICMPv6AdminProhibited = 1
	ICMPv6AddrUnreach     = 3
	ICMPv6PortUnreach     = 4
)

// ICMP is a view of an ICMP or ICMPv6 message: the two share the layout of
// their first eight bytes, which is all this view reads.
type ICMP []byte

// ParseICMP checks that b holds at least the fixed eight bytes and returns
// it as a view. The checksum is checked separately (VerifyChecksum).
func ParseICMP(b []byte) (ICMP, error) {
	if len(b) < ICMPHeaderLen {
		return nil, fmt.Errorf("%w: ICMP message of %d bytes", ErrTruncated, len(b))
	}
	return ICMP(b), nil
}

// Type returns the message type.
func (m ICMP) Type() uint8 { return m[0] }

// Code returns the message code.
func (m ICMP) Code() uint8 { return m[1] }

// Rest returns the four type-specific bytes after the checksum.
func (m ICMP) Rest() uint32 { return binary.BigEndian.Uint32(m[4:]) }

// Body returns what follows the fixed eight bytes: the echo data, or the
// quoted packet of an error message.
func (m ICMP) Body() []byte { return m[ICMPHeaderLen:] }

// MTU returns the next-hop MTU an error message reports: the low 16 bits
// of Fragmentation Needed (RFC 1191 §4) or the 32-bit field of ICMPv6
// Packet Too Big (RFC 4443 §3.2). It means nothing for other messages.
func (m ICMP) MTU(v6 bool) uint32 {
	if v6 {
		return m.Rest()
	}
	return m.Rest() & 0xffff
}

// VerifyChecksum reports whether the checksum holds: over the message
// alone for ICMP (RFC 792), over the IPv6 pseudo-header and the message for
// ICMPv6 (RFC 4443 §2.3). src and dst matter only for IPv6.
func (m ICMP) VerifyChecksum(src, dst netip.Addr) bool {
	return Fold(icmpSum(src, dst, m)) == 0
}

func icmpSum(src, dst netip.Addr, m []byte) uint64 {
	var acc uint64
	if src.Is6() && !src.Is4In6() {
		acc = PseudoHeaderSum(src, dst, IPProtoICMPv6, len(m))
	}
	return Sum(acc, m)
}

// ICMPHeader is the fixed part of an ICMP or ICMPv6 message to build.
type ICMPHeader struct {
	Type, Code uint8
	Rest       uint32 // identifier and sequence of an echo, MTU, or zero
}

// Encode writes the message, header then body, into b with its checksum
// (the ICMPv6 one when src is an IPv6 address) and returns its length, or
// ErrNoSpace when b is too short.
func (h *ICMPHeader) Encode(b []byte, src, dst netip.Addr, body []byte) (int, error) {
	n := ICMPHeaderLen + len(body)
	if len(b) < n {
		return 0, ErrNoSpace
	}
	b[0], b[1], b[2], b[3] = h.Type, h.Code, 0, 0
	binary.BigEndian.PutUint32(b[4:], h.Rest)
	copy(b[ICMPHeaderLen:n], body)
	binary.BigEndian.PutUint16(b[2:], Fold(icmpSum(src, dst, b[:n])))
	return n, nil
}

// Quoted is what an ICMP error message quotes of the packet that caused
// it: the addresses and protocol of its IP header and the first bytes of
// its transport header (eight at least: RFC 792 asks for no more from a
// router, RFC 1812 §4.3.2.3 and RFC 4443 §2.4 quote as much as fits).
type Quoted struct {
	Src, Dst  netip.Addr
	Protocol  uint8
	Transport []byte
}

// ParseQuoted reads the packet quoted in an ICMP error's body. The quote
// is truncated, so its IP length fields are not checked; IPv6 extension
// headers are not walked (teardown sends none): a quote whose Next Header
// is not the transport's has that header's number as Protocol. It fails
// when fewer than eight transport bytes follow the IP header.
func ParseQuoted(body []byte, v6 bool) (Quoted, error) {
	var q Quoted
	var hl int
	if v6 {
		if len(body) < IPv6HeaderLen || body[0]>>4 != 6 {
			return q, fmt.Errorf("%w: quoted IPv6 header", ErrTruncated)
		}
		v := IPv6(body)
		q.Src, q.Dst, q.Protocol = v.Src(), v.Dst(), v.NextHeader()
		hl = IPv6HeaderLen
	} else {
		if len(body) < IPv4MinLen || body[0]>>4 != 4 {
			return q, fmt.Errorf("%w: quoted IPv4 header", ErrTruncated)
		}
		v := IPv4(body)
		hl = v.HeaderLen()
		if hl < IPv4MinLen || hl > len(body) {
			return q, fmt.Errorf("%w: quoted IPv4 header length %d", ErrBadHeaderLen, hl)
		}
		q.Src, q.Dst, q.Protocol = v.Src(), v.Dst(), v.Protocol()
	}
	if len(body)-hl < 8 {
		return q, fmt.Errorf("%w: %d quoted transport bytes", ErrTruncated, len(body)-hl)
	}
	q.Transport = body[hl:]
	return q, nil
}

// QuotedPorts returns the source and destination ports and the 32-bit
// word after them of a quoted TCP or DCCP header: TCP's sequence number,
// or the low bits of DCCP's (RFC 4340 §5.1).
func (q *Quoted) QuotedPorts() (src, dst uint16, word uint32) {
	t := q.Transport
	return binary.BigEndian.Uint16(t), binary.BigEndian.Uint16(t[2:]), binary.BigEndian.Uint32(t[4:])
}
