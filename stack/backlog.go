package stack

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The listen backlog (docs/scenarios.md, seed 003): a SYN queue of half-open requests
// and an accept queue of established connections, with the behaviours of
// profile.Profile that real systems differ on.

// synackRetries is how often a SYN-ACK is retransmitted before the
// half-open connection is given up (Linux tcp_synack_retries).
const synackRetries = 5

// cookieWindow is how long after the last SYN cookie an unmatched ACK is
// still checked as a cookie (Linux: tcp_synq_no_recent_overflow, two
// cookie periods); other ACKs are answered with RST at once.
const cookieWindow = 2 * time.Minute

// handleSegment takes a segment for the listening port that matched no
// connection: RFC 9293 §3.10.7.2 (LISTEN) and, for a queued half-open
// request, §3.10.7.4 in SYN-RECEIVED.
func (l *TCPListener) handleSegment(tuple fourTuple, seg *tcp.Segment) {
	l.mu.Lock()
	e := l.syn.lookup(tuple)
	l.mu.Unlock()
	switch {
	case e != nil:
		l.handleHalfOpen(tuple, seg)
	case seg.Flags.Has(wire.RST): // an RST to a listener is ignored
	case seg.Flags.Has(wire.ACK):
		l.handleBareACK(tuple, seg)
	case seg.Flags.Has(wire.SYN):
		l.handleSYN(tuple, seg, l.s.isn.ISN(l.s.clk.Now(), tuple.local, tuple.remote))
	}
	// no SYN, no ACK, no RST: drop
}

// handleSYN queues a SYN with initial sequence number iss, or answers it
// with a cookie, or drops or refuses it, as the backlog and the profile
// decide (RFC 9293 §3.10.7.2 "fourth check for a SYN"; RFC 4987).
func (l *TCPListener) handleSYN(tuple fourTuple, seg *tcp.Segment, iss seqnum.V32) {
	now := l.s.clk.Now()
	l.mu.Lock()
	l.synLocked(now, tuple, seg, iss)
	l.mu.Unlock()
	l.out.flush(&l.mu)
}

func (l *TCPListener) synLocked(now clock.Instant, tuple fourTuple, seg *tcp.Segment, iss seqnum.V32) {
	if l.closed {
		l.rst(tuple, seg)
		return
	}
	l.stats.SYNsReceived++
	if e := l.syn.lookup(tuple); e != nil {
		// A retransmitted SYN: our SYN-ACK was lost (Linux resends it).
		if e.answered && seg.Seq == e.req.IRS {
			l.sendSYNACK(now, e, false)
		}
		return
	}
	cfg := l.s.tcpConfig(tuple.local.Addr())
	switch {
	case !l.prof.SeparateSYNQueue:
		// One backlog counts half-open and queued connections alike.
		if l.syn.used+len(l.building)+len(l.acceptQ) >= l.backlog || l.syn.full() {
			l.refuse(tuple, seg)
			return
		}
	case l.acceptFull():
		// Linux drops a SYN while the accept queue is full, cookies or not
		// (tcp_conn_request: ListenOverflows).
		l.stats.AcceptOverflows++
		l.refuse(tuple, seg)
		return
	case l.syn.full():
		if !l.prof.SYNCookies || l.opts.NoSYNCookies {
			l.refuse(tuple, seg)
			return
		}
		req, tsVal := l.jar.Make(now, cfg, tuple.local, tuple.remote, seg)
		var out tcp.Segment
		req.FillSYNACK(cfg, tsVal, &out)
		if l.out.emit(tuple, &out) {
			l.stats.CookiesSent++
			l.lastCookie = now
		}
		return
	}
	req := tcp.NewRequest(cfg, iss, l.jar.TSOffset(tuple.local, tuple.remote), seg)
	e := l.syn.add(tuple, req)
	if l.prof.SYNACKBeforeAccept {
		l.sendSYNACK(now, e, false)
	}
	// else: the SYN waits, unanswered, until Accept takes it (vos-legacy).
}

