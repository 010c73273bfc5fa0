package tcp

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Beyond its first maxOOORanges the queue grows up to the limit it is
// given; the SACK blocks still name the most recent ranges first (RFC 2018
// §4), and once the holes fill, the grown memory goes back.
func TestReassembly_GrowsToItsLimitAndShrinks(t *testing.T) {
	q := newReassembly()
	at := func(i int) seqnum.V32 { return seqnum.V32(1000 + 2*i) }
	for i := range 100 {
		if !q.add(at(i), at(i)+1, 100) {
			t.Fatalf("range %d refused under a limit of 100", i)
		}
	}
	if q.add(at(100), at(100)+1, 100) || q.n != 100 {
		t.Fatalf("the 101st range was kept (%d ranges), want it refused", q.n)
	}
	var o wire.TCPOptions
	q.sackBlocks(&o, 3)
	for k, want := range []int{99, 98, 97} {
		if b := o.SACK[k]; o.NumSACK != 3 || b.Left != at(want) {
			t.Fatalf("SACK block %d = %v of %d, want the range at %d", k, b, o.NumSACK, at(want))
		}
	}
	if next := q.advance(at(99)); next != at(99)+1 || !q.empty() || len(q.r) != maxOOORanges {
		t.Fatalf("after the holes filled: RCV.NXT %d, %d ranges, %d kept; want %d, none, the first %d",
			next, q.n, len(q.r), at(99)+1, maxOOORanges)
	}
}
