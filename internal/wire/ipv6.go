package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IPv6HeaderLen is the length of the fixed IPv6 header (RFC 8200 §3).
const IPv6HeaderLen = 40

// IPv6 next-header values that ParseIPv6 treats specially (IANA "Assigned
// Internet Protocol Numbers"; RFC 8200 §4, RFC 4302, RFC 4303, RFC 7045).
const (
	ipv6HopByHop  = 0   // Hop-by-Hop Options, RFC 8200 §4.3
	ipv6Routing   = 43  // Routing, RFC 8200 §4.4
	ipv6Fragment  = 44  // Fragment, RFC 8200 §4.5
	ipv6ESP       = 50  // Encapsulating Security Payload, RFC 4303
	ipv6AH        = 51  // Authentication Header, RFC 4302
	ipv6DestOpts  = 60  // Destination Options, RFC 8200 §4.6
	ipv6Mobility  = 135 // Mobility Header, RFC 6275
	ipv6HIP       = 139 // Host Identity Protocol, RFC 7401
	ipv6Shim6     = 140 // Shim6, RFC 5533
	ipv6Exp1      = 253 // experimentation, RFC 3692
	ipv6Exp2      = 254 // experimentation, RFC 3692
	ipv6MaxPayLen = 65535
)

// IPProtoNoNext is IPv6's "No Next Header" value (59, RFC 8200 §4.7):
// nothing follows, and any bytes that do are ignored.
const IPProtoNoNext = 59

// IPv6 is a view of an IPv6 packet (RFC 8200 §3): the fixed header, any
// extension headers and the upper-layer payload. Obtain one from
// ParseIPv6, whose checks make every accessor safe; the view then ends at
// the Payload Length.
type IPv6 []byte

// ParseIPv6 checks b as one IPv6 packet and returns a view of it, cut at
// 40 + Payload Length (bytes past it are ignored). It checks the version
// and the Payload Length (at most what b holds; a jumbogram's zero length
// is not supported and reads as an empty payload), then walks the
// extension headers to the upper-layer protocol: Hop-by-Hop (only first,
// RFC 8200 §4.1), Routing, Destination Options and the other headers of
// the generic format (RFC 8200 §4.8, RFC 7045) by their 8-octet length,
// AH by its 4-octet length (RFC 4302 §2.2). A Fragment header returns
// ErrFragment (unwrapped, as in ParseIPv4); ESP, whose payload is
// encrypted, or any header that does not fit returns ErrBadExtHeader.
func ParseIPv6(b []byte) (IPv6, error) {
	if len(b) < IPv6HeaderLen {
		return nil, fmt.Errorf("%w: IPv6 header needs %d bytes, have %d", ErrTruncated, IPv6HeaderLen, len(b))
	}
	if v := b[0] >> 4; v != 6 {
		return nil, fmt.Errorf("%w: version %d in an IPv6 header", ErrBadVersion, v)
	}
	n := IPv6HeaderLen + int(binary.BigEndian.Uint16(b[4:]))
	if n > len(b) {
		return nil, fmt.Errorf("%w: IPv6 payload length %d, buffer %d", ErrBadTotalLen, n-IPv6HeaderLen, len(b))
	}
	v := IPv6(b[:n])
	if _, _, err := v.walk(); err != nil {
		return nil, err
	}
	return v, nil
}

// walk follows the chain of extension headers and returns the upper-layer
// protocol and the offset at which its header starts. For No Next Header
// the offset is where the upper-layer header would have started; the
// bytes from there on are ignored (RFC 8200 §4.7).
func (v IPv6) walk() (proto uint8, off int, err error) {
	nh, off := v[6], IPv6HeaderLen
	for {
		var hl int
		switch nh {
		case ipv6Fragment:
			return 0, 0, ErrFragment
		case ipv6ESP:
			return 0, 0, fmt.Errorf("%w: ESP at offset %d cannot be walked", ErrBadExtHeader, off)
		case IPProtoNoNext:
			return IPProtoNoNext, off, nil
		case ipv6HopByHop:
			// RFC 8200 §4.1: Hop-by-Hop appears only right after the
			// fixed header.
			if off != IPv6HeaderLen {
				return 0, 0, fmt.Errorf("%w: Hop-by-Hop header at offset %d", ErrBadExtHeader, off)
			}
			fallthrough
		case ipv6Routing, ipv6DestOpts, ipv6Mobility, ipv6HIP, ipv6Shim6, ipv6Exp1, ipv6Exp2:
			if off+2 > len(v) {
				return 0, 0, fmt.Errorf("%w: extension header %d truncated at offset %d", ErrBadExtHeader, nh, off)
			}
			hl = (int(v[off+1]) + 1) * 8 // RFC 8200 §4.3: 8-octet units, not counting the first 8
		case ipv6AH:
			if off+2 > len(v) {
				return 0, 0, fmt.Errorf("%w: AH truncated at offset %d", ErrBadExtHeader, off)
			}
			hl = (int(v[off+1]) + 2) * 4 // RFC 4302 §2.2: 4-octet units, minus 2
		default:
			return nh, off, nil
		}
		if off+hl > len(v) {
			return 0, 0, fmt.Errorf("%w: extension header %d of %d bytes at offset %d, packet %d",
				ErrBadExtHeader, nh, hl, off, len(v))
		}
		nh, off = v[off], off+hl
	}
}

