package tcp

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// useQuickACKs receives one-byte segments from seq on until one is not
// acknowledged at once: quick ACK mode is over. It returns the next seq.
func (h *harness) useQuickACKs(seq seqnum.V32) seqnum.V32 {
	h.t.Helper()
	for i := 0; ; i++ {
		if i > maxQuickAcks {
			h.t.Fatalf("more than %d quick ACKs", maxQuickAcks)
		}
		h.recv(seg{flags: ACK | PSH, seq: seq, ack: localISS + 1, payload: "q"})
		seq++
		if len(h.drain()) == 0 {
			return seq
		}
	}
}

func TestEstablished_DelayedACK(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "a"})
	h.wantSent("quick ACK mode at the first data (Linux tcp_event_data_recv)",
		seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 2})
	seq := h.useQuickACKs(remoteISS + 2)
	// RFC 9293 §3.8.6.3: the ACK may wait.
	if d := h.c.NextDeadline().Sub(h.now); d != 40*time.Millisecond {
		t.Fatalf("delayed-ACK deadline in %v, want 40 ms", d)
	}
	h.advance(40 * time.Millisecond)
	h.wantSent("delayed ACK timer", seg{flags: ACK, seq: localISS + 1, ack: seq})
	h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: "b"})
	h.recv(seg{flags: ACK, seq: seq + 1, ack: localISS + 1, payload: "c"})
	h.wantSent("more than one full-sized segment unacknowledged: at once", seg{flags: ACK, seq: localISS + 1, ack: seq + 2})
}

// A segment longer than the MSS we announced is several of the peer's,
// coalesced on the way in (a TUN device hands over the kernel's GRO
// super-packets whole): it is ACKed at once, as Linux ACKs a GRO packet
// (tcp_measure_rcv_mss takes its gso_size, never more than the advertised
// MSS; Linux also asks that its window can still advance, which a reader
// that keeps up gives). Taking its length as the peer's segment size made
// every second one wait: half the ACKs a Linux sender's BBR expects, and
// tun-recv fell to 0.85–0.89× gVisor.
func TestEstablished_CoalescedSegmentACKedAtOnce(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.RecvBuffer = 1 << 20 })
	mss := h.c.cfg.MSS
	full := strings.Repeat("f", mss)
	seq := remoteISS + 1
	for i := 0; ; i++ { // full-sized segments until quick ACK mode ends
		if i > maxQuickAcks {
			t.Fatalf("more than %d quick ACKs", maxQuickAcks)
		}
		h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: full})
		seq += seqnum.V32(mss)
		if len(h.drain()) == 0 {
			break
		}
	}
	h.advance(40 * time.Millisecond)
	h.wantSent("delayed ACK", seg{flags: ACK, seq: localISS + 1, ack: seq})
	for range 3 {
		super := strings.Repeat("g", 10*mss)
		h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: super})
		seq += seqnum.V32(len(super))
		h.wantSent("ten segments in one: at once", seg{flags: ACK, seq: localISS + 1, ack: seq})
	}
	h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: full})
	h.wantNothingMore() // one full-sized segment alone may still wait
}

// With timestamps the peer's full-sized segment is 12 bytes short of the
// MSS we announced (the option rides on every segment; Linux lowers its
// advmss by as much). A super-packet must leave the estimate there, not
// at the announced MSS: otherwise each full segment after it counts as
// short, and is ACKed as the end of a burst as soon as it is read.
func TestEstablished_CoalescedSegmentThenFullSegmentsWithTimestamps(t *testing.T) {
	h := newHarnessPeer(t, Established, wire.TCPOptions{HasTimestamp: true, TSVal: 100},
		func(c *Config) { c.NoTimestamps, c.RecvBuffer = false, 1<<20 })
	if !h.c.tsOK {
		t.Fatal("timestamps not agreed")
	}
	full := h.c.cfg.MSS - wire.TCPTimestampRoom
	seq, tsv := remoteISS+1, uint32(101)
	send := func(n int) int {
		h.recvSeg(&Segment{Seq: seq, Ack: localISS + 1, Flags: ACK, Window: 8000, Payload: make([]byte, n),
			Options: wire.TCPOptions{HasTimestamp: true, TSVal: tsv}})
		seq += seqnum.V32(n)
		tsv++
		return len(h.drain())
	}
	for i := 0; send(full) > 0; i++ { // full-sized segments until quick ACK mode ends
		if i > maxQuickAcks {
			t.Fatalf("more than %d quick ACKs", maxQuickAcks)
		}
	}
	h.advance(40 * time.Millisecond)
	h.wantSent("delayed ACK", seg{flags: ACK, seq: localISS + 1, ack: seq})
	if got := send(10 * full); got != 1 {
		t.Fatalf("a segment of ten: %d ACKs sent at once, want 1", got)
	}
	if got := send(full); got != 0 {
		t.Fatalf("one full-sized segment: %d ACKs sent at once, want none", got)
	}
	if _, err := h.app.Read(1 << 20); err != nil {
		t.Fatal(err)
	}
	h.wantNothingMore() // a full-sized segment read is no end of a burst
	if got := send(full); got != 1 {
		t.Fatalf("the second full-sized segment: %d ACKs sent at once, want 1", got)
	}
}

