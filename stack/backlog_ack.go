package stack

import (
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// handleHalfOpen is SEGMENT ARRIVES for a queued half-open request (RFC
// 9293 §3.10.7.4 in SYN-RECEIVED, reduced to what a request can meet).
func (l *TCPListener) handleHalfOpen(tuple fourTuple, seg *tcp.Segment) {
	l.mu.Lock()
	e := l.syn.lookup(tuple)
	if e == nil || l.closed {
		l.mu.Unlock()
		return
	}
	next := e.req.IRS.Add(1)
	switch {
	case seg.Flags.Has(wire.RST):
		// An RST at RCV.NXT ends the request: "return to LISTEN" (RFC 9293
		// §3.10.7.4 second check, passive open).
		if seg.Seq == next {
			l.stats.RequestsReset++
			l.syn.remove(e)
			if !l.prof.SYNACKBeforeAccept {
				l.acceptors.wakeAll(l.s.sched)
			}
		}
		l.mu.Unlock()
		return
	case seg.Flags.Has(wire.SYN):
		l.mu.Unlock()
		l.handleSYN(tuple, seg, l.s.isn.ISN(l.s.clk.Now(), tuple.local, tuple.remote)) // a retransmitted SYN
		return
	case !seg.Flags.Has(wire.ACK):
		l.mu.Unlock()
		return
	}
	if !e.answered || seg.Ack != e.req.ISS.Add(1) {
		// Not the ACK of a SYN-ACK we sent: <SEQ=SEG.ACK><CTL=RST>.
		l.rst(tuple, seg)
		l.mu.Unlock()
		l.out.flush(&l.mu)
		return
	}
	if seg.Seq.Sub(next) < 0 || seg.Seq.Sub(next) > 65535 {
		l.mu.Unlock() // not in the window of our SYN-ACK: drop
		return
	}
	if l.prof.SeparateSYNQueue && l.acceptFull() {
		// Linux (tcp_check_req, listen_overflow): the final ACK is
		// dropped and the request kept, so the SYN-ACK is retransmitted
		// and a later ACK may find room; with tcp_abort_on_overflow the
		// client is told with RST instead.
		l.stats.AcceptOverflows++
		if l.opts.AbortOnOverflow {
			l.syn.remove(e)
			l.rst(tuple, seg)
		} else {
			e.acked = true
		}
		l.mu.Unlock()
		l.out.flush(&l.mu)
		return
	}
	req := e.req
	l.syn.remove(e)
	l.mu.Unlock()
	l.establish(tuple, &req, seg)
}

// handleBareACK takes an ACK that matched no connection and no request:
// the return of a SYN cookie (RFC 4987 §3.6) if cookies were sent lately
// and it checks out, otherwise RST (RFC 9293 §3.10.7.2, LISTEN: "any
// acknowledgment is bad").
func (l *TCPListener) handleBareACK(tuple fourTuple, seg *tcp.Segment) {
	now := l.s.clk.Now()
	l.mu.Lock()
	recent := !l.lastCookie.IsZero() && now.Sub(l.lastCookie) < cookieWindow
	if l.closed || !recent || seg.Flags.Has(wire.SYN) {
		l.rst(tuple, seg)
		l.mu.Unlock()
		l.out.flush(&l.mu)
		return
	}
	cfg := l.s.tcpConfig(tuple.local.Addr())
	req, ok := l.jar.Check(now, cfg, tuple.local, tuple.remote, seg)
	switch {
	case !ok:
		l.stats.CookiesRejected++
		l.rst(tuple, seg)
	case l.acceptFull():
		// Linux drops a valid cookie ACK while the accept queue is full:
		// the client's next segment brings the cookie back again.
		l.stats.AcceptOverflows++
	default:
		l.stats.CookiesValidated++
		l.mu.Unlock()
		l.establish(tuple, &req, seg)
		return
	}
	l.mu.Unlock()
	l.out.flush(&l.mu)
}

// establish makes the connection of a request whose handshake the segment
// seg completes, and hands seg to it: the core takes it from SYN-RECEIVED
// to ESTABLISHED and processes its data and FIN; the connection then
// joins the accept queue (connEvent).
func (l *TCPListener) establish(tuple fourTuple, req *tcp.Request, seg *tcp.Segment) {
	s := l.s
	now := s.clk.Now()
	s.mu.Lock()
	if _, taken := s.conns[tuple]; taken || s.closed {
		s.mu.Unlock()
		return
	}
	c := s.newConn(tuple, func(cfg *tcp.Config) *tcp.Conn { return tcp.NewFromRequest(now, cfg, req) })
	s.conns[tuple] = c
	s.mu.Unlock()

	l.mu.Lock()
	l.building = append(l.building, c)
	l.mu.Unlock()
	c.mu.Lock()
	c.listener = l
	c.core.HandleSegment(now, seg)
	c.process()
	c.mu.Unlock()
}