// Version returns the version nibble (6 in a parsed view).
func (v IPv6) Version() uint8 { return v[0] >> 4 }

// TrafficClass returns the Traffic Class byte (DSCP and ECN).
func (v IPv6) TrafficClass() uint8 { return uint8(binary.BigEndian.Uint16(v[0:]) >> 4) }

// FlowLabel returns the 20-bit Flow Label.
func (v IPv6) FlowLabel() uint32 { return binary.BigEndian.Uint32(v[0:]) & 0xfffff }

// PayloadLen returns the Payload Length field: the bytes after the fixed
// header, extension headers included.
func (v IPv6) PayloadLen() int { return int(binary.BigEndian.Uint16(v[4:])) }

// NextHeader returns the Next Header field of the fixed header (the first
// extension header, or the upper-layer protocol when there is none).
func (v IPv6) NextHeader() uint8 { return v[6] }

// HopLimit returns the Hop Limit.
func (v IPv6) HopLimit() uint8 { return v[7] }

// Src returns the source address.
func (v IPv6) Src() netip.Addr { return netip.AddrFrom16([16]byte(v[8:24])) }

// Dst returns the destination address.
func (v IPv6) Dst() netip.Addr { return netip.AddrFrom16([16]byte(v[24:40])) }

// Protocol returns the upper-layer protocol found after the extension
// headers (IPProtoNoNext when there is none). It walks the headers on
// every call; ParseIP walks them once and keeps the result.
func (v IPv6) Protocol() uint8 {
	p, _, err := v.walk()
	if err != nil {
		return IPProtoNoNext
	}
	return p
}

// Payload returns the upper-layer payload after the extension headers
// (empty for No Next Header). Like Protocol, it walks the headers.
func (v IPv6) Payload() []byte {
	p, off, err := v.walk()
	if err != nil || p == IPProtoNoNext {
		return nil
	}
	return v[off:]
}

// IPv6Header is the decoded meaning of the fixed IPv6 header teardown
// sends, without extension headers.
type IPv6Header struct {
	Src, Dst     netip.Addr // both IPv6 (IPv4-mapped addresses are allowed as they are)
	NextHeader   uint8      // upper-layer protocol number
	HopLimit     uint8      // Hop Limit
	TrafficClass uint8      // DSCP and ECN bits
	FlowLabel    uint32     // low 20 bits are used
}

// Encode writes the 40-byte fixed header for a payload of payloadLen bytes
// into b and returns IPv6HeaderLen. It returns ErrNoSpace when b is
// shorter than the header, ErrBadTotalLen when payloadLen does not fit the
// 16-bit Payload Length and ErrBadVersion when an address is not IPv6.
func (h *IPv6Header) Encode(b []byte, payloadLen int) (int, error) {
	if len(b) < IPv6HeaderLen {
		return 0, ErrNoSpace
	}
	if payloadLen < 0 || payloadLen > ipv6MaxPayLen {
		return 0, fmt.Errorf("%w: IPv6 payload of %d bytes", ErrBadTotalLen, payloadLen)
	}
	if !h.Src.Is6() || !h.Dst.Is6() {
		return 0, fmt.Errorf("%w: IPv6 header for %v -> %v", ErrBadVersion, h.Src, h.Dst)
	}
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(h.TrafficClass)<<20|h.FlowLabel&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(payloadLen))
	b[6] = h.NextHeader
	b[7] = h.HopLimit
	s, d := h.Src.As16(), h.Dst.As16()
	copy(b[8:24], s[:])
	copy(b[24:40], d[:])
	return IPv6HeaderLen, nil
}
