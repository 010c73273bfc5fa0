package dccp

// datagramQueue is a bounded FIFO of datagrams whose buffers are reused:
// after warm-up, pushing and popping does not allocate.
type datagramQueue struct {
	bufs    [][]byte
	head, n int
}

func (q *datagramQueue) init(capacity int) { q.bufs = make([][]byte, capacity) }

func (q *datagramQueue) len() int   { return q.n }
func (q *datagramQueue) full() bool { return q.n == len(q.bufs) }

// push copies b into the queue; it reports false when full.
func (q *datagramQueue) push(b []byte) bool {
	if q.full() {
		return false
	}
	i := (q.head + q.n) % len(q.bufs)
	q.bufs[i] = append(q.bufs[i][:0], b...)
	q.n++
	return true
}

// front returns the oldest datagram; the queue must not be empty.
func (q *datagramQueue) front() []byte { return q.bufs[q.head] }

// pop removes the oldest datagram; the slice it returns stays valid
// until the next push.
func (q *datagramQueue) pop() []byte {
	b := q.bufs[q.head]
	q.head = (q.head + 1) % len(q.bufs)
	q.n--
	return b
}

func (q *datagramQueue) clear() { q.head, q.n = 0, 0 }
