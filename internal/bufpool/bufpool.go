// Package bufpool lends byte buffers whose capacities are powers of two,
// from one sync.Pool per size class shared by the whole process. Buffers
// that are taken and given back often (a connection's rings, its queue of
// deferred segments) come from here instead of being allocated and zeroed
// each time; the garbage collector empties the pools of buffers nobody
// took back.
//
// A buffer from Take holds whatever its last user left in it.
package bufpool

import (
	"math/bits"
	"sync"
)

// Block is a lent buffer: B has a power-of-two capacity (and length).
// Pass the Block itself back to Put, so that putting it back does not
// allocate.
type Block struct{ B []byte }

var pools [bits.UintSize]sync.Pool

// class is the size class of a buffer of at least n bytes (n > 0).
func class(n int) int { return bits.Len(uint(n - 1)) }

// Take returns a block of at least n bytes (n > 0), the smallest power of
// two that holds n.
func Take(n int) *Block {
	c := class(max(n, 1))
	if v := pools[c].Get(); v != nil {
		return v.(*Block)
	}
	return &Block{B: make([]byte, 1<<c)}
}

// Put gives b back; the caller must not use it afterwards.
func Put(b *Block) {
	b.B = b.B[:cap(b.B)]
	pools[class(cap(b.B))].Put(b)
}