// A peer whose segments shrink (its path MTU fell) sends full segments
// shorter than the size we had measured. As on Linux, two in a row of the
// same length become the new full size: after that, one read empty is no
// end of a burst and draws no ACK of its own.
func TestEstablished_SmallerFullSegmentsLowerTheEstimate(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.RecvBuffer = 1 << 20 })
	seq := remoteISS + 1
	send := func(n int) int {
		h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: strings.Repeat("s", n)})
		seq += seqnum.V32(n)
		return len(h.drain())
	}
	for i := 0; send(1000) > 0; i++ { // full-sized segments until quick ACK mode ends
		if i > maxQuickAcks {
			t.Fatalf("more than %d quick ACKs", maxQuickAcks)
		}
	}
	h.advance(40 * time.Millisecond)
	h.wantSent("delayed ACK", seg{flags: ACK, seq: localISS + 1, ack: seq})
	if got := send(800); got != 0 {
		t.Fatalf("a first shorter segment: %d ACKs at once, want none", got)
	}
	if got := send(800); got != 1 {
		t.Fatalf("a second one of the same length: %d ACKs at once, want 1 (two full segments)", got)
	}
	if got := send(800); got != 0 {
		t.Fatalf("a third: %d ACKs at once, want none", got)
	}
	if _, err := h.app.Read(1 << 20); err != nil {
		t.Fatal(err)
	}
	h.wantNothingMore() // 800 bytes are a full segment now: read, no ACK of its own
	if got := send(800); got != 1 {
		t.Fatalf("the fourth: %d ACKs at once, want 1", got)
	}
}

// After the peer was silent for longer than the RTO, quick ACK mode
// begins again (Linux tcp_event_data_recv): a sender restarting from its
// restart window must not wait for a delayed ACK.
func TestEstablished_QuickACKAfterIdle(t *testing.T) {
	h := newHarness(t, Established)
	seq := h.useQuickACKs(remoteISS + 1)
	h.advance(40 * time.Millisecond)
	h.drain()
	h.advance(h.c.RTO() + time.Millisecond)
	h.recv(seg{flags: ACK | PSH, seq: seq, ack: localISS + 1, payload: "x"})
	h.wantSent("idle longer than the RTO: quick ACK", seg{flags: ACK, seq: localISS + 1, ack: seq + 1})
}

// The short segment that ends a burst is acknowledged as soon as the
// application has read the queue empty (Linux tcp_cleanup_rbuf with
// ICSK_ACK_PUSHED), not 40 ms later: a Linux sender would otherwise send
// a tail loss probe after 2*SRTT (RFC 8985 §7.2).
func TestEstablished_PushedTailACKedWhenRead(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.RecvBuffer = 64000 })
	full := strings.Repeat("f", 1000)
	seq := remoteISS + 1
	for i := 0; ; i++ { // one full-sized segment at a time, until quick ACK mode ends
		if i > maxQuickAcks {
			t.Fatalf("more than %d quick ACKs", maxQuickAcks)
		}
		h.recv(seg{flags: ACK, seq: seq, ack: localISS + 1, payload: full})
		seq += 1000
		if len(h.drain()) == 0 {
			break
		}
	}
	h.advance(40 * time.Millisecond)
	h.wantSent("delayed ACK", seg{flags: ACK, seq: localISS + 1, ack: seq})
	h.recv(seg{flags: ACK | PSH, seq: seq, ack: localISS + 1, payload: "end"})
	h.wantNothingMore() // a short segment alone: the ACK may wait...
	if _, err := h.app.Read(64000); err != nil {
		t.Fatal(err)
	}
	h.wantSent("...until the reader empties the queue", seg{flags: ACK, seq: localISS + 1, ack: seq + 3})
}

