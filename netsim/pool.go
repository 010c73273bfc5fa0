package netsim

// Buffer sizes of the pool's two classes. Most packets fit a small buffer;
// the large class holds anything up to the largest IPv4 or IPv6 packet.
const (
	smallBuf = 2048
	largeBuf = 65536
)

// bufPool is a free list of packet buffers owned by one Sim. Since the Sim
// is single-threaded it needs no locking, and in steady state every packet
// reuses a buffer returned by an earlier one.
type bufPool struct {
	small, large [][]byte
}

// get returns a buffer of length n.
func (p *bufPool) get(n int) []byte {
	list := &p.small
	size := smallBuf
	if n > smallBuf {
		list, size = &p.large, max(n, largeBuf)
	}
	if k := len(*list); k > 0 {
		b := (*list)[k-1]
		(*list)[k-1] = nil
		*list = (*list)[:k-1]
		if cap(b) >= n {
			return b[:n]
		}
	}
	return make([]byte, n, size)
}

// put returns a buffer obtained from get.
func (p *bufPool) put(b []byte) {
	if cap(b) > smallBuf {
		p.large = append(p.large, b)
		return
	}
	p.small = append(p.small, b)
}
