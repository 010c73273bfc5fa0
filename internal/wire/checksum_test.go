package wire

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// The worked example of RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum
// (with end-around carry) to ddf2, so the checksum is its complement, 220d.
func TestChecksumRFC1071Example(t *testing.T) {
	b := []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}
	if got := Checksum(b); got != ^uint16(0xddf2) {
		t.Fatalf("Checksum = %#04x, want %#04x", got, ^uint16(0xddf2))
	}
}

// Summing in pieces of any even split, or with an odd final piece, gives
// the same result as summing at once.
func TestSumIsSplittable(t *testing.T) {
	b := make([]byte, 101)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	want := Checksum(b)
	for cut := 0; cut <= len(b); cut += 2 {
		if got := Fold(Sum(Sum(0, b[:cut]), b[cut:])); got != want {
			t.Fatalf("split at %d: %#04x, want %#04x", cut, got, want)
		}
	}
}

// A reference implementation, one 16-bit word at a time, agrees with the
// wide loop on every length.
func TestSumMatchesWordAtATime(t *testing.T) {
	b := make([]byte, 300)
	for i := range b {
		b[i] = byte(255 - i*13)
	}
	for n := 0; n <= len(b); n++ {
		if got, want := Checksum(b[:n]), refChecksum(b[:n]); got != want {
			t.Fatalf("len %d: %#04x, want %#04x", n, got, want)
		}
	}
}

// The add-with-carry loop for long buffers agrees with the reference on
// long random, all-ones and all-zero data, at every alignment and split:
// the carries out of the 64-bit words (all-ones data carries on every
// add) are where such a loop goes wrong.
func TestSumLongBuffers(t *testing.T) {
	modes := []bool{false}
	if useAVX2 {
		modes = append(modes, true) // and the AVX2 loop, on this CPU
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, avx := range modes {
		useAVX2 = avx
		testSumLongBuffers(t, avx)
	}
}

func testSumLongBuffers(t *testing.T, avx bool) {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := map[string]func(b []byte){
		"random": func(b []byte) {
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
		},
		"ones": func(b []byte) {
			for i := range b {
				b[i] = 0xff
			}
		},
		"zeros": func(b []byte) { clear(b) },
		"mostly-ones": func(b []byte) {
			for i := range b {
				b[i] = 0xff
			}
			b[len(b)/2] = 0xfe
		},
	}
	// Lengths around the loops' strides, packet sizes, and buffers longer
	// than one AVX2 chunk (whose 32-bit lanes must not overflow).
	lengths := []int{63, 64, 65, 71, 72, 127, 128, 1448, 1500, 9001, 65535, 65536, 69999, avx2Chunk + 64, 2*avx2Chunk + 77}
	buf := make([]byte, 2*avx2Chunk+77+16)
	for name, f := range fill {
		for _, n := range lengths {
			for _, off := range []int{0, 1, 2, 3, 7} {
				b := buf[off : off+n]
				f(b)
				want := refChecksum(b)
				if got := Checksum(b); got != want {
					t.Fatalf("avx2=%v %s len %d off %d: %#04x, want %#04x", avx, name, n, off, got, want)
				}
				cut := (n / 3) &^ 1
				if got := Fold(Sum(Sum(0, b[:cut]), b[cut:])); got != want {
					t.Fatalf("avx2=%v %s len %d off %d split %d: %#04x, want %#04x", avx, name, n, off, cut, got, want)
				}
			}
		}
	}
}

// refChecksum is RFC 1071's checksum one 16-bit word at a time.
func refChecksum(b []byte) uint16 {
	var s uint64
	for i := 0; i+1 < len(b); i += 2 {
		s += uint64(b[i])<<8 | uint64(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint64(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

func TestPseudoHeaderLayouts(t *testing.T) {
	// IPv4 pseudo-header laid out by hand: src, dst, 0, proto, length.
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	ph := []byte{192, 0, 2, 1, 198, 51, 100, 7, 0, 6, 0x05, 0xdc}
	if got, want := Fold(PseudoHeaderSum(src, dst, 6, 1500)), Checksum(ph); got != want {
		t.Fatalf("v4 pseudo-header %#04x, want %#04x", got, want)
	}
	// IPv6: src, dst, 32-bit length, three zero bytes, next header.
	s6, d6 := netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	a, b := s6.As16(), d6.As16()
	ph6 := append(append(a[:], b[:]...), 0, 1, 0, 4, 0, 0, 0, 33)
	if got, want := Fold(PseudoHeaderSum(s6, d6, 33, 65540)), Checksum(ph6); got != want {
		t.Fatalf("v6 pseudo-header %#04x, want %#04x", got, want)
	}
}

func BenchmarkChecksum1500(b *testing.B)  { benchChecksum(b, 1500) }
func BenchmarkChecksum65535(b *testing.B) { benchChecksum(b, 65535) }

func benchChecksum(b *testing.B, n int) {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(i * 31)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		Checksum(buf)
	}
}
