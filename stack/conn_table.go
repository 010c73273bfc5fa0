package stack

import (
	"encoding/binary"
	"sync"
)

// connTable is the stack's TCP connections by 4-tuple, in shards with a
// lock each. Every received segment looks its connection up, every dial
// and accept adds one and every connection that ends takes itself out:
// under connection churn these come from every goroutine at once, and
// with one lock for the whole table (the stack's) each insert or removal
// held up every segment of the stack behind it — the writer of a
// read-write lock waits for the readers in flight and stalls the new
// ones, and on a loaded machine whoever held it was often descheduled
// meanwhile (churn-64: 64 dialers spent half their time waiting for it,
// and the process used less CPU than a single dialer). Shards make two
// of these meet only when their 4-tuples share a shard.
//
// Lock order: a shard's lock is the last one taken (docs/ARCHITECTURE.md,
// "Locks"); nothing else is taken under it.
type connTable struct {
	shards [connShards]connShard
}

const connShards = 64

type connShard struct {
	mu sync.RWMutex
	m  map[fourTuple]*TCPConn
	_  [64 - 8 - 24]byte // a cache line each: shards taken together do not share one
}

func (t *connTable) init() {
	for i := range t.shards {
		t.shards[i].m = make(map[fourTuple]*TCPConn)
	}
}

// shard returns the shard of k: a multiplicative hash of both ports and
// the low bits of the peer's address, which is what differs between the
// connections of a busy host (a client's local ports, a server's peers).
func (t *connTable) shard(k fourTuple) *connShard {
	a := k.remote.Addr().As16()
	x := uint32(k.local.Port())<<16 | uint32(k.remote.Port())
	x ^= binary.LittleEndian.Uint32(a[12:])
	x *= 0x9e3779b1
	return &t.shards[x>>(32-6)]
}

// get returns the connection of k, or nil.
func (t *connTable) get(k fourTuple) *TCPConn {
	sh := t.shard(k)
	sh.mu.RLock()
	c := sh.m[k]
	sh.mu.RUnlock()
	return c
}

// add registers c under k unless k is taken; it reports whether it did.
func (t *connTable) add(k fourTuple, c *TCPConn) bool {
	sh := t.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, taken := sh.m[k]; taken {
		return false
	}
	sh.m[k] = c
	return true
}

// remove takes c out from under k, if k is still c's.
func (t *connTable) remove(k fourTuple, c *TCPConn) {
	sh := t.shard(k)
	sh.mu.Lock()
	if sh.m[k] == c {
		delete(sh.m, k)
	}
	sh.mu.Unlock()
}

// all returns every connection, in no particular order.
func (t *connTable) all() []*TCPConn {
	var cs []*TCPConn
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, c := range sh.m {
			cs = append(cs, c)
		}
		sh.mu.RUnlock()
	}
	return cs
}
