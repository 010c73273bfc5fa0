package tcp

import "github.com/teardown-lab/teardown/clock"

// synEntry is one entry of a listener's SYN queue: a SYN answered (or,
// without SYNACKBeforeAccept, waiting for Accept to answer it) whose
// handshake has not completed. A few dozen bytes; no buffers.
type synEntry struct {
	tuple    Tuple
	req      Request
	arrival  uint64        // order of arrival (Accept answers the oldest)
	deadline clock.Instant // next SYN-ACK retransmission; 0 while unanswered
	timeouts int           // SYN-ACK retransmissions by the timer
	answered bool          // a SYN-ACK was sent
	used     bool
}

// synQueue is the SYN queue: a fixed array of slots, allocated once, with
// an index by tuple. Filling it and flooding past it allocate nothing.
type synQueue struct {
	slots    []synEntry
	index    map[Tuple]int32
	free     []int32
	used     int
	arrivals uint64
}

func (q *synQueue) init(n int) {
	q.slots = make([]synEntry, n)
	q.index = make(map[Tuple]int32, n)
	q.free = make([]int32, n)
	for i := range q.free {
		q.free[i] = int32(n - 1 - i)
	}
	q.used = 0
}

func (q *synQueue) full() bool { return q.used == len(q.slots) }

// lookup returns the entry for t, or nil.
func (q *synQueue) lookup(t Tuple) *synEntry {
	i, ok := q.index[t]
	if !ok {
		return nil
	}
	return &q.slots[i]
}

// add takes a free slot for t; the caller checked !full().
func (q *synQueue) add(t Tuple, req Request) *synEntry {
	i := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	q.index[t] = i
	q.used++
	q.arrivals++
	e := &q.slots[i]
	*e = synEntry{tuple: t, req: req, arrival: q.arrivals, used: true}
	return e
}

// remove frees e's slot.
func (q *synQueue) remove(e *synEntry) {
	i, ok := q.index[e.tuple]
	if !ok || &q.slots[i] != e {
		return
	}
	delete(q.index, e.tuple)
	*e = synEntry{}
	q.free = append(q.free, i)
	q.used--
}

// sendSYNACK sends (or resends) e's SYN-ACK and arms its retransmission:
// RTOInitial (1 s) doubling per timeout up to RTOMax, as Linux's request
// timer.
func (l *Listener[C]) sendSYNACK(now clock.Instant, e *synEntry, byTimer bool) {
	var out Segment
	e.req.FillSYNACK(l.connConfig(e.tuple.Local), e.req.SYNACKTSVal(now), &out)
	l.emit(e.tuple, &out)
	l.stats.SYNACKsSent++
	if e.answered {
		l.stats.SYNACKRetransmits++
		e.req.Retransmitted = true
	} else {
		e.answered = true
		e.req.SentAt = now
		e.deadline = now.Add(l.rtoInitial(e.tuple))
	}
	if byTimer {
		e.timeouts++
		e.deadline = now.Add(min(l.rtoInitial(e.tuple)<<e.timeouts, l.rtoMax(e.tuple)))
	}
	l.arm(e.deadline)
}

// arm makes NextDeadline no later than at.
func (l *Listener[C]) arm(at clock.Instant) {
	if at.IsZero() || l.closed {
		return
	}
	if l.next.IsZero() || at.Before(l.next) {
		l.next = at
	}
}

// HandleTimer retransmits the SYN-ACKs that are due and gives up the
// requests that ran out of retransmissions, in silence as Linux's request
// timer does (RFC 4987 §3.2: the SYN-RECEIVED timer bounds what a flood
// holds).
func (l *Listener[C]) HandleTimer(now clock.Instant) {
	l.next = 0
	for i := range l.syn.slots {
		e := &l.syn.slots[i]
		if !e.used || e.deadline.IsZero() {
			continue
		}
		if !now.Before(e.deadline) {
			if e.timeouts >= synackRetries {
				l.stats.RequestsExpired++
				l.syn.remove(e)
				l.requestGone()
				continue
			}
			l.sendSYNACK(now, e, true)
		}
		l.arm(e.deadline)
	}
}

// answerOldest is Accept without SYNACKBeforeAccept: if no handshake that
// Accept started is under way, answer the oldest queued SYN.
func (l *Listener[C]) answerOldest(now clock.Instant) {
	var oldest *synEntry
	for i := range l.syn.slots {
		e := &l.syn.slots[i]
		if !e.used {
			continue
		}
		if e.answered {
			return
		}
		if oldest == nil || e.arrival < oldest.arrival {
			oldest = e
		}
	}
	if oldest != nil {
		l.sendSYNACK(now, oldest, false)
	}
}