func TestEstablished_OutOfOrderReassembly(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK, seq: remoteISS + 4, ack: localISS + 1, payload: "def"})
	h.wantSent("RFC 5681 §4.2: out-of-order data is acked at once", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	if n := h.c.Readable(); n != 0 {
		t.Fatalf("Readable = %d before the gap is filled", n)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1, payload: "abc"})
	h.wantSent("filling the gap is acked at once", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 7})
	if got, _ := h.app.Read(10); got != "abcdef" {
		t.Errorf("Read = %q, want abcdef", got)
	}
}

func TestEstablished_SACKBlocksMostRecentFirst(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoSACK = false })
	h.c.sackOK = true // the harness peer offered no SACK-permitted; pretend it did
	h.recv(seg{flags: ACK, seq: remoteISS + 11, ack: localISS + 1, payload: "xx"})
	h.drain()
	h.recv(seg{flags: ACK, seq: remoteISS + 21, ack: localISS + 1, payload: "yy"})
	got := h.drain()
	if len(got) != 1 {
		t.Fatalf("sent %v", fmtSegs(got))
	}
	o := got[0].Options
	want := []wire.SACKBlock{{Left: remoteISS + 21, Right: remoteISS + 23}, {Left: remoteISS + 11, Right: remoteISS + 13}}
	if o.NumSACK != 2 || o.SACK[0] != want[0] || o.SACK[1] != want[1] {
		t.Errorf("SACK blocks %v, want %v (RFC 2018 §4: most recent first)", o.SACKBlocks(), want)
	}
}

// A duplicate segment is answered at once with a D-SACK block first
// (RFC 2883 §4), the out-of-order ranges after it; a segment that is
// partly new reports only its old part; the block is sent once.
func TestEstablished_DuplicateDataDrawsDSACK(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoSACK = false })
	h.c.sackOK = true // the harness peer offered no SACK-permitted; pretend it did
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1, payload: "abc"})
	h.drain()
	h.recv(seg{flags: ACK, seq: remoteISS + 11, ack: localISS + 1, payload: "xx"}) // out of order
	h.drain()
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1, payload: "abc"}) // a duplicate
	got := h.drain()
	if len(got) != 1 {
		t.Fatalf("sent %v, want one ACK at once", fmtSegs(got))
	}
	want := []wire.SACKBlock{{Left: remoteISS + 1, Right: remoteISS + 4}, {Left: remoteISS + 11, Right: remoteISS + 13}}
	if o := got[0].Options; o.NumSACK != 2 || o.SACK[0] != want[0] || o.SACK[1] != want[1] || got[0].Ack != remoteISS+4 {
		t.Fatalf("ack %d, SACK blocks %v: want ack %d, %v (D-SACK first)", got[0].Ack, o.SACKBlocks(), remoteISS+4, want)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 3, ack: localISS + 1, payload: "cdefghij"}) // "c" is old, the rest fills the gap
	got = h.drain()
	want = []wire.SACKBlock{{Left: remoteISS + 3, Right: remoteISS + 4}}
	if len(got) != 1 || got[0].Options.NumSACK != 1 || got[0].Options.SACK[0] != want[0] || got[0].Ack != remoteISS+13 {
		t.Fatalf("sent %v (SACK %v): want one ACK of %d with the D-SACK block %v only", fmtSegs(got), got[0].Options.SACKBlocks(), remoteISS+13, want)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 13, ack: localISS + 1, payload: "z"})
	h.advance(time.Second)
	for _, s := range h.drain() {
		if s.Options.NumSACK != 0 {
			t.Fatalf("SACK blocks %v on a later ACK: the D-SACK block goes once", s.Options.SACKBlocks())
		}
	}
}

func TestEstablished_Nagle(t *testing.T) {
	h := newHarness(t, Established)
	h.app.Write("a")
	h.wantSent("first small segment goes out", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "a"})
	h.app.Write("b")
	h.wantNothingMore() // RFC 9293 §3.7.4: small data waits while data is unacked
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 2})
	h.wantSent("sent when the ACK arrives", seg{flags: PSH | ACK, seq: localISS + 2, ack: remoteISS + 1, payload: "b"})
	h.c.SetNoDelay(true)
	h.app.Write("c")
	h.wantSent("no delay", seg{flags: PSH | ACK, seq: localISS + 3, ack: remoteISS + 1, payload: "c"})
}

