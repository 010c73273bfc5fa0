// Package seqnum is serial-number arithmetic for TCP's 32-bit sequence
// numbers (RFC 9293 §3.4, RFC 1982) and DCCP's 48-bit ones (RFC 4340 §7.1).
//
// Sequence numbers wrap, so "less than" means "less than within half the
// number space": a is before b when the forward distance from a to b is
// non-zero and below 2^(n-1).
package seqnum

// V32 is a TCP sequence number.
type V32 uint32

// Size32 is a length in TCP sequence space (a window or a segment length).
type Size32 uint32

// Add returns v+n modulo 2^32.
func (v V32) Add(n Size32) V32 { return v + V32(n) }

// Sub returns the signed distance v-w, valid while |v-w| < 2^31.
func (v V32) Sub(w V32) int32 { return int32(v - w) }

// LessThan reports whether v is before w.
func (v V32) LessThan(w V32) bool { return int32(v-w) < 0 }

// LessThanEq reports whether v is before w or equal to it.
func (v V32) LessThanEq(w V32) bool { return v == w || v.LessThan(w) }

// InRange reports whether a <= v < b.
func (v V32) InRange(a, b V32) bool { return v-a < b-a }

// InWindow reports whether first <= v < first+size.
func (v V32) InWindow(first V32, size Size32) bool { return v.InRange(first, first.Add(size)) }

// Max returns the later of v and w.
func (v V32) Max(w V32) V32 {
	if v.LessThan(w) {
		return w
	}
	return v
}

// Min returns the earlier of v and w.
func (v V32) Min(w V32) V32 {
	if v.LessThan(w) {
		return v
	}
	return w
}

// Mask48 keeps the low 48 bits of a DCCP sequence number.
const Mask48 = 1<<48 - 1

// V48 is a DCCP sequence or acknowledgement number; only its low 48 bits
// are meaningful and every operation keeps the result within them.
type V48 uint64

// Add returns v+n modulo 2^48 (n may be negative).
func (v V48) Add(n int64) V48 { return V48((uint64(v) + uint64(n)) & Mask48) }

// Sub returns the signed circular distance v-w, in (-2^47, 2^47].
func (v V48) Sub(w V48) int64 {
	d := (uint64(v) - uint64(w)) & Mask48
	if d > 1<<47 {
		return int64(d) - 1<<48
	}
	return int64(d)
}

// LessThan reports whether v is before w in circular 48-bit order.
func (v V48) LessThan(w V48) bool { return v.Sub(w) < 0 }

// LessThanEq reports whether v is before w or equal to it.
func (v V48) LessThanEq(w V48) bool { return v == w || v.LessThan(w) }

// InRange reports whether a <= v <= b in circular order (inclusive at both
// ends, as RFC 4340 §7.5.1 writes its validity windows).
func (v V48) InRange(a, b V48) bool {
	return (uint64(v)-uint64(a))&Mask48 <= (uint64(b)-uint64(a))&Mask48
}

// Extend24 reconstructs a full 48-bit number from the low 24 bits carried
// by a short-sequence-number packet, choosing the value closest to ref
// (RFC 4340 §7.6).
func Extend24(ref V48, low24 uint32) V48 {
	low24 &= 1<<24 - 1
	cand := V48((uint64(ref) &^ (1<<24 - 1)) | uint64(low24))
	switch d := cand.Sub(ref); {
	case d > 1<<23:
		cand = cand.Add(-(1 << 24))
	case d < -(1 << 23):
		cand = cand.Add(1 << 24)
	}
	return cand
}
