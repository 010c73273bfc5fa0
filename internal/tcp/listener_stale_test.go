package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"

	"github.com/teardown-lab/teardown/profile"
)

// cookieConnect fills a listener's SYN queue with clients from 100 on and
// runs client 1's handshake on a cookie; it returns the cookie (the ISS).
func cookieConnect(h *lharness) seqnum.V32 {
	h.t.Helper()
	h.fillSYNQueue(100)
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	got := h.drain()
	if len(got) != 1 || got[0].to != 1 {
		h.t.Fatalf("sent %v: want a cookie to 1", got)
	}
	cookie := got[0].seq
	if !h.send(1, seg{flags: ACK, seq: clientISS(1) + 1, ack: cookie + 1}) {
		h.t.Fatal("the cookie's ACK did not make a connection")
	}
	h.wantAccept("the cookie connection", 1)
	return cookie
}

// The phantom connection (issue 13, item 7). Client 1's connection was
// made from a cookie and carried 5 bytes each way; the client closed
// first, our side then (LAST-ACK, CLOSED) and the host forgot it. The
// client, in TIME-WAIT, answers a retransmission of our FIN with its last
// ACK again: SEG.SEQ-1 and SEG.ACK-1 are both 6 past the handshake's, so
// the cookie checks out. It must draw RST, not a second connection.
func TestCookieMode_StaleACKAfterClose(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	cookie := cookieConnect(h)
	h.now = h.now.Add(time.Second) // the echo and the teardown
	const echoed = 5 + 1           // the bytes and the FIN
	stale := seg{flags: ACK, seq: clientISS(1) + 1 + echoed, ack: cookie + 1 + echoed}
	if h.send(1, stale) {
		t.Fatal("the stale ACK of a closed cookie connection made a new connection (phantom)")
	}
	h.wantSent("RFC 9293 §3.10.7.2: an ACK in LISTEN is answered <SEQ=SEG.ACK><CTL=RST>",
		out(1, seg{flags: RST, seq: stale.ack}))
	if st := h.stats(); st.StaleACKsReset != 1 || st.CookiesValidated != 1 || st.CookiesRejected != 0 {
		t.Fatalf("stats %+v: want it reset as stale before any cookie check", st)
	}
}

// A SYN on the 4-tuple begins a new incarnation: the listener forgets that
// the old one's cookie was used, and the new handshake completes on its
// own cookie.
func TestCookieMode_SYNAfterClose(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	cookieConnect(h)
	h.now = h.now.Add(time.Second)
	iss := clientISS(1) + 100000
	h.send(1, seg{flags: SYN, seq: iss})
	got := h.drain()
	if len(got) != 1 || got[0].flags != SYN|ACK {
		t.Fatalf("sent %v: want a cookie SYN-ACK", got)
	}
	if !h.send(1, seg{flags: ACK, seq: iss + 1, ack: got[0].seq + 1}) {
		t.Fatalf("stats %+v: the new incarnation's cookie ACK was refused", h.stats())
	}
	if st := h.stats(); st.CookiesValidated != 2 || st.StaleACKsReset != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// Two minutes after a cookie was used it has expired anyway: the tuple is
// forgotten, and an ACK on it is checked (and rejected) as a cookie.
func TestCookieMode_StaleACKAfterWindow(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	cookie := cookieConnect(h)
	for range 3 { // cookies still being sent: the listener stays in cookie mode
		h.now = h.now.Add(50 * time.Second)
		h.send(2, seg{flags: SYN, seq: clientISS(2)})
		h.drain()
	}
	stale := seg{flags: ACK, seq: clientISS(1) + 7, ack: cookie + 7}
	h.send(1, stale)
	h.wantSent("an expired cookie draws RST", out(1, seg{flags: RST, seq: stale.ack}))
	if st := h.stats(); st.StaleACKsReset != 0 || st.CookiesRejected != 1 {
		t.Fatalf("stats %+v: want the tuple forgotten and the cookie rejected", st)
	}
	if h.l.spent.n != 0 {
		t.Fatalf("%d tuples still remembered after the window", h.l.spent.n)
	}
}

// The memory is bounded: past spentMax cookie connections in the window
// the oldest tuple is forgotten, and counted.
func TestSpentFull_CookieConnection(t *testing.T) {
	var s spentCookies
	now := startTime
	for i := range spentMax + 1 {
		s.add(now, client(i))
	}
	if s.n != spentMax || len(s.index) != spentMax || s.evicted != 1 {
		t.Fatalf("n %d, index %d, evicted %d: want %d, %d, 1", s.n, len(s.index), s.evicted, spentMax, spentMax)
	}
	if s.has(now, client(0)) || !s.has(now, client(1)) || !s.has(now, client(spentMax)) {
		t.Fatal("want the oldest tuple forgotten, the others kept")
	}
}

func TestListen_SYNFIN(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN | FIN, seq: clientISS(0)})
	h.wantNothingMore("Linux drops SYN+FIN in LISTEN without an answer")
	if st := h.stats(); st.SYNFINsDropped != 1 || st.SYNQueue != 0 || st.SYNsReceived != 0 {
		t.Fatalf("stats %+v: want it dropped before it takes a slot", st)
	}
}
