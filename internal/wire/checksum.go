package wire

import (
	"encoding/binary"
	"net/netip"
)

// Internet checksum (RFC 1071): the 16-bit one's-complement of the
// one's-complement sum of the data taken as big-endian 16-bit words. It is
// computed in two steps so that a pseudo-header, a header and a payload can
// be summed separately: Sum accumulates, Fold finishes.

// Sum adds b to the running one's-complement sum acc and returns the new
// sum (not yet folded to 16 bits). An odd-length b is padded with a zero
// byte, so only the last piece of a packet may have odd length.
func Sum(acc uint64, b []byte) uint64 {
	// Add 32-bit words into a 64-bit accumulator: the carries pile up in the
	// high half and are folded back once at the end (RFC 1071 §2(C)). The
	// 8-byte loop does two words per iteration.
	for len(b) >= 8 {
		v := binary.BigEndian.Uint64(b)
		acc += v >> 32
		acc += v & 0xffffffff
		b = b[8:]
	}
	if len(b) >= 4 {
		acc += uint64(binary.BigEndian.Uint32(b))
		b = b[4:]
	}
	if len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
	}
	return acc
}

// Fold reduces a running sum to 16 bits and returns its one's complement:
// the value to put in a checksum field. Summing a packet whose checksum
// field holds a correct value and folding gives 0.
func Fold(acc uint64) uint16 {
	for acc>>16 != 0 {
		acc = (acc & 0xffff) + acc>>16
	}
	return ^uint16(acc)
}

// Checksum returns the Internet checksum of b.
func Checksum(b []byte) uint16 { return Fold(Sum(0, b)) }

// PseudoHeaderSum returns the running sum of the pseudo-header that TCP and
// DCCP checksums cover: for IPv4 (RFC 9293 §3.1) source, destination, zero,
// protocol and the transport length; for IPv6 (RFC 8200 §8.1) source,
// destination, the 32-bit upper-layer length and the next header. Both
// addresses must be of the same family.
func PseudoHeaderSum(src, dst netip.Addr, proto uint8, length int) uint64 {
	var acc uint64
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		acc = Sum(acc, a[:])
		acc = Sum(acc, b[:])
	} else {
		a, b := src.As16(), dst.As16()
		acc = Sum(acc, a[:])
		acc = Sum(acc, b[:])
	}
	// The length and protocol words are the same sum in both layouts:
	// v4 puts {0, proto} and a 16-bit length, v6 a 32-bit length and
	// {0,0,0,proto}; one's-complement addition does not care where.
	acc += uint64(uint32(length)>>16) + uint64(uint32(length)&0xffff)
	acc += uint64(proto)
	return acc
}
