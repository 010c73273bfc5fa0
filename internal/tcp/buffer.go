package tcp

import "github.com/teardown-lab/teardown/internal/bufpool"

// ring is a byte ring buffer of a fixed logical size. The n bytes from
// head are "the queue"; the receive side also stores out-of-order bytes
// beyond them with writeAt.
//
// Its memory is taken lazily and grows by doubling up to size, so an idle
// connection holds no buffer at all and a connection that only ever
// queues a few bytes holds a small one. The memory comes in power-of-two
// blocks from pools shared by every connection, and goes back to them
// whenever the ring is empty (release): short connections reuse each
// other's blocks instead of allocating and zeroing new ones, and a bulk
// transfer that has grown its ring to full size no longer allocates.
type ring struct {
	blk *bufpool.Block // where buf comes from; nil when buf is nil
	buf []byte
	// 32-bit offsets keep tcp.Conn, which holds two rings, within its
	// allocation size class; buffers are far below 2 GiB.
	head int32 // index of the first queued byte
	n    int32 // queued bytes
	size int32 // logical capacity: buf grows up to this
	hint int32 // len(buf) when it was last released: the next take's size
}

// minRingAlloc is the smallest block a ring takes.
const minRingAlloc = 1 << 10

// release gives the ring's memory back to the pools; the caller makes
// sure nothing is stored (no queued and no out-of-order bytes).
func (r *ring) release() {
	if r.blk == nil {
		return
	}
	r.hint = int32(len(r.buf))
	bufpool.Put(r.blk)
	r.blk, r.buf, r.head = nil, nil, 0
}

func newRing(size int) ring { return ring{size: int32(size)} }

// BufferMemory returns the bytes of buffer memory the connection holds now:
// its send and receive rings (the host sums them, Config.MaxBufferMemory).
func (c *Conn) BufferMemory() int { return len(c.snd.buf) + len(c.rcv.buf) }

func (r *ring) len() int  { return int(r.n) }
func (r *ring) cap() int  { return int(r.size) }
func (r *ring) free() int { return int(max(r.size-r.n, 0)) } // none while over a shrunk size

// reserve makes buf hold at least need bytes from head (need <= size),
// moving the stored bytes, queued and out-of-order, to a new buffer with
// head at index 0.
func (r *ring) reserve(need int) {
	if need <= len(r.buf) {
		return
	}
	c := max(len(r.buf)*2, int(r.hint), minRingAlloc)
	for c < need {
		c *= 2
	}
	c = min(c, int(r.size))
	blk := bufpool.Take(c)
	nb := blk.B[:c]
	if r.blk != nil {
		k := copy(nb, r.buf[r.head:])
		copy(nb[k:], r.buf[:r.head])
		bufpool.Put(r.blk)
	}
	r.blk, r.buf, r.head = blk, nb, 0
}

// idx maps an offset from head to an index of buf.
func (r *ring) idx(off int) int {
	i := int(r.head) + off
	if i >= len(r.buf) {
		i -= len(r.buf)
	}
	return i
}

// write appends as much of p as fits and returns how much that was.
func (r *ring) write(p []byte) int {
	n := min(len(p), r.free())
	if n == 0 {
		return 0
	}
	r.writeAt(int(r.n), p[:n])
	r.n += int32(n)
	return n
}

// writeAt copies p to offset off from head without changing the queue
// length; the caller keeps off+len(p) within cap.
func (r *ring) writeAt(off int, p []byte) {
	if len(p) == 0 {
		return
	}
	r.reserve(off + len(p))
	for len(p) > 0 {
		i := r.idx(off)
		c := copy(r.buf[i:], p)
		p = p[c:]
		off += c
	}
}

// peek returns the longest contiguous run of at most max queued bytes from
// offset off (shorter where the ring wraps).
func (r *ring) peek(off, max int) []byte {
	if off >= int(r.n) {
		return nil
	}
	n := min(max, int(r.n)-off)
	i := r.idx(off)
	end := min(i+n, len(r.buf))
	return r.buf[i:end]
}

// read moves up to len(p) queued bytes into p.
func (r *ring) read(p []byte) int {
	total := 0
	for total < len(p) && r.n > 0 {
		c := copy(p[total:], r.peek(0, len(p)-total))
		r.discard(c)
		total += c
	}
	return total
}

// discard drops n bytes from the front of the queue.
func (r *ring) discard(n int) {
	n = min(n, int(r.n))
	r.head = int32(r.idx(n))
	r.n -= int32(n)
}

// grow extends the queue by n bytes already stored beyond it with writeAt.
func (r *ring) grow(n int) { r.n += int32(n) }
