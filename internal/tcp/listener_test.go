package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
)

// The backlog's rules (docs/backlog.md), one event at a time. Clients are
// numbered; client i's SYN carries clientISS(i) and the Listener answers
// with serverISS(i).

func synACK(i int) sent {
	return out(i, seg{flags: SYN | ACK, seq: serverISS(i), ack: clientISS(i) + 1})
}
func finalACK(i int) seg { return seg{flags: ACK, seq: clientISS(i) + 1, ack: serverISS(i) + 1} }

func TestListen_SYN(t *testing.T) {
	for _, p := range []profile.Profile{profile.Linux, profile.VOS171} {
		t.Run(p.Name, func(t *testing.T) {
			h := newListenHarness(t, p, 4)
			h.send(0, seg{flags: SYN, seq: clientISS(0)})
			h.wantSent("RFC 9293 §3.10.7.2: a SYN to LISTEN is answered with SYN-ACK", synACK(0))
			if st := h.stats(); st.SYNQueue != 1 || st.SYNACKsSent != 1 {
				t.Fatalf("stats %+v: want one request queued, one SYN-ACK", st)
			}
		})
	}
	t.Run(profile.VOSLegacy.Name, func(t *testing.T) {
		h := newListenHarness(t, profile.VOSLegacy, 4)
		h.send(0, seg{flags: SYN, seq: clientISS(0)})
		h.wantNothingMore("VOS before 17.1 answers a SYN only at accept")
		h.wantNoAccept("no connection before the handshake")
		h.wantSent("Accept answers the queued SYN", synACK(0))
	})
}

func TestListen_RST(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: RST, seq: clientISS(0)})
	h.wantNothingMore("RFC 9293 §3.10.7.2: an RST to LISTEN is ignored")
}

func TestListen_StrayACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: ACK, seq: 5, ack: 77})
	h.wantSent("RFC 9293 §3.10.7.2: any acknowledgment to LISTEN is bad: <SEQ=SEG.ACK><CTL=RST>",
		out(0, seg{flags: RST, seq: 77}))
	if st := h.stats(); st.CookiesRejected != 0 || st.RSTsSent != 1 {
		t.Fatalf("stats %+v: with no cookie sent lately the ACK is not checked as one", st)
	}
}

func TestSYNQueueFull_SYN(t *testing.T) {
	cases := []struct {
		p         profile.Profile
		noCookies bool
		want      []sent
		why       string
	}{
		{profile.Linux, false, nil, "a SYN cookie (RFC 4987 §3.6)"},
		{profile.Linux, true, nil, "tcp_syncookies=0: dropped in silence"},
		{profile.VOS171, false, nil, "dropped in silence: the client retransmits"},
		{profile.VOSLegacy, false, []sent{out(2, seg{flags: RST | ACK, ack: clientISS(2) + 1})},
			"VOS before 17.1 refuses with RST"},
	}
	for _, tc := range cases {
		name := tc.p.Name
		if tc.noCookies {
			name += "/no-cookies"
		}
		t.Run(name, func(t *testing.T) {
			const backlog = 2
			h := newListenHarness(t, tc.p, backlog, func(c *ListenConfig) { c.SYNCookies = c.SYNCookies && !tc.noCookies })
			// Linux holds backlog+1 half-open requests
			// (inet_csk_reqsk_queue_is_full compares with >); the
			// kernel's syn_cookies.pkt answers a second SYN to
			// listen(fd, 1) normally.
			size := backlog
			if tc.p.SYNQueueExtraSlot {
				size++
			}
			for i := range size {
				h.send(i, seg{flags: SYN, seq: clientISS(i)})
			}
			if got := h.drain(); tc.p.SYNACKBeforeAccept && len(got) != size {
				t.Fatalf("sent %v: want %d SYN-ACKs before the SYN queue is full", got, size)
			}
			if st := h.stats(); st.SYNQueue != size {
				t.Fatalf("stats %+v: want %d requests queued", st, size)
			}
			h.send(size, seg{flags: SYN, seq: clientISS(size)})
			if tc.p.SYNCookies && !tc.noCookies {
				got := h.drain()
				if len(got) != 1 || got[0].to != size || got[0].flags != SYN|ACK || got[0].ack != clientISS(size)+1 {
					t.Fatalf("%s: sent %v, want one SYN-ACK to client %d", tc.why, got, size)
				}
				if st := h.stats(); st.CookiesSent != 1 || st.SYNQueue != size {
					t.Fatalf("stats %+v: a cookie keeps nothing", st)
				}
				return
			}
			h.wantSent(tc.why, tc.want...)
			if st := h.stats(); st.SYNsDropped != 1 || st.SYNQueue != size {
				t.Fatalf("stats %+v: want the SYN counted as dropped, the queue unchanged", st)
			}
		})
	}
}

