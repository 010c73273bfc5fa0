package tcp

import (
	"bytes"
	"testing"
)

// An idle ring holds no memory; writing allocates a small buffer first.
func TestRingLazyAllocation(t *testing.T) {
	r := newRing(256 << 10)
	if r.cap() != 256<<10 || r.free() != 256<<10 {
		t.Fatalf("cap %d free %d: the logical size must not depend on the allocation", r.cap(), r.free())
	}
	if len(r.buf) != 0 {
		t.Fatalf("a new ring holds %d bytes; an idle connection must hold none", len(r.buf))
	}
	r.write([]byte("hello"))
	if len(r.buf) != minRingAlloc {
		t.Fatalf("after a 5-byte write the ring holds %d bytes, want %d", len(r.buf), minRingAlloc)
	}
}

// Growing keeps queued and out-of-order bytes at their offsets, also when
// the queue wraps around the old buffer.
func TestRingGrowKeepsOffsets(t *testing.T) {
	const size = 64 << 10
	r := newRing(size)
	var want []byte
	next := byte(0)
	fill := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = next
			next++
		}
		return p
	}
	// Wrap the first buffer: write 3 KiB, consume 2 KiB, write 2 KiB more.
	p := fill(3 << 10)
	r.write(p)
	want = append(want, p...)
	got := make([]byte, 2<<10)
	r.read(got)
	want = want[2<<10:]
	p = fill(2 << 10)
	r.write(p)
	want = append(want, p...)
	if r.head == 0 {
		t.Fatal("the test needs a wrapped queue before growing")
	}
	// Out-of-order bytes stored 10 KiB past the queue force a grow.
	gap := fill(10 << 10)
	ooo := fill(1 << 10)
	r.writeAt(r.len()+len(gap), ooo)
	if len(r.buf) < r.len()+len(gap)+len(ooo) {
		t.Fatalf("buffer %d bytes, too small for the out-of-order write", len(r.buf))
	}
	// Filling the gap then makes everything contiguous and in order.
	r.writeAt(r.len(), gap)
	r.grow(len(gap) + len(ooo))
	want = append(append(want, gap...), ooo...)
	out := make([]byte, r.len())
	if n := r.read(out); n != len(want) || !bytes.Equal(out, want) {
		t.Fatalf("read %d bytes, want %d in order", n, len(want))
	}
	// The buffer never grows past the logical size.
	r.write(make([]byte, size))
	if len(r.buf) != size || r.free() != 0 {
		t.Fatalf("full ring: buffer %d free %d, want %d and 0", len(r.buf), r.free(), size)
	}
}

// An emptied ring gives its block back; the next write takes one of the
// size it had (so a bulk transfer does not grow from the smallest block
// again), and queued bytes survive a grow into a block from the pools.
func TestRingReleaseAndReuse(t *testing.T) {
	r := newRing(1 << 20)
	r.write(make([]byte, 100<<10))
	if got := len(r.buf); got != 128<<10 {
		t.Fatalf("after 100 KiB the ring holds %d bytes, want 128 KiB", got)
	}
	r.discard(r.len())
	r.release()
	if r.blk != nil || r.buf != nil || r.head != 0 {
		t.Fatal("release kept the block")
	}
	r.write([]byte("x"))
	if got := len(r.buf); got != 128<<10 {
		t.Fatalf("after release a 1-byte write takes %d bytes, want the former 128 KiB", got)
	}
	// Releasing twice, or an empty ring, is harmless.
	r.discard(1)
	r.release()
	r.release()
	// A ring whose size is not a power of two uses a block's prefix.
	odd := newRing(3000)
	odd.write(make([]byte, 2500))
	if len(odd.buf) != 3000 || cap(odd.blk.B) != 4096 {
		t.Fatalf("ring of 3000: buf %d of block %d, want 3000 of 4096", len(odd.buf), cap(odd.blk.B))
	}
}