func TestEstablished_SegmentsAreMSSSized(t *testing.T) {
	h := newHarness(t, Established)
	h.app.Write(strings.Repeat("x", 2500))
	// The harness peer's SYN-ACK had no MSS option: 536 (RFC 9293 §3.7.1).
	got := h.drain()
	if len(got) != 4 {
		t.Fatalf("sent %v, want four full segments", fmtSegs(got))
	}
	for _, s := range got {
		if len(s.Payload) != 536 {
			t.Fatalf("segment of %d bytes, want the send MSS 536", len(s.Payload))
		}
	}
	// Nagle holds the 356-byte tail until the outstanding data is acked.
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1 + 4*536})
	h.wantSent("the tail after the ACK", seg{flags: PSH | ACK, seq: localISS + 1 + 4*536, ack: remoteISS + 1,
		payload: strings.Repeat("x", 356)})
}

func TestEstablished_ZeroWindowProbe(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1, window: 0})
	h.c.sndWnd = 0 // window field 0 means 8000 in recv(); set it directly
	h.app.Write("zz")
	h.wantNothingMore()
	d := h.c.NextDeadline()
	if d == 0 {
		t.Fatal("no persist timer armed for a zero window (RFC 9293 §3.8.6.1)")
	}
	h.advanceToDeadline()
	h.wantSent("window probe", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1, window: 100})
	h.wantSent("window opened", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "zz"})
}

func TestEstablished_RTOBackoffAndGoBack(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write("data")
	h.wantSent("data", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "data"})
	rto := h.c.RTO()
	for i := 0; i < 3; i++ {
		if d := h.c.NextDeadline().Sub(h.now); d != rto<<i {
			t.Fatalf("timeout %d after %v, want %v (RFC 6298 §5.5 doubling)", i, d, rto<<i)
		}
		h.advanceToDeadline()
		h.wantSent("retransmission", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "data"})
	}
	srtt := h.c.SRTT()
	h.advance(10 * time.Millisecond)
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 5})
	if h.c.SRTT() != srtt {
		t.Errorf("SRTT changed from %v to %v on the ACK of a retransmitted segment (Karn, RFC 6298 §3)", srtt, h.c.SRTT())
	}
	if h.c.RTO() != rto {
		t.Errorf("RTO = %v after the ACK, want the backoff cleared back to %v", h.c.RTO(), rto)
	}
}

func TestEstablished_GivesUpAfterRetries(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.Retries = 3 })
	h.app.Write("data")
	h.drain()
	for i := 0; i < 3; i++ {
		h.advanceToDeadline()
		h.drain()
	}
	h.advanceToDeadline()
	h.wantState(Closed)
	h.wantNothingMore() // no RST to a peer presumed dead, as Linux
	if s := h.c.Summary(); s.Ending != EndTimeout || s.SentUnacked != 4 {
		t.Errorf("summary %+v, want timeout with 4 bytes unacked", s)
	}
}

func TestEstablished_UserTimeout(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.UserTimeout = 5 * time.Second })
	h.app.Write("data")
	h.drain()
	start, rto := h.now, h.c.RTO()
	for h.c.State() != Closed {
		h.advanceToDeadline()
		h.drain()
		if h.now.Sub(startTime) > time.Minute {
			t.Fatal("user timeout never fired")
		}
	}
	// The user timeout counts from the first retransmission, one RTO
	// after the data was sent (Linux's retrans_stamp).
	if el := h.now.Sub(start); el != rto+5*time.Second {
		t.Errorf("gave up after %v, want RTO %v + 5 s", el, rto)
	}
	if h.c.Err() != ErrTimeout {
		t.Errorf("Err = %v, want ErrTimeout", h.c.Err())
	}
}