func TestSynReceived_ACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.wantSent("SYN-ACK", synACK(0))
	if !h.send(0, finalACK(0)) {
		t.Fatal("RFC 9293 §3.10.7.4: the ACK of our SYN-ACK completes the handshake")
	}
	h.wantEvents("the connection is ready to accept", ListenReady)
	h.wantNothingMore("the final ACK draws nothing from the listener")
	c := h.wantAccept("established, queued", 0)
	if c.State() != Established {
		t.Fatalf("state %v, want ESTABLISHED", c.State())
	}
	if st := h.stats(); st.SYNQueue != 0 || st.AcceptQueue != 0 || st.Accepted != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSynReceived_ACKWithData(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.drain()
	fin := finalACK(0)
	fin.flags |= PSH
	fin.payload = "hello"
	h.send(0, fin)
	c := h.wantAccept("the ACK with data completed the handshake", 0)
	b := make([]byte, 16)
	if n, err := c.Read(h.now, b); string(b[:n]) != "hello" || err != nil {
		t.Fatalf("Read = %q, %v: the data of the completing segment must be kept", b[:n], err)
	}
}

func TestSynReceived_BadACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.drain()
	h.send(0, seg{flags: ACK, seq: clientISS(0) + 1, ack: serverISS(0) + 7})
	h.wantSent("RFC 9293 §3.10.7.4: an unacceptable ACK in SYN-RECEIVED draws <SEQ=SEG.ACK><CTL=RST>",
		out(0, seg{flags: RST, seq: serverISS(0) + 7}))
	if st := h.stats(); st.SYNQueue != 1 {
		t.Fatalf("stats %+v: the request stays", st)
	}
}

func TestSynReceived_RST(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.drain()
	h.send(0, seg{flags: RST, seq: clientISS(0) + 5})
	if st := h.stats(); st.SYNQueue != 1 {
		t.Fatalf("stats %+v: an RST off RCV.NXT is ignored", st)
	}
	h.send(0, seg{flags: RST, seq: clientISS(0) + 1})
	h.wantNothingMore("an RST is never answered")
	if st := h.stats(); st.SYNQueue != 0 || st.RequestsReset != 1 {
		t.Fatalf("stats %+v: RFC 9293 §3.10.7.4: an RST at RCV.NXT returns to LISTEN", st)
	}
	h.wantEvents("Linux answers at the SYN: nothing for Accept", 0)
}

