package tcp

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/profile"
)

// listenRules is what a host takes from a profile (stack.listenConfig).
func listenRules(p profile.Profile, backlog int) ListenConfig {
	return ListenConfig{
		Backlog:              backlog,
		SYNACKBeforeAccept:   p.SYNACKBeforeAccept,
		RSTOnFullBacklog:     p.RSTOnFullBacklog,
		SeparateSYNQueue:     p.SeparateSYNQueue,
		AcceptQueueExtraSlot: p.AcceptQueueExtraSlot,
		SYNQueueExtraSlot:    p.SYNQueueExtraSlot,
		SYNCookies:           p.SYNCookies,
		AcceptReturnsReset:   p.AcceptReturnsReset,
	}
}

// lharness drives a Listener whose connection handles are the Conns
// themselves, against scripted clients numbered from 0.
type lharness struct {
	t     *testing.T
	l     *Listener[*Conn]
	now   clock.Instant
	cfg   *Config
	conns map[int]*Conn // connections made from completed handshakes
}

// newListenHarness makes a Listener with the rules of p and backlog n;
// mods adjust the ListenConfig.
func newListenHarness(t *testing.T, p profile.Profile, n int, mods ...func(*ListenConfig)) *lharness {
	cc := testConfig()
	cc.Profile = p
	h := &lharness{t: t, now: startTime, cfg: cc.Share(), conns: map[int]*Conn{}}
	lc := listenRules(p, n)
	lc.Conn4 = h.cfg
	for _, m := range mods {
		m(&lc)
	}
	newListener := NewListener[*Conn] // called apart: docs/refs_test.go would read the call as a Markdown link
	h.l = newListener(lc)
	return h
}

var listenAddr = netip.MustParseAddrPort("192.0.2.1:80")

// client i's tuple, and its ISS.
func client(i int) Tuple {
	return Tuple{Local: listenAddr, Remote: netip.AddrPortFrom(netip.MustParseAddr("192.0.2.2"), uint16(40000+i))}
}
func clientISS(i int) seqnum.V32 { return remoteISS + seqnum.V32(i)*1000 }
func serverISS(i int) seqnum.V32 { return localISS + seqnum.V32(i)*1000 }

// send hands the Listener a segment from client i; the ISS offered is
// serverISS(i). When it completes a handshake, the connection is made and
// given the segment as a host would, and reported back to the Listener.
func (h *lharness) send(i int, s seg) (completed bool) {
	h.t.Helper()
	w := s.window
	if w == 0 && s.flags&RST == 0 {
		w = 8000
	}
	in := &Segment{Seq: s.seq, Ack: s.ack, Flags: s.flags, Window: w, Payload: []byte(s.payload)}
	req, ok := h.l.HandleSegment(h.now, client(i), in, serverISS(i))
	if !ok {
		return false
	}
	c := NewFromRequest(h.now, h.cfg, &req)
	h.conns[i] = c
	h.l.Joining(c)
	c.HandleSegment(h.now, in)
	h.report(i)
	return true
}

// report tells the Listener what connection i's core says happened.
func (h *lharness) report(i int) (released bool) {
	c := h.conns[i]
	ev := c.TakeEvents()
	const ended = EventReset | EventTimeout | EventClosed
	var s Segment
	for c.NextSegment(h.now, &s) { // the Conn's own answers are not the Listener's
	}
	if ev&(EventEstablished|ended) == 0 {
		return false
	}
	return h.l.ConnChanged(c, ev&EventEstablished != 0, ev&ended != 0)
}

// connect runs client i's whole handshake; it must be let in.
func (h *lharness) connect(i int) {
	h.t.Helper()
	h.send(i, seg{flags: SYN, seq: clientISS(i)})
	h.wantSent("SYN-ACK", out(i, seg{flags: SYN | ACK, seq: serverISS(i), ack: clientISS(i) + 1}))
	if !h.send(i, seg{flags: ACK, seq: clientISS(i) + 1, ack: serverISS(i) + 1}) {
		h.t.Fatalf("client %d: the final ACK did not complete the handshake", i)
	}
}

// advance moves time forward by d and runs the timer if it is due.
func (h *lharness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	if dl := h.l.NextDeadline(); !dl.IsZero() && !h.now.Before(dl) {
		h.l.HandleTimer(h.now)
		checkTimerMoved(h.t, h.l.NextDeadline(), h.now, "listener")
	}
}

// sent is a segment the Listener sent to client i.
type sent struct {
	to int
	seg
}

func out(i int, s seg) sent { return sent{i, s} }

func (s sent) String() string { return fmt.Sprintf("to %d %v", s.to, s.seg) }

// drain returns what the Listener has to send.
func (h *lharness) drain() []sent {
	var got []sent
	var t Tuple
	var s Segment
	for h.l.NextSegment(&t, &s) {
		got = append(got, sent{int(t.Remote.Port()) - 40000, seg{flags: s.Flags, seq: s.Seq, ack: s.Ack, window: s.Window}})
	}
	return got
}

// wantSent asserts that exactly these segments are sent now, in order (a
// zero ack is checked only with ACK in the flags).
func (h *lharness) wantSent(reason string, want ...sent) {
	h.t.Helper()
	got := h.drain()
	if len(got) != len(want) {
		h.t.Fatalf("%s: sent %v, want %v", reason, got, want)
	}
	for i, w := range want {
		g := got[i]
		if g.to != w.to || g.flags != w.flags || g.seq != w.seq || (w.flags&ACK != 0 && g.ack != w.ack) {
			h.t.Fatalf("%s: segment %d = %v, want %v", reason, i, g, w)
		}
	}
}

func (h *lharness) wantNothingMore(reason string) {
	h.t.Helper()
	h.wantSent(reason)
}

// wantAccept asserts that Accept returns client i's connection.
func (h *lharness) wantAccept(reason string, i int) *Conn {
	h.t.Helper()
	c, ok := h.l.Accept(h.now)
	if !ok || c != h.conns[i] {
		h.t.Fatalf("%s: Accept = %p, %v; want client %d's %p", reason, c, ok, i, h.conns[i])
	}
	return c
}

// wantNoAccept asserts that Accept has nothing to return.
func (h *lharness) wantNoAccept(reason string) {
	h.t.Helper()
	if c, ok := h.l.Accept(h.now); ok {
		h.t.Fatalf("%s: Accept returned %p", reason, c)
	}
}

func (h *lharness) wantEvents(reason string, want ListenEvents) {
	h.t.Helper()
	if got := h.l.TakeEvents(); got != want {
		h.t.Fatalf("%s: events %b, want %b", reason, got, want)
	}
}

func (h *lharness) stats() ListenStats { return h.l.Stats() }

// fillSYNQueue sends SYNs from clients from, from+1, ... until the SYN
// queue is full (backlog, or backlog+1 under SYNQueueExtraSlot), drains
// the SYN-ACKs they drew and returns how many requests it queued.
func (h *lharness) fillSYNQueue(from int) int {
	h.t.Helper()
	n := 0
	for ; !h.l.syn.full(); n++ {
		if n > len(h.l.syn.slots) {
			h.t.Fatalf("%d SYNs did not fill a SYN queue of %d", n, len(h.l.syn.slots))
		}
		h.send(from+n, seg{flags: SYN, seq: clientISS(from + n)})
	}
	h.drain()
	return n
}
