package netsim

import "github.com/teardown-lab/teardown/clock"

// event is one entry of the simulator's event queue. Events are stored by
// value in a slice, so scheduling one allocates nothing once the slice has
// grown to the size the simulation needs.
//
// An event either fires a Timer (timer != nil) or delivers the in-flight
// packet in slot flight to the far end of its link direction.
type event struct {
	at     clock.Instant
	seq    uint64 // insertion order: breaks ties between equal times
	timer  *Timer
	flight int32
}

// before reports whether e runs before f: earlier time first, and at equal
// times the one scheduled first.
func (e *event) before(f *event) bool {
	if e.at != f.at {
		return e.at < f.at
	}
	return e.seq < f.seq
}

// eventHeap is a binary min-heap of events. It keeps Timer.index up to date
// so that a pending timer can be stopped or moved in O(log n) without
// leaving a stale entry behind.
type eventHeap []event

func (h eventHeap) swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	if t := h[i].timer; t != nil {
		t.index = i
	}
	if t := h[j].timer; t != nil {
		t.index = j
	}
}

func (h eventHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h[i].before(&h[p]) {
			return
		}
		h.swap(i, p)
		i = p
	}
}

// down sifts element i toward the leaves and reports whether it moved.
func (h eventHeap) down(i int) bool {
	start := i
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		m := l
		if r := l + 1; r < n && h[r].before(&h[l]) {
			m = r
		}
		if !h[m].before(&h[i]) {
			break
		}
		h.swap(i, m)
		i = m
	}
	return i > start
}

// push adds e to the heap.
func (h *eventHeap) push(e event) {
	*h = append(*h, e)
	i := len(*h) - 1
	if e.timer != nil {
		e.timer.index = i
	}
	h.up(i)
}

// pop removes and returns the earliest event. The heap must not be empty.
func (h *eventHeap) pop() event {
	old := *h
	n := len(old) - 1
	old.swap(0, n)
	e := old[n]
	old[n] = event{} // drop the timer pointer for the garbage collector
	*h = old[:n]
	if n > 0 {
		h.down(0)
	}
	if e.timer != nil {
		e.timer.index = -1
	}
	return e
}

// remove deletes the event at index i.
func (h *eventHeap) remove(i int) {
	old := *h
	n := len(old) - 1
	if i != n {
		old.swap(i, n)
	}
	if t := old[n].timer; t != nil {
		t.index = -1
	}
	old[n] = event{}
	*h = old[:n]
	if i != n {
		h.fix(i)
	}
}

// fix restores the heap order after the event at index i changed.
func (h eventHeap) fix(i int) {
	if !h.down(i) {
		h.up(i)
	}
}
