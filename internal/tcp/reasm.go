package tcp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// maxOOORanges bounds the out-of-order receive queue: at most this many
// disjoint byte ranges beyond RCV.NXT are kept (their bytes live in the
// receive ring at their final places). A segment that would need one more
// range is dropped, and the sender retransmits it. A connection whose
// receive buffer was tuned to a long path keeps more (oooLimit).
const maxOOORanges = 8

// oooRange is a range [left, right) of bytes received beyond RCV.NXT.
// stamp orders ranges by their latest change, for RFC 2018 §4's rule that
// the first SACK block reports the most recently received segment.
type oooRange struct {
	left, right seqnum.V32
	stamp       uint64
}

// reassembly tracks the out-of-order ranges, sorted by left edge and
// disjoint, not touching one another.
type reassembly struct {
	r     []oooRange // r[:n] are in use; small at first, grown by add
	n     int
	bytes int // what r[:n] hold (held)
	clock uint64
	small [maxOOORanges]oooRange
}

// newReassembly returns an empty queue whose first ranges need no
// allocation of their own.
func newReassembly() *reassembly {
	q := new(reassembly)
	q.r = q.small[:]
	return q
}

func (q *reassembly) empty() bool { return q == nil || q.n == 0 }

// add records [left, right); it reports false (and records nothing) when
// the range would need more than limit ranges.
func (q *reassembly) add(left, right seqnum.V32, limit int) bool {
	q.clock++
	// Find the ranges that overlap or touch [left, right).
	first, last := -1, -1
	for i := 0; i < q.n; i++ {
		r := q.r[i]
		if r.right.LessThan(left) || right.LessThan(r.left) {
			continue
		}
		if first < 0 {
			first = i
		}
		last = i
	}
	if first < 0 {
		if q.n >= max(limit, maxOOORanges) {
			return false
		}
		if q.n == len(q.r) {
			q.r = append(q.r, oooRange{})
			q.r = q.r[:cap(q.r)]
		}
		pos := q.n
		for i := 0; i < q.n; i++ {
			if right.LessThan(q.r[i].left) {
				pos = i
				break
			}
		}
		copy(q.r[pos+1:q.n+1], q.r[pos:q.n])
		q.r[pos] = oooRange{left, right, q.clock}
		q.n++
		q.bytes += int(right.Sub(left))
		return true
	}
	m := oooRange{q.r[first].left.Min(left), q.r[last].right.Max(right), q.clock}
	q.bytes += int(m.right.Sub(m.left))
	for _, r := range q.r[first : last+1] {
		q.bytes -= int(r.right.Sub(r.left))
	}
	q.r[first] = m
	copy(q.r[first+1:], q.r[last+1:q.n])
	q.n -= last - first
	return true
}

// advance removes the range that starts at or before rcvNxt and returns
// the new RCV.NXT (its right edge), or rcvNxt unchanged.
func (q *reassembly) advance(rcvNxt seqnum.V32) seqnum.V32 {
	for q.n > 0 && q.r[0].left.LessThanEq(rcvNxt) {
		rcvNxt = rcvNxt.Max(q.r[0].right)
		q.bytes -= int(q.r[0].right.Sub(q.r[0].left))
		copy(q.r[:], q.r[1:q.n])
		q.n--
	}
	if q.n == 0 && len(q.r) > maxOOORanges {
		q.r = q.small[:] // the memory of a long recovery goes back
	}
	return rcvNxt
}

// covers says whether [left, right) was all received already.
func (q *reassembly) covers(left, right seqnum.V32) bool {
	for i := 0; i < q.n; i++ {
		if q.r[i].left.LessThanEq(left) && right.LessThanEq(q.r[i].right) {
			return true
		}
	}
	return false
}

// held returns the bytes the ranges hold.
func (q *reassembly) held() int { return q.bytes }

// highest returns the right edge of the last range (valid when not empty).
func (q *reassembly) highest() seqnum.V32 { return q.r[q.n-1].right }

// sackBlocks fills o with up to max SACK blocks, the most recently changed
// range first (RFC 2018 §4).
func (q *reassembly) sackBlocks(o *wire.TCPOptions, max int) {
	o.NumSACK = 0
	below := ^uint64(0) // every range has its own stamp
	for o.NumSACK < max {
		best := -1
		for i := 0; i < q.n; i++ {
			if s := q.r[i].stamp; s < below && (best < 0 || s > q.r[best].stamp) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		below = q.r[best].stamp
		o.SACK[o.NumSACK] = wire.SACKBlock{Left: q.r[best].left, Right: q.r[best].right}
		o.NumSACK++
	}
}

func (q *reassembly) clear() {
	if q != nil {
		q.n, q.bytes = 0, 0
		q.r = q.small[:]
	}
}
