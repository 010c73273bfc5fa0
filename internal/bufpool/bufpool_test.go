package bufpool

import "testing"

// Take's blocks are the smallest power of two that holds the request, and
// a block given back is handed out again for its class (not for another).
func TestTakeSizesAndReuse(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 1000, 1024, 1025, 65535, 1 << 20, 1<<20 + 1} {
		b := Take(n)
		c := cap(b.B)
		if c < n || c&(c-1) != 0 || (c > 1 && c/2 >= n) || len(b.B) != c {
			t.Fatalf("Take(%d): len %d cap %d", n, len(b.B), c)
		}
		Put(b)
	}
	b := Take(3000)
	b.B = b.B[:10] // a shortened slice still goes back to its class
	Put(b)
	if got := Take(4096); cap(got.B) != 4096 || len(got.B) != 4096 {
		t.Fatalf("Take(4096) after Put: len %d cap %d", len(got.B), cap(got.B))
	}
}
