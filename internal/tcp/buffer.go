package tcp

// ring is a fixed-size byte ring buffer. The n bytes from head are "the
// queue"; the receive side also stores out-of-order bytes beyond them with
// writeAt. Nothing in it allocates after construction.
type ring struct {
	buf  []byte
	head int // index of the first queued byte
	n    int // queued bytes
}

func newRing(size int) ring { return ring{buf: make([]byte, size)} }

func (r *ring) len() int  { return r.n }
func (r *ring) cap() int  { return len(r.buf) }
func (r *ring) free() int { return len(r.buf) - r.n }

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
	r.writeAt(r.n, p[:n])
	r.n += n
	return n
}

// writeAt copies p to offset off from head without changing the queue
// length; the caller keeps off+len(p) within cap.
func (r *ring) writeAt(off int, p []byte) {
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
