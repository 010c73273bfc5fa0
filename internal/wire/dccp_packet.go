package wire

import (
	"fmt"
	"net/netip"
)

// DCCPPacketLen returns the bytes EncodeDCCPPacket needs for header h and
// payloadLen payload bytes sent from src (its family picks IPv4 or IPv6),
// or 0 if h is not a valid header (see DCCPHeader.Len).
func DCCPPacketLen(src netip.Addr, h *DCCPHeader, payloadLen int) int {
	hl := h.Len()
	if hl == 0 {
		return 0
	}
	ipLen := IPv6HeaderLen
	if src.Unmap().Is4() {
		ipLen = IPv4MinLen
	}
	return ipLen + hl + payloadLen
}

// EncodeDCCPPacket writes a complete IP packet carrying the DCCP packet
// h + payload from src to dst into b and returns its length. As with
// EncodeTCPPacket, the address family picks the IP version, the IP header
// has TTL/Hop Limit DefaultTTL and no options, IPv4 sets DF with ID 0, and
// both checksums are filled in (the DCCP one with h.CsCov's coverage). It
// returns ErrBadVersion when src and dst differ in family, ErrNoSpace
// when b is shorter than DCCPPacketLen, and the errors of
// DCCPHeader.Encode. It does not allocate.
func EncodeDCCPPacket(b []byte, src, dst netip.Addr, h *DCCPHeader, payload []byte) (int, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() != dst.Is4() || !src.IsValid() || !dst.IsValid() {
		return 0, fmt.Errorf("%w: DCCP packet from %v to %v", ErrBadVersion, src, dst)
	}
	need := DCCPPacketLen(src, h, len(payload))
	if need == 0 {
		return 0, fmt.Errorf("%w: DCCP-%v with X=%v", ErrBadPacketType, h.Type, h.X)
	}
	if len(b) < need {
		return 0, fmt.Errorf("%w: IP+DCCP packet needs %d bytes, have %d", ErrNoSpace, need, len(b))
	}
	ipLen := IPv6HeaderLen
	if src.Is4() {
		ipLen = IPv4MinLen
	}
	// The DCCP part first: its errors (CsCov, type) leave b's IP header
	// unwritten rather than half a packet.
	n, err := BuildDCCP(b[ipLen:need], h, payload, src, dst)
	if err != nil {
		return 0, err
	}
	if src.Is4() {
		ip := IPv4Header{Src: src, Dst: dst, Protocol: IPProtoDCCP, TTL: DefaultTTL, DontFragment: true}
		_, err = ip.Encode(b, n)
	} else {
		ip := IPv6Header{Src: src, Dst: dst, NextHeader: IPProtoDCCP, HopLimit: DefaultTTL}
		_, err = ip.Encode(b, n)
	}
	if err != nil {
		return 0, err
	}
	return need, nil
}
