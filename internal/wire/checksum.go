package wire

import (
	"encoding/binary"
	"math/bits"
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
	if len(b) >= 64 {
		// The one's-complement sum does not depend on byte order (RFC 1071
		// §2(B)): sum the bulk as native little-endian 64-bit words with
		// end-around carry, fold to 16 bits and swap the two bytes back.
		n := len(b) &^ 7
		acc += uint64(bits.ReverseBytes16(fold16(sumWords(b[:n]))))
		b = b[n:]
	}
	// Add 32-bit words into a 64-bit accumulator: the carries pile up in the
	// high half and are folded back once at the end (RFC 1071 §2(C)).
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

// sumWords is the one's-complement sum of b, whose length is a multiple of
// 8, taken as little-endian words: with AVX2 where the CPU has it
// (checksum_amd64.s, about 2.5 times faster again), else by sumWordsGo.
// This is the hot loop of every packet's checksum.
func sumWords(b []byte) uint64 {
	if !useAVX2 || len(b) < 64 {
		return sumWordsGo(b)
	}
	var s, c uint64
	for len(b) >= 64 {
		// sumAVX2 adds 16-bit words in 32-bit lanes: bounded chunks keep
		// the lanes from overflowing.
		n := min(len(b), avx2Chunk) &^ 63
		s, c = bits.Add64(s, sumAVX2(b[:n]), c)
		b = b[n:]
	}
	s, c = bits.Add64(s, sumWordsGo(b), c)
	s, c = bits.Add64(s, 0, c)
	return s + c
}

// sumWordsGo is sumWords in portable Go: an add-with-carry chain over
// 64-bit words, eight per iteration, and the last carry added back
// (end-around carry); about 2.5 times the speed of adding 32-bit halves.
func sumWordsGo(b []byte) uint64 {
	var s, c uint64
	for len(b) >= 64 {
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[0:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[8:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[16:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[24:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[32:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[40:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[48:]), c)
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b[56:]), c)
		b = b[64:]
	}
	for len(b) >= 8 {
		s, c = bits.Add64(s, binary.LittleEndian.Uint64(b), c)
		b = b[8:]
	}
	// Adding the carry can carry once more, and then s is 0: add it too.
	s, c = bits.Add64(s, 0, c)
	return s + c
}

// fold16 reduces a one's-complement sum to 16 bits (not complemented).
func fold16(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// Fold reduces a running sum to 16 bits and returns its one's complement:
// the value to put in a checksum field. Summing a packet whose checksum
// field holds a correct value and folding gives 0.
func Fold(acc uint64) uint16 { return ^fold16(acc) }

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