func TestEstablished_Keepalive(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) {
		c.KeepAlive, c.KeepAliveIdle, c.KeepAliveInterval, c.KeepAliveCount = true, 10*time.Second, time.Second, 2
	})
	h.advance(10 * time.Second)
	h.wantSent("keepalive probe: SEQ=SND.UNA-1", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	h.advance(time.Second)
	h.wantNothingMore() // the answer reset the idle timer
	h.advance(9 * time.Second)
	h.wantSent("probe 1", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.advance(time.Second)
	h.wantSent("probe 2", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.advance(time.Second)
	h.wantSent("Linux resets after the last unanswered probe", seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.wantState(Closed)
	if h.c.Err() != ErrTimeout {
		t.Errorf("Err = %v, want ErrTimeout", h.c.Err())
	}
}

func TestEstablished_FastRetransmit(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write(strings.Repeat("x", 536*4))
	if got := h.drain(); len(got) != 4 {
		t.Fatalf("sent %v, want 4 segments", fmtSegs(got))
	}
	for i := 0; i < 3; i++ {
		h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	}
	got := h.drain()
	if len(got) != 1 || got[0].Seq != localISS+1 || len(got[0].Payload) != 536 {
		t.Fatalf("after 3 duplicate ACKs sent %v, want the first segment again (RFC 5681 §3.2)", fmtSegs(got))
	}
	if c := h.c.Counters(); c.FastRetransmits != 1 || c.DupACKsIn != 3 {
		t.Errorf("counters %+v", c)
	}
}

func TestEstablished_PAWS(t *testing.T) {
	h := newHarness(t, Established)
	h.c.tsOK, h.c.tsRecent, h.c.tsRecentAt = true, 1000, h.now
	old := &Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 8000, Payload: []byte("old"),
		Options: wire.TCPOptions{HasTimestamp: true, TSVal: 999}}
	h.recvSeg(old)
	h.wantSent("RFC 7323 §5.3: an old timestamp is dropped and acked", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	if h.c.Readable() != 0 || h.c.Counters().Drops[DropPAWS] != 1 {
		t.Fatalf("PAWS did not drop the segment")
	}
	fresh := *old
	fresh.Options.TSVal = 1001
	h.recvSeg(&fresh)
	if h.c.Readable() != 3 || h.c.tsRecent != 1001 {
		t.Errorf("fresh segment: readable %d, TS.Recent %d", h.c.Readable(), h.c.tsRecent)
	}
}

// RFC 6298 §2 by hand, G = 1 ms, K = 4.
func TestRTOEstimator(t *testing.T) {
	e := newRTOEstimator(time.Second, 200*time.Millisecond, 120*time.Second)
	if e.backedOff(0) != time.Second {
		t.Fatalf("initial RTO %v, want 1 s", e.backedOff(0))
	}
	e.sample(100 * time.Millisecond)
	// SRTT = 100, RTTVAR = 50, RTO = 100 + 4*50 = 300 ms.
	if e.srtt != 100*time.Millisecond || e.rttvar != 50*time.Millisecond || e.rto != 300*time.Millisecond {
		t.Fatalf("after 100 ms: srtt %v rttvar %v rto %v, want 100/50/300 ms", e.srtt, e.rttvar, e.rto)
	}
	e.sample(200 * time.Millisecond)
	// RTTVAR = 3/4*50 + 1/4*|100-200| = 62.5; SRTT = 7/8*100 + 1/8*200 = 112.5;
	// RTO = 112.5 + 250 = 362.5 ms.
	if e.rttvar != 62500*time.Microsecond || e.srtt != 112500*time.Microsecond || e.rto != 362500*time.Microsecond {
		t.Fatalf("after 200 ms: srtt %v rttvar %v rto %v, want 112.5/62.5/362.5 ms", e.srtt, e.rttvar, e.rto)
	}
	e.sample(time.Millisecond)
	for i := 0; i < 50; i++ {
		e.sample(time.Millisecond)
	}
	if want := e.srtt + 200*time.Millisecond; e.rto != want {
		t.Errorf("RTO for a 1 ms path = %v, want SRTT + the 200 ms minimum = %v", e.rto, want)
	}
	if e.backedOff(20) != 120*time.Second {
		t.Errorf("backed off RTO %v, want the 120 s maximum", e.backedOff(20))
	}
}

func TestISNGenerator(t *testing.T) {
	g := NewISNGenerator([32]byte{1, 2, 3})
	a := netip.MustParseAddrPort("10.0.0.1:1234")
	b := netip.MustParseAddrPort("10.0.0.2:80")
	c := netip.MustParseAddrPort("10.0.0.2:81")
	i1 := g.ISN(startTime, a, b)
	i2 := g.ISN(startTime.Add(4*time.Millisecond), a, b)
	if d := i2 - i1; d != 1000 {
		t.Errorf("same 4-tuple 4 ms later: ISN advanced by %d, want 1000 (4 µs ticks, RFC 6528 §3)", d)
	}
	if g.ISN(startTime, a, c) == i1 {
		t.Error("a different 4-tuple got the same ISN")
	}
	if NewISNGenerator([32]byte{9}).ISN(startTime, a, b) == i1 {
		t.Error("a different secret gave the same ISN")
	}
	if n := testing.AllocsPerRun(100, func() { g.ISN(startTime, a, b) }); n != 0 {
		t.Errorf("ISN allocates %v times", n)
	}
}
