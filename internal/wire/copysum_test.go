package wire

import (
	"bytes"
	"math/rand/v2"
	"net/netip"
	"testing"
)

// sumModes runs f with the portable loop and, on a CPU that has it, the
// AVX2 loop.
func sumModes(t testing.TB, f func(avx bool)) {
	modes := []bool{false}
	if useAVX2 {
		modes = append(modes, true)
	}
	defer func(v bool) { useAVX2 = v }(useAVX2)
	for _, avx := range modes {
		useAVX2 = avx
		f(avx)
	}
}

// checkCopySum copies src to dst[off:] by CopySum and compares with copy
// and Sum: the same bytes land, nothing around them moves, the same sum.
func checkCopySum(t testing.TB, acc uint64, src []byte, off int, avx bool) {
	t.Helper()
	dst := make([]byte, off+len(src)+3)
	for i := range dst {
		dst[i] = 0xa5
	}
	want := append(bytes.Clone(dst[:off]), src...)
	want = append(want, dst[off+len(src):]...)
	got := CopySum(acc, dst[off:], src)
	if !bytes.Equal(dst, want) {
		t.Fatalf("avx=%v len %d, dst offset %d: the copy differs from copy's", avx, len(src), off)
	}
	if Fold(got) != Fold(Sum(acc, src)) {
		t.Fatalf("avx=%v len %d, dst offset %d, acc %#x: CopySum folds to %#04x, Sum to %#04x",
			avx, len(src), off, acc, Fold(got), Fold(Sum(acc, src)))
	}
}

// CopySum is copy followed by Sum, for every length up to a few hundred
// bytes (every tail after the 64-byte blocks, odd lengths included), at
// every alignment of source and destination, with and without AVX2.
func TestCopySum_EqualsCopyThenSum(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	buf := make([]byte, 400+64)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	sumModes(t, func(avx bool) {
		for n := 0; n <= 400; n++ {
			for align := 0; align < 64; align += 7 {
				checkCopySum(t, 0, buf[align:align+n], (align*3)%64, avx)
			}
		}
	})
}

// Long buffers, across the AVX2 loop's chunk boundary, whose words carry
// on every addition (all ones) or never (zeros), or are random; and a
// running sum carried in from a pseudo-header.
func TestCopySum_LongBuffers(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	sizes := []int{64, 1460, 65483, avx2Chunk + 65}
	fills := map[string]func(int) byte{
		"ones":   func(int) byte { return 0xff },
		"zeros":  func(int) byte { return 0 },
		"random": func(int) byte { return byte(r.Uint32()) },
	}
	sumModes(t, func(avx bool) {
		for _, fill := range fills {
			for _, n := range sizes {
				src := make([]byte, n+1)
				for i := range src {
					src[i] = fill(i)
				}
				for _, acc := range []uint64{0x1fffe, r.Uint64() >> 16} {
					checkCopySum(t, acc, src[:n], 0, avx)
					checkCopySum(t, acc, src[1:], 5, avx) // odd source address
				}
			}
		}
	})
}

// A source that is already where the copy would put it is summed and left
// as it is.
func TestCopySum_InPlace(t *testing.T) {
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(i * 31)
	}
	orig := bytes.Clone(b)
	sumModes(t, func(avx bool) {
		if got := Fold(CopySum(9, b, b)); got != Fold(Sum(9, orig)) || !bytes.Equal(b, orig) {
			t.Fatalf("avx=%v: in place: %#04x, want %#04x, bytes kept: %v", avx, got, Fold(Sum(9, orig)), bytes.Equal(b, orig))
		}
	})
}

func FuzzCopySum(f *testing.F) {
	f.Add([]byte("payload"), uint8(0), uint64(0))
	f.Add(bytes.Repeat([]byte{0xff}, 200), uint8(3), uint64(0xffff))
	f.Fuzz(func(t *testing.T, src []byte, off uint8, acc uint64) {
		acc >>= 8 // a running sum, as PseudoHeaderSum and Sum leave it
		sumModes(t, func(avx bool) { checkCopySum(t, acc, src, int(off%64), avx) })
	})
}

func BenchmarkCopySum65483(b *testing.B) {
	src, dst := make([]byte, 65483), make([]byte, 65535)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		CopySum(0, dst, src)
	}
}

func BenchmarkCopyThenSum65483(b *testing.B) {
	src, dst := make([]byte, 65483), make([]byte, 65535)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		copy(dst, src)
		Sum(0, dst[:len(src)])
	}
}

// EncodeTCPPacket's checksum, taken as the payload is copied, verifies for
// payloads of every length and at odd addresses, and also when the payload
// already lies in the packet buffer: in place after the headers, or a
// little further on, overlapping where it goes (then it is moved first).
func TestEncodeTCPPacket_ChecksumAsPayloadIsCopied(t *testing.T) {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	h := TCPHeader{SrcPort: 1, DstPort: 2, Seq: 7, Flags: ACK, Window: 100}
	const hdrs = IPv4MinLen + TCPMinLen
	r := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 3000)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	sumModes(t, func(avx bool) {
		for _, n := range []int{0, 1, 63, 64, 65, 127, 1460, 1461, 2999} {
			for _, place := range []string{"apart", "odd", "in place", "overlapping"} {
				b := make([]byte, hdrs+n+40)
				var payload []byte
				switch place {
				case "apart":
					payload = data[:n]
				case "odd":
					payload = data[1 : 1+n]
				case "in place":
					payload = b[hdrs : hdrs+n]
					copy(payload, data)
				case "overlapping":
					payload = b[hdrs+5 : hdrs+5+n]
					copy(payload, data)
				}
				want := bytes.Clone(payload)
				m, err := EncodeTCPPacket(b, src, dst, &h, payload)
				if err != nil {
					t.Fatal(err)
				}
				ip, err := ParseIP(b[:m])
				if err != nil {
					t.Fatal(err)
				}
				seg := TCP(ip.Payload)
				if !bytes.Equal(seg.Payload(), want) || !seg.VerifyChecksum(src, dst) {
					t.Fatalf("avx=%v, %d bytes %s: payload kept %v, checksum verifies %v",
						avx, n, place, bytes.Equal(seg.Payload(), want), seg.VerifyChecksum(src, dst))
				}
			}
		}
	})
}

// The segment-sized pieces of a 1 MiB ring, as encoding reads a send
// buffer that no longer fits the L2 cache, against copy then Sum and copy
// alone.
func BenchmarkCopySumFromRing(b *testing.B) {
	benchFromRing(b, func(dst, src []byte) { CopySum(0, dst, src) })
}

func BenchmarkCopyThenSumFromRing(b *testing.B) {
	benchFromRing(b, func(dst, src []byte) { copy(dst, src); Sum(0, dst[:len(src)]) })
}

func BenchmarkCopyFromRing(b *testing.B) {
	benchFromRing(b, func(dst, src []byte) { copy(dst, src) })
}

func benchFromRing(b *testing.B, f func(dst, src []byte)) {
	const seg = 65483
	ring, dst := make([]byte, 1<<20), make([]byte, 65535)
	b.SetBytes(seg)
	off := 0
	for b.Loop() {
		if off+seg > len(ring) {
			off = 0
		}
		f(dst, ring[off:off+seg])
		off += seg
	}
}
