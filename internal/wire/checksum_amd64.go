package wire

import "golang.org/x/sys/cpu"

// useAVX2 selects the AVX2 loop of sumWords (tests turn it off to check
// the portable loop on the same machine).
var useAVX2 = cpu.X86.HasAVX2

// avx2Chunk is the most bytes one sumAVX2 call takes: each of its 32-bit
// lanes adds one 16-bit word per 64 bytes, so 2^20 bytes add at most
// 2^14 words of at most 2^16-1, far from overflowing.
const avx2Chunk = 1 << 20

// sumAVX2 returns the sum of the little-endian 16-bit words of b, not
// folded. len(b) must be a multiple of 64 and at most avx2Chunk.
//
//go:noescape
func sumAVX2(b []byte) uint64

// copySumAVX2 copies src into dst (as long, not overlapping) and returns
// the sum of the little-endian 16-bit words of src, not folded: sumAVX2
// with a store. len(src) must be a multiple of 64 and at most avx2Chunk.
//
//go:noescape
func copySumAVX2(dst, src []byte) uint64
