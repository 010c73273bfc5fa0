package tcp

import (
	"bytes"
	"testing"

	"github.com/teardown-lab/teardown/internal/bufpool"
)

// poisonPools fills pooled blocks of every size a ring of size takes with
// 0xEE, so that a ring that showed bytes it never stored would show them.
func poisonPools(size int) {
	for c := minRingAlloc; c <= size; c *= 2 {
		for range 4 {
			b := bufpool.Take(c)
			for i := range b.B {
				b.B[i] = 0xEE
			}
			bufpool.Put(b)
		}
	}
}

// A ring on reused pool memory shows only what it stored: out-of-order
// bytes beyond a gap, growth (which moves stored bytes to a bigger block),
// release when empty, and reuse after release.
func TestRingOnPoisonedPoolShowsOnlyStoredBytes(t *testing.T) {
	const size = 64 << 10
	poisonPools(size)
	r := newRing(size)
	// Out of order first: offset 3000 (the ring grows past the first
	// block), then the gap filled in order.
	late := bytes.Repeat([]byte{'L'}, 5000)
	r.writeAt(3000, late)
	early := bytes.Repeat([]byte{'e'}, 3000)
	if n := r.write(early); n != len(early) {
		t.Fatalf("write took %d of %d", n, len(early))
	}
	r.grow(len(late))
	got := make([]byte, 20000)
	n := r.read(got)
	want := append(append([]byte{}, early...), late...)
	if !bytes.Equal(got[:n], want) {
		t.Fatalf("read %d bytes, want the %d stored (first difference shows pool garbage)", n, len(want))
	}
	r.release()
	if r.blk != nil || r.buf != nil {
		t.Fatal("release kept the block")
	}
	// Reused after release, wrapping around the block.
	poisonPools(size)
	for round := range 50 {
		p := bytes.Repeat([]byte{byte('a' + round%26)}, 777+round*13)
		if n := r.write(p); n != len(p) {
			t.Fatalf("round %d: write took %d of %d", round, n, len(p))
		}
		out := make([]byte, len(p)+10)
		if n := r.read(out); !bytes.Equal(out[:n], p) {
			t.Fatalf("round %d: read back %q...", round, out[:min(n, 20)])
		}
		if r.len() == 0 {
			r.release()
		}
	}
}
