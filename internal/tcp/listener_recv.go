package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// handleSYN queues a SYN with initial sequence number iss, or answers it
// with a cookie, or drops or refuses it, as the backlog and the rules
// decide (RFC 9293 §3.10.7.2 "fourth check for a SYN"; RFC 4987).
func (l *Listener[C]) handleSYN(now clock.Instant, t Tuple, seg *Segment, iss seqnum.V32) {
	if l.closed {
		l.rst(t, seg)
		return
	}
	l.stats.SYNsReceived++
	l.spent.forget(t) // a new incarnation of the 4-tuple
	if e := l.syn.lookup(t); e != nil {
		// A retransmitted SYN: our SYN-ACK was lost (Linux resends it).
		if e.answered && seg.Seq == e.req.IRS {
			l.sendSYNACK(now, e, false)
		}
		return
	}
	cfg := l.connConfig(t.Local)
	switch {
	case !l.cfg.SeparateSYNQueue:
		// One backlog counts half-open and queued connections alike.
		if l.syn.used+len(l.building)+len(l.acceptQ) >= l.cfg.Backlog || l.syn.full() {
			l.refuse(t, seg)
			return
		}
	case l.acceptFull():
		// Linux drops a SYN while the accept queue is full, cookies or not
		// (tcp_conn_request: ListenOverflows).
		l.stats.AcceptOverflows++
		l.refuse(t, seg)
		return
	case l.syn.full():
		if !l.cfg.SYNCookies {
			l.refuse(t, seg)
			return
		}
		req, tsVal := l.jar.Make(now, cfg, t.Local, t.Remote, seg)
		var out Segment
		req.FillSYNACK(cfg, tsVal, &out)
		l.emit(t, &out)
		l.stats.CookiesSent++
		l.lastCookie = now
		return
	}
	e := l.syn.add(t, NewRequest(cfg, iss, l.jar.TSOffset(t.Local, t.Remote), seg))
	if l.cfg.SYNACKBeforeAccept {
		l.sendSYNACK(now, e, false)
	}
	// else: the SYN waits, unanswered, until Accept takes it (vos-legacy).
}

// refuse drops a SYN that found the backlog full, or answers it with RST
// under RSTOnFullBacklog (the seed: "once the backlog queue filled STCP
// would send a reset in response to a connection request").
func (l *Listener[C]) refuse(t Tuple, seg *Segment) {
	l.stats.SYNsDropped++
	if l.cfg.RSTOnFullBacklog {
		l.rst(t, seg)
	}
}

// acceptFull reports whether the accept queue is full (connections whose
// final ACK is being processed count as queued).
func (l *Listener[C]) acceptFull() bool {
	n := len(l.acceptQ) + len(l.building)
	if l.cfg.AcceptQueueExtraSlot {
		return n > l.cfg.Backlog // Linux sk_acceptq_is_full
	}
	return n >= l.cfg.Backlog
}

// rst queues the RFC 9293 §3.10.7.1 answer to seg.
func (l *Listener[C]) rst(t Tuple, seg *Segment) {
	if r, ok := RSTFor(seg); ok {
		l.emit(t, &r)
		l.stats.RSTsSent++
	}
}

// halfOpen is SEGMENT ARRIVES for a queued half-open request (RFC 9293
// §3.10.7.4 in SYN-RECEIVED, reduced to what a request can meet).
func (l *Listener[C]) halfOpen(now clock.Instant, e *synEntry, seg *Segment, iss seqnum.V32) (Request, bool) {
	next := e.req.IRS.Add(1)
	switch {
	case seg.Flags.Has(wire.RST):
		// An RST at RCV.NXT ends the request: "return to LISTEN" (RFC 9293
		// §3.10.7.4 second check, passive open).
		if seg.Seq == next {
			l.stats.RequestsReset++
			l.syn.remove(e)
			l.requestGone()
		}
		return Request{}, false
	case seg.Flags.Has(wire.SYN):
		l.handleSYN(now, e.tuple, seg, iss) // a retransmitted SYN
		return Request{}, false
	case !seg.Flags.Has(wire.ACK):
		return Request{}, false
	}
	if !e.answered || seg.Ack != e.req.ISS.Add(1) {
		// Not the ACK of a SYN-ACK we sent: <SEQ=SEG.ACK><CTL=RST>.
		l.rst(e.tuple, seg)
		return Request{}, false
	}
	if off := seg.Seq.Sub(next); off < 0 || off > 65535 {
		return Request{}, false // not in the window of our SYN-ACK: drop
	}
	if l.cfg.SeparateSYNQueue && l.acceptFull() {
		// Linux (tcp_check_req, listen_overflow): the final ACK is
		// dropped and the request kept, so the SYN-ACK is retransmitted
		// and a later ACK may find room; with tcp_abort_on_overflow the
		// client is told with RST instead.
		l.stats.AcceptOverflows++
		if l.cfg.AbortOnOverflow {
			t := e.tuple
			l.syn.remove(e)
			l.rst(t, seg)
		}
		return Request{}, false
	}
	req := e.req
	l.syn.remove(e)
	return req, true
}

// bareACK takes an ACK that matched no connection and no request: the
// return of a SYN cookie (RFC 4987 §3.6) if cookies were sent lately and
// it checks out, otherwise RST (RFC 9293 §3.10.7.2, LISTEN: "any
// acknowledgment is bad").
func (l *Listener[C]) bareACK(now clock.Instant, t Tuple, seg *Segment) (Request, bool) {
	recent := !l.lastCookie.IsZero() && now.Sub(l.lastCookie) < cookieWindow
	if l.closed || !recent || seg.Flags.Has(wire.SYN) {
		l.rst(t, seg)
		return Request{}, false
	}
	if l.spent.has(now, t) {
		// This tuple's cookie already made a connection, which has
		// ended: a stray ACK of it, not a cookie (listener_spent.go).
		l.stats.StaleACKsReset++
		l.rst(t, seg)
		return Request{}, false
	}
	req, ok := l.jar.Check(now, l.connConfig(t.Local), t.Local, t.Remote, seg)
	switch {
	case !ok:
		l.stats.CookiesRejected++
		l.rst(t, seg)
	case l.acceptFull():
		// Linux drops a valid cookie ACK while the accept queue is full:
		// the client's next segment brings the cookie back again.
		l.stats.AcceptOverflows++
	default:
		l.stats.CookiesValidated++
		l.spent.add(now, t)
		return req, true
	}
	return Request{}, false
}

// requestGone notes that a half-open request left the SYN queue without
// completing: where Accept answers SYNs, a waiting Accept answers the
// next one.
func (l *Listener[C]) requestGone() {
	if !l.cfg.SYNACKBeforeAccept {
		l.events |= ListenRequestGone
	}
}
