package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// IPv4MinLen is the length of an IPv4 header without options (RFC 791 §3.1).
const IPv4MinLen = 20

// IPv4MaxLen is the largest IPv4 datagram the 16-bit Total Length field
// can describe.
const IPv4MaxLen = 65535

// IPv4 header flag bits, as returned by IPv4.Flags (RFC 791 §3.1: bit 0 is
// reserved, bit 1 Don't Fragment, bit 2 More Fragments).
const (
	IPv4FlagMF = 1 << 0
	IPv4FlagDF = 1 << 1
)

// IPv4 is a view of an IPv4 datagram (RFC 791 §3.1): the header, its
// options and the payload. Obtain one from ParseIPv4, whose checks make
// every accessor safe; the view then ends at the Total Length.
type IPv4 []byte

// ParseIPv4 checks b as one whole IPv4 datagram and returns a view of it,
// cut at the header's Total Length (bytes past it, such as link padding,
// are ignored). It checks the version, IHL (at least 5 words and within
// b), the Total Length (at least the header, at most len(b)) and the header
// checksum (ErrBadChecksum). Fragments (MF set or a non-zero offset) return
// ErrFragment, after the checks above: the stack hands them to its
// reassembly (stack/reasm4.go). Options are not interpreted, only skipped.
//
// ErrBadChecksum and ErrFragment are returned unwrapped, so that the drop
// path of a busy receiver does not allocate.
func ParseIPv4(b []byte) (IPv4, error) {
	if len(b) < IPv4MinLen {
		return nil, fmt.Errorf("%w: IPv4 header needs %d bytes, have %d", ErrTruncated, IPv4MinLen, len(b))
	}
	if v := b[0] >> 4; v != 4 {
		return nil, fmt.Errorf("%w: version %d in an IPv4 header", ErrBadVersion, v)
	}
	hl := int(b[0]&0x0f) * 4
	if hl < IPv4MinLen || hl > len(b) {
		return nil, fmt.Errorf("%w: IPv4 IHL %d bytes, buffer %d", ErrBadHeaderLen, hl, len(b))
	}
	tl := int(binary.BigEndian.Uint16(b[2:]))
	if tl < hl || tl > len(b) {
		return nil, fmt.Errorf("%w: IPv4 total length %d, header %d, buffer %d", ErrBadTotalLen, tl, hl, len(b))
	}
	// The header checksum covers the header only, options included
	// (RFC 791 §3.1 "Header Checksum"); summed with its own field the
	// result folds to zero.
	if Checksum(b[:hl]) != 0 {
		return nil, ErrBadChecksum
	}
	v := IPv4(b[:tl])
	if v.Flags()&IPv4FlagMF != 0 || v.FragmentOffset() != 0 {
		return nil, ErrFragment
	}
	return v, nil
}

// Version returns the version nibble (4 in a parsed view).
func (v IPv4) Version() uint8 { return v[0] >> 4 }

// HeaderLen returns the header length in bytes (IHL × 4), options included.
func (v IPv4) HeaderLen() int { return int(v[0]&0x0f) * 4 }

// TOS returns the Type of Service byte: DSCP in the upper six bits, ECN in
// the lower two (RFC 2474, RFC 3168).
func (v IPv4) TOS() uint8 { return v[1] }

// TotalLen returns the Total Length field: header plus payload in bytes.
func (v IPv4) TotalLen() int { return int(binary.BigEndian.Uint16(v[2:])) }

// ID returns the Identification field.
func (v IPv4) ID() uint16 { return binary.BigEndian.Uint16(v[4:]) }

// Flags returns the three flag bits (see IPv4FlagDF and IPv4FlagMF).
func (v IPv4) Flags() uint8 { return v[6] >> 5 }

// DontFragment reports whether the DF flag is set.
func (v IPv4) DontFragment() bool { return v.Flags()&IPv4FlagDF != 0 }

// FragmentOffset returns the fragment offset in 8-byte units.
func (v IPv4) FragmentOffset() uint16 { return binary.BigEndian.Uint16(v[6:]) & 0x1fff }

// TTL returns the Time to Live.
func (v IPv4) TTL() uint8 { return v[8] }

// Protocol returns the upper-layer protocol number (6 for TCP).
func (v IPv4) Protocol() uint8 { return v[9] }

// Checksum returns the header checksum field as sent.
func (v IPv4) Checksum() uint16 { return binary.BigEndian.Uint16(v[10:]) }

// Src returns the source address.
func (v IPv4) Src() netip.Addr { return netip.AddrFrom4([4]byte(v[12:16])) }

// Dst returns the destination address.
func (v IPv4) Dst() netip.Addr { return netip.AddrFrom4([4]byte(v[16:20])) }

// Options returns the raw options area between the fixed header and the
// payload (empty when IHL is 5).
func (v IPv4) Options() []byte { return v[IPv4MinLen:v.HeaderLen()] }

// Payload returns the bytes after the header, up to the Total Length.
func (v IPv4) Payload() []byte { return v[v.HeaderLen():] }

// IPv4Header is the decoded meaning of the IPv4 header teardown sends:
// no options, never a fragment.
type IPv4Header struct {
	Src, Dst     netip.Addr // both IPv4 (an IPv4-mapped IPv6 address is unmapped)
	Protocol     uint8      // upper-layer protocol number
	TTL          uint8      // Time to Live
	TOS          uint8      // DSCP and ECN bits
	ID           uint16     // Identification
	DontFragment bool       // set DF
}

// Encode writes a 20-byte header for a payload of payloadLen bytes into
// b, with the header checksum filled in, and returns IPv4MinLen. It returns
// ErrNoSpace when b is shorter than the header, ErrBadTotalLen when the
// datagram would exceed 65535 bytes and ErrBadVersion when an address is
// not IPv4. The payload itself is the caller's to place at b[20:].
func (h *IPv4Header) Encode(b []byte, payloadLen int) (int, error) {
	if len(b) < IPv4MinLen {
		return 0, ErrNoSpace
	}
	if payloadLen < 0 || payloadLen > IPv4MaxLen-IPv4MinLen {
		return 0, fmt.Errorf("%w: IPv4 payload of %d bytes", ErrBadTotalLen, payloadLen)
	}
	src, dst := h.Src.Unmap(), h.Dst.Unmap()
	if !src.Is4() || !dst.Is4() {
		return 0, fmt.Errorf("%w: IPv4 header for %v -> %v", ErrBadVersion, h.Src, h.Dst)
	}
	b = b[:IPv4MinLen]
	b[0] = 4<<4 | IPv4MinLen/4
	b[1] = h.TOS
	binary.BigEndian.PutUint16(b[2:], uint16(IPv4MinLen+payloadLen))
	binary.BigEndian.PutUint16(b[4:], h.ID)
	var frag uint16
	if h.DontFragment {
		frag = IPv4FlagDF << 13
	}
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8] = h.TTL
	b[9] = h.Protocol
	b[10], b[11] = 0, 0
	s, d := src.As4(), dst.As4()
	copy(b[12:16], s[:])
	copy(b[16:20], d[:])
	binary.BigEndian.PutUint16(b[10:], Checksum(b))
	return IPv4MinLen, nil
}