// refuse drops a SYN that found the backlog full, or answers it with RST
// under RSTOnFullBacklog (the seed: "once the backlog queue filled STCP
// would send a reset in response to a connection request").
func (l *TCPListener) refuse(tuple fourTuple, seg *tcp.Segment) {
	l.stats.SYNsDropped++
	if l.prof.RSTOnFullBacklog {
		l.rst(tuple, seg)
	}
}

// acceptFull reports whether the accept queue is full (connections whose
// final ACK is being processed count as queued).
func (l *TCPListener) acceptFull() bool {
	n := len(l.acceptQ) + len(l.building)
	if l.prof.AcceptQueueExtraSlot {
		return n > l.backlog // Linux sk_acceptq_is_full
	}
	return n >= l.backlog
}

// rst queues the RFC 9293 §3.10.7.1 answer to seg.
func (l *TCPListener) rst(tuple fourTuple, seg *tcp.Segment) {
	if r, ok := tcp.RSTFor(seg); ok && l.out.emit(tuple, &r) {
		l.stats.RSTsSent++
	}
}

// sendSYNACK sends (or resends) e's SYN-ACK and arms its retransmission:
// 1 s (RTOInitial) doubling per timeout, as Linux's request timer.
func (l *TCPListener) sendSYNACK(now clock.Instant, e *halfOpen, byTimer bool) {
	cfg := l.s.tcpConfig(e.tuple.local.Addr())
	var out tcp.Segment
	e.req.FillSYNACK(cfg, e.req.SYNACKTSVal(now), &out)
	if !l.out.emit(e.tuple, &out) {
		return
	}
	l.stats.SYNACKsSent++
	if e.answered {
		l.stats.SYNACKRetransmits++
		e.req.Retransmitted = true
	} else {
		e.answered = true
		e.req.SentAt = now
		e.deadline = now.Add(l.rtoInitial())
	}
	if byTimer {
		e.timeouts++
		e.deadline = now.Add(min(l.rtoInitial()<<e.timeouts, l.rtoMax()))
	}
	l.arm(e.deadline)
}

func (l *TCPListener) rtoInitial() time.Duration {
	if d := l.s.tcpOpts.RTOInitial; d > 0 {
		return d
	}
	return time.Second
}

func (l *TCPListener) rtoMax() time.Duration {
	if d := l.s.tcpOpts.RTOMax; d > 0 {
		return d
	}
	return 120 * time.Second
}

// arm makes the listener's timer fire no later than at.
func (l *TCPListener) arm(at clock.Instant) {
	if at.IsZero() || l.closed {
		return
	}
	if l.armed.IsZero() || at.Before(l.armed) {
		l.armed = at
		l.timer.Reset(at)
	}
}

// onTimer retransmits the SYN-ACKs that are due and gives up requests
// that ran out of retransmissions (silently, as Linux's request timer).
func (l *TCPListener) onTimer() {
	l.mu.Lock()
	now := l.s.clk.Now()
	l.armed = 0
	var next clock.Instant
	gaveUp := false
	for i := range l.syn.slots {
		e := &l.syn.slots[i]
		if !e.used || e.deadline.IsZero() {
			continue
		}
		if now.Before(e.deadline) {
			if next.IsZero() || e.deadline.Before(next) {
				next = e.deadline
			}
			continue
		}
		if e.timeouts >= synackRetries {
			l.stats.RequestsExpired++
			l.syn.remove(e)
			gaveUp = true
			continue
		}
		l.sendSYNACK(now, e, true)
		if next.IsZero() || e.deadline.Before(next) {
			next = e.deadline
		}
	}
	l.arm(next)
	if gaveUp && !l.prof.SYNACKBeforeAccept {
		l.acceptors.wakeAll(l.s.sched) // Accept answers the next SYN
	}
	l.mu.Unlock()
	l.out.flush(&l.mu)
}

// answerOldest is Accept under a profile without SYNACKBeforeAccept: if no
// handshake started by Accept is under way, answer the oldest queued SYN.
func (l *TCPListener) answerOldest() {
	var oldest *halfOpen
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
		l.sendSYNACK(l.s.clk.Now(), oldest, false)
	}
}
