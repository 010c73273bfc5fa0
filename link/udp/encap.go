package udp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The encapsulation itself, as RFC 6773 §3.3 lays down the checksum and
// length rules, for code that sees whole UDP datagrams (header included):
// Encap builds one, Decap checks one. The Endpoint's socket leaves the UDP
// header to the kernel; it applies the same rules as udp.go says.

// udpHeaderLen is the UDP header (RFC 768).
const udpHeaderLen = 8

// ipProtoUDP is UDP's IP protocol number.
const ipProtoUDP = 17

// minDatagram is the shortest DCCP-UDP datagram: the UDP header and the
// shortest DCCP generic header (RFC 6773 §3.3).
const minDatagram = udpHeaderLen + dccpMinHeader

// Reasons Decap drops a datagram (RFC 6773 §3.3: each one MUST be dropped).
var (
	// ErrShort: UDP Length below 20, or the datagram shorter than that.
	ErrShort = errors.New("udp: DCCP-UDP datagram shorter than 20 bytes")
	// ErrLength: UDP Length beyond the datagram, or short of the whole
	// DCCP header (generic header, type-specific fields and options).
	ErrLength = errors.New("udp: UDP Length does not fit the datagram or its DCCP header")
	// ErrZeroChecksum: UDP checksum field zero ("no checksum").
	ErrZeroChecksum = errors.New("udp: zero UDP checksum on a DCCP-UDP datagram")
	// ErrBadChecksum: the UDP checksum does not verify.
	ErrBadChecksum = errors.New("udp: bad UDP checksum")
)

// udpChecksum returns the UDP checksum of datagram u (its checksum field
// left out) between src and dst (RFC 768; a result of zero is sent as
// 0xffff, zero meaning "no checksum").
func udpChecksum(src, dst netip.Addr, u []byte) uint16 {
	acc := wire.PseudoHeaderSum(src, dst, ipProtoUDP, len(u))
	acc = wire.Sum(acc, u[:6])
	acc = wire.Sum(acc, u[8:])
	if c := wire.Fold(acc); c != 0 {
		return c
	}
	return 0xffff
}

// Encap writes into b the UDP datagram carrying the DCCP packet d from
// src to dst and returns its length. The DCCP Checksum field is set to
// zero (RFC 6773 §3.3: the UDP checksum does its work) and the UDP
// checksum is always computed, never zero (§3.1, §3.3).
func Encap(b []byte, src, dst netip.AddrPort, d []byte) (int, error) {
	n := udpHeaderLen + len(d)
	switch {
	case len(d) < dccpMinHeader:
		return 0, ErrShort
	case n > 0xffff || len(b) < n:
		return 0, fmt.Errorf("udp: %d-byte DCCP packet does not fit", len(d))
	case src.Addr().Unmap().Is4() != dst.Addr().Unmap().Is4():
		return 0, errors.New("udp: mixed address families")
	}
	u := b[:n]
	binary.BigEndian.PutUint16(u[0:], src.Port())
	binary.BigEndian.PutUint16(u[2:], dst.Port())
	binary.BigEndian.PutUint16(u[4:], uint16(n))
	copy(u[udpHeaderLen:], d)
	binary.BigEndian.PutUint16(u[udpHeaderLen+6:], 0)
	binary.BigEndian.PutUint16(u[6:], udpChecksum(src.Addr().Unmap(), dst.Addr().Unmap(), u))
	return n, nil
}

// Decap checks the UDP datagram u (header and payload) received from src
// for dst as RFC 6773 §3.3 asks, in its order, and returns the DCCP packet
// it carries (a slice of u) or why it must be dropped. The DCCP checksum
// is not looked at: on receipt it is ignored (§3.3).
func Decap(src, dst netip.Addr, u []byte) ([]byte, error) {
	if len(u) < minDatagram {
		return nil, ErrShort
	}
	l := int(binary.BigEndian.Uint16(u[4:]))
	switch {
	case l < minDatagram:
		return nil, ErrShort
	case l > len(u):
		return nil, ErrLength
	}
	u = u[:l] // bytes past Length are not part of the datagram (RFC 768)
	c := binary.BigEndian.Uint16(u[6:])
	if c == 0 {
		return nil, ErrZeroChecksum
	}
	acc := wire.PseudoHeaderSum(src.Unmap(), dst.Unmap(), ipProtoUDP, len(u))
	if wire.Fold(wire.Sum(acc, u)) != 0 {
		return nil, ErrBadChecksum
	}
	d, err := wire.ParseDCCP(u[udpHeaderLen:])
	if err != nil {
		// Length short of the whole DCCP header (Data Offset past the
		// end), or no DCCP packet at all.
		return nil, fmt.Errorf("%w: %v", ErrLength, err)
	}
	return d, nil
}
