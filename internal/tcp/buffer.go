package tcp

// ring is a byte ring buffer of a fixed logical size. The n bytes from
// head are "the queue"; the receive side also stores out-of-order bytes
// beyond them with writeAt.
//
// Its memory is allocated lazily and grows by doubling up to size, so an
// idle connection holds no buffer at all and a connection that only ever
// queues a few bytes holds a small one; once a bulk transfer has grown it
// to full size it no longer allocates.
type ring struct {
	buf  []byte
	head int // index of the first queued byte
	n    int // queued bytes
	size int // logical capacity: buf grows up to this
}

// minRingAlloc is the first allocation of a ring that is written to.
const minRingAlloc = 4 << 10

func newRing(size int) ring { return ring{size: size} }

func (r *ring) len() int  { return r.n }
func (r *ring) cap() int  { return r.size }
func (r *ring) free() int { return r.size - r.n }

// reserve makes buf hold at least need bytes from head (need <= size),
// moving the stored bytes, queued and out-of-order, to a new buffer with
// head at index 0.
func (r *ring) reserve(need int) {
	if need <= len(r.buf) {
		return
	}
	c := max(len(r.buf)*2, minRingAlloc)
	for c < need {
		c *= 2
	}
	c = min(c, r.size)
	nb := make([]byte, c)
	k := copy(nb, r.buf[r.head:])
	copy(nb[k:], r.buf[:r.head])
	r.buf, r.head = nb, 0
}

// idx maps an offset from head to an index of buf.
func (r *ring) idx(off int) int {
	i := r.head + off
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
	r.writeAt(r.n, p[:n])
	r.n += n
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
	if off >= r.n {
		return nil
	}
	n := min(max, r.n-off)
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
	n = min(n, r.n)
	r.head = r.idx(n)
	r.n -= n
}

// grow extends the queue by n bytes already stored beyond it with writeAt.
func (r *ring) grow(n int) { r.n += n }
