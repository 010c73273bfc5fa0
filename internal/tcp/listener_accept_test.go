package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
)

// Connections queued but not yet accepted, cookies, Accept and Close.

func TestQueued_RST(t *testing.T) {
	cases := []struct {
		p        profile.Profile
		accepted bool
		why      string
	}{
		{profile.Linux, true, "Linux leaves a reset connection queued: accept returns it"},
		{profile.VOS171, false, "VOS 17.1: the reset removes it from the backlog, accept never sees it"},
	}
	for _, tc := range cases {
		t.Run(tc.p.Name, func(t *testing.T) {
			h := newListenHarness(t, tc.p, 4)
			h.connect(0)
			h.conns[0].HandleSegment(h.now, &Segment{Seq: clientISS(0) + 1, Flags: RST})
			released := h.report(0)
			if released == tc.accepted {
				t.Fatalf("%s: released = %v", tc.why, released)
			}
			if tc.accepted {
				h.wantAccept(tc.why, 0)
				return
			}
			h.wantNoAccept(tc.why)
			if st := h.stats(); st.QueuedResets != 1 || st.AcceptQueue != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

func TestQueued_DataFIN(t *testing.T) {
	holdOnly := profile.VOS171 // vos-legacy's pair: holds the FIN, no ACK at accept
	holdOnly.Name, holdOnly.DupACKAtAccept = "hold-fin-only", false
	cases := []struct {
		p      profile.Profile
		data   string
		dupACK bool
		why    string
	}{
		{profile.Linux, "abc", false, "Linux acknowledged the FIN at once: nothing at accept"},
		{profile.VOS171, "abc", true, "VOS 17.1 holds the FIN behind unread data and sends a duplicate ACK at accept"},
		{holdOnly, "abc", false, "a held FIN without DupACKAtAccept: nothing at accept"},
		{profile.VOS171, "", false, "VOS 17.1 acknowledged a FIN with no data before it: nothing held, nothing at accept"},
	}
	for _, tc := range cases {
		t.Run(tc.p.Name+"/"+map[bool]string{true: "data-fin", false: "fin"}[tc.data != ""], func(t *testing.T) {
			h := newListenHarness(t, tc.p, 4)
			h.connect(0)
			c := h.conns[0]
			c.HandleSegment(h.now, &Segment{Seq: clientISS(0) + 1, Ack: serverISS(0) + 1,
				Flags: FIN | ACK | PSH, Window: 8000, Payload: []byte(tc.data)})
			if h.report(0) {
				t.Fatal("a FIN leaves the connection queued")
			}
			got := h.wantAccept("data and FIN before accept", 0)
			if got.Accepted() != tc.dupACK {
				t.Fatalf("%s: Accepted() = %v", tc.why, !tc.dupACK)
			}
			var s Segment
			n := 0
			for c.NextSegment(h.now, &s) {
				n++
				if s.Flags != ACK || s.Ack != clientISS(0)+1+seqnumSize(len(tc.data)) {
					t.Fatalf("%s: sent %v, want an ACK of the data only", tc.why, fmtSegs([]Segment{s}))
				}
			}
			if want := map[bool]int{true: 1}[tc.dupACK]; n != want {
				t.Fatalf("%s: %d segments at accept, want %d", tc.why, n, want)
			}
		})
	}
}

func TestSYNQueueFull_CookieACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	queued := h.fillSYNQueue(100)
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	got := h.drain()
	if len(got) != 1 || got[0].to != 1 {
		t.Fatalf("sent %v: want a cookie to 1", got)
	}
	cookie := got[0].seq
	h.send(1, seg{flags: ACK, seq: clientISS(1) + 1, ack: cookie + 7})
	h.wantSent("RFC 4987 §3.6: an ACK that does not return the cookie draws RST",
		out(1, seg{flags: RST, seq: cookie + 7}))
	if h.stats().CookiesRejected != 1 {
		t.Fatalf("stats %+v", h.stats())
	}
	req, ok := h.l.HandleSegment(h.now, client(1), &Segment{Seq: clientISS(1) + 1, Ack: cookie + 1, Flags: ACK, Window: 8000}, 0)
	if !ok || req.ISS != cookie || req.IRS != clientISS(1) {
		t.Fatalf("HandleSegment = %+v, %v: the returned cookie rebuilds the request", req, ok)
	}
	if st := h.stats(); st.CookiesValidated != 1 || st.SYNQueue != queued {
		t.Fatalf("stats %+v: a cookie connection never took a SYN queue slot", st)
	}
}

func TestCookieWindow_ACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	h.fillSYNQueue(100)
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	cookie := h.drain()[0].seq
	h.now = h.now.Add(3 * time.Minute)
	h.send(1, seg{flags: ACK, seq: clientISS(1) + 1, ack: cookie + 1})
	h.wantSent("two minutes after the last cookie an ACK is not checked as one: RST",
		out(1, seg{flags: RST, seq: cookie + 1}))
	if h.stats().CookiesRejected != 0 {
		t.Fatalf("stats %+v: not checked, so not rejected", h.stats())
	}
}

func TestCookieAcceptFull_ACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 1)
	h.connect(0)
	h.connect(1) // the accept queue holds 2 > 1: full
	h.l.Accept(h.now)
	h.send(2, seg{flags: SYN, seq: clientISS(2)})
	h.fillSYNQueue(100)
	h.send(3, seg{flags: SYN, seq: clientISS(3)})
	got := h.drain()
	if len(got) != 1 || got[0].to != 3 || h.stats().CookiesSent != 1 {
		t.Fatalf("sent %v: want a cookie to 3", got)
	}
	h.send(2, finalACK(2)) // the accept queue is full again
	if h.send(3, seg{flags: ACK, seq: clientISS(3) + 1, ack: got[0].seq + 1}) {
		t.Fatal("a valid cookie ACK must not complete while the accept queue is full")
	}
	h.wantNothingMore("Linux drops it: the client's next segment brings the cookie back")
	if st := h.stats(); st.AcceptOverflows != 1 || st.CookiesValidated != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLegacy_Accept(t *testing.T) {
	h := newListenHarness(t, profile.VOSLegacy, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	h.send(1, finalACK(1))
	h.wantSent("an ACK for a SYN not yet answered is bad", out(1, seg{flags: RST, seq: serverISS(1) + 1}))
	h.wantNoAccept("nothing established")
	h.wantSent("Accept answers the oldest SYN", synACK(0))
	h.wantNoAccept("waiting for that handshake")
	h.wantNothingMore("one handshake at a time")
	h.send(0, finalACK(0))
	h.wantEvents("the connection is ready", ListenReady)
	h.wantAccept("the handshake Accept started", 0)
	h.wantNoAccept("next")
	h.wantSent("Accept answers the next SYN", synACK(1))
	h.send(1, seg{flags: RST, seq: clientISS(1) + 1})
	h.wantEvents("the request Accept waits for is gone: Accept answers the next", ListenRequestGone)
}

func TestClosed_SYN(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.connect(0)
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	h.drain()
	pending := h.l.Close()
	if len(pending) != 1 || pending[0] != h.conns[0] {
		t.Fatalf("Close returned %v: the queued connection is the host's to reset", pending)
	}
	h.send(2, seg{flags: SYN, seq: clientISS(2)})
	h.wantSent("a closed listener refuses a SYN", out(2, seg{flags: RST | ACK, ack: clientISS(2) + 1}))
	h.send(1, finalACK(1))
	h.wantSent("the half-open request was forgotten", out(1, seg{flags: RST, seq: serverISS(1) + 1}))
	if d := h.l.NextDeadline(); !d.IsZero() {
		t.Fatalf("deadline %v after Close", d)
	}
}