func TestSynReceived_SYNRetransmit(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.drain()
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.wantSent("a retransmitted SYN: our SYN-ACK was lost, send it again", synACK(0))
	h.send(0, seg{flags: SYN, seq: clientISS(0) + 99})
	h.wantNothingMore("a SYN with another ISN on a queued tuple is dropped")
	if st := h.stats(); st.SYNACKRetransmits != 1 || st.SYNsReceived != 3 || st.SYNQueue != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSynReceived_Timer(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 4)
	h.send(0, seg{flags: SYN, seq: clientISS(0)})
	h.drain()
	for i, gap := range []time.Duration{1, 2, 4, 8, 16} {
		if want := h.now.Add(gap * time.Second); h.l.NextDeadline() != want {
			t.Fatalf("retransmission %d: deadline %v, want %v (1 s doubling, Linux's request timer)", i+1, h.l.NextDeadline(), want)
		}
		h.advance(gap * time.Second)
		h.wantSent("the request timer resends the SYN-ACK", synACK(0))
	}
	h.advance(32 * time.Second)
	h.wantNothingMore("after tcp_synack_retries (5) the request is given up in silence")
	if st := h.stats(); st.SYNQueue != 0 || st.RequestsExpired != 1 || st.SYNACKRetransmits != 5 {
		t.Fatalf("stats %+v", st)
	}
	if d := h.l.NextDeadline(); !d.IsZero() {
		t.Fatalf("deadline %v with nothing queued", d)
	}
}

// fillAcceptQueue leaves Linux's accept queue full (backlog 2: three
// queued, sk_acceptq_is_full compares with >) with client 3's SYN answered
// and its final ACK not yet sent.
func fillAcceptQueue(h *lharness) {
	h.t.Helper()
	h.connect(0)
	h.connect(1)
	h.send(2, seg{flags: SYN, seq: clientISS(2)})
	h.send(3, seg{flags: SYN, seq: clientISS(3)})
	h.wantSent("both SYNs answered: the accept queue has room", synACK(2), synACK(3))
	h.send(2, finalACK(2))
	if st := h.stats(); st.AcceptQueue != 3 {
		h.t.Fatalf("stats %+v: Linux queues backlog+1", st)
	}
}

func TestAcceptQueueFull_ACK(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 2)
	fillAcceptQueue(h)
	if h.send(3, finalACK(3)) {
		t.Fatal("a final ACK that finds the accept queue full must not complete the handshake")
	}
	h.wantNothingMore("Linux drops the final ACK (listen_overflow)")
	if st := h.stats(); st.AcceptOverflows != 1 || st.SYNQueue != 1 {
		t.Fatalf("stats %+v: the request is kept", st)
	}
	h.advance(time.Second)
	h.wantSent("the kept request's SYN-ACK is retransmitted", synACK(3))
	h.wantAccept("oldest first", 0)
	if !h.send(3, finalACK(3)) {
		t.Fatal("after an accept the client's next ACK finds room")
	}
}

func TestAcceptQueueFull_ACKAbortOnOverflow(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 2, func(c *ListenConfig) { c.AbortOnOverflow = true })
	fillAcceptQueue(h)
	h.send(3, finalACK(3))
	h.wantSent("tcp_abort_on_overflow=1: the final ACK is answered with RST",
		out(3, seg{flags: RST, seq: serverISS(3) + 1}))
	if st := h.stats(); st.SYNQueue != 0 || st.AcceptOverflows != 1 {
		t.Fatalf("stats %+v: the request is gone", st)
	}
}

func TestAcceptQueueFull_SYN(t *testing.T) {
	h := newListenHarness(t, profile.Linux, 2)
	fillAcceptQueue(h)
	h.send(4, seg{flags: SYN, seq: clientISS(4)})
	h.wantNothingMore("Linux drops a SYN while the accept queue is full, cookies or not")
	if st := h.stats(); st.AcceptOverflows != 1 || st.SYNsDropped != 1 || st.CookiesSent != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestOneBacklog_SYN(t *testing.T) {
	h := newListenHarness(t, profile.VOS171, 2)
	h.connect(0)
	h.send(1, seg{flags: SYN, seq: clientISS(1)})
	h.wantSent("one place left in the one backlog", synACK(1))
	h.send(2, seg{flags: SYN, seq: clientISS(2)})
	h.wantNothingMore("VOS 17.1: a half-open and a queued connection fill a backlog of 2; the SYN is dropped")
	if !h.send(1, finalACK(1)) {
		t.Fatal("a SYN answered has its place reserved: its final ACK always finds room")
	}
}
