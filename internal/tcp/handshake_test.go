package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

func TestStateString(t *testing.T) {
	cases := map[State]string{SynSent: "SYN-SENT", FinWait1: "FIN-WAIT-1", TimeWait: "TIME-WAIT",
		CloseWait: "CLOSE-WAIT", Closed: "CLOSED", LastAck: "LAST-ACK", State(99): "STATE(99)"}
	for s, want := range cases {
		if s.String() != want {
			t.Errorf("State(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}

func TestSynSent_SynAck(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: SYN | ACK, seq: remoteISS, ack: localISS + 1})
	h.wantSent("handshake completes with an ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.wantState(Established)
	if ev := h.c.TakeEvents(); ev&EventEstablished == 0 {
		t.Errorf("events %b lack EventEstablished", ev)
	}
	h.wantNothingMore()
}

func TestSynSent_SimultaneousOpen(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: SYN, seq: remoteISS})
	h.wantState(SynReceived)
	h.wantSent("RFC 9293 §3.5 figure 7: SYN,ACK from SYN-RECEIVED", seg{flags: SYN | ACK, seq: localISS, ack: remoteISS + 1})
	h.recv(seg{flags: SYN | ACK, seq: remoteISS, ack: localISS + 1})
	// The peer's SYN,ACK repeats its SYN (not acceptable now) and acks ours.
	h.wantState(Established)
}

func TestSynSent_SimultaneousOpenAck(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: SYN, seq: remoteISS})
	h.wantSent("SYN,ACK", seg{flags: SYN | ACK, seq: localISS, ack: remoteISS + 1})
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	h.wantState(Established)
	h.wantNothingMore()
}

func TestSynSent_RSTWithAcceptableAck(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: RST | ACK, seq: 0, ack: localISS + 1})
	h.wantState(Closed)
	if _, err := h.app.Read(10); err != ErrConnRefused {
		t.Errorf("Read after refused = %v, want ErrConnRefused", err)
	}
	if s := h.c.Summary(); s.Ending != EndRefused || !s.RSTReceived {
		t.Errorf("summary = %+v, want refused", s)
	}
	h.wantNothingMore()
}

func TestSynSent_RSTWithoutAckIgnored(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: RST, seq: remoteISS})
	h.wantState(SynSent)
	h.wantNothingMore()
}

func TestSynSent_BadAckDrawsRST(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: SYN | ACK, seq: remoteISS, ack: localISS + 7})
	h.wantSent("RFC 9293 §3.10.7.3: unacceptable ACK in SYN-SENT draws <SEQ=SEG.ACK><CTL=RST>",
		seg{flags: RST, seq: localISS + 7})
	h.wantState(SynSent)
}

// An ACK that answers our first SYN with someone else's numbers (a peer
// holding the 4-tuple in TIME-WAIT) draws the RST, and the SYN goes again
// after Linux's TCP_TIMEOUT_MIN, not the 1 s RTO; once retransmitted, such
// an ACK leaves the backed-off timer alone.
func TestSynSent_StaleACKRetriesSYNSoon(t *testing.T) {
	h := newHarness(t, SynSent)
	h.recv(seg{flags: ACK, seq: remoteISS, ack: localISS - 1000})
	h.wantSent("RST for the stale ACK", seg{flags: RST, seq: localISS - 1000})
	if d := h.c.NextDeadline().Sub(h.now); d != staleACKRetry {
		t.Fatalf("SYN retry in %v, want %v", d, staleACKRetry)
	}
	h.advanceToDeadline()
	h.wantSent("SYN again", seg{flags: SYN, seq: localISS})
	h.recv(seg{flags: ACK, seq: remoteISS, ack: localISS - 1000})
	h.wantSent("RST again", seg{flags: RST, seq: localISS - 1000})
	if d := h.c.NextDeadline().Sub(h.now); d != 2*time.Second {
		t.Fatalf("after a retransmission the next SYN is due in %v, want the backed-off 2s", d)
	}
	h.wantState(SynSent)
}

func TestSynSent_SYNRetransmitBackoff(t *testing.T) {
	h := newHarness(t, SynSent)
	// RFC 6298 §2.1: 1 s initial RTO; §5.5: doubled on each expiry.
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		d := h.c.NextDeadline().Sub(h.now)
		if d != want {
			t.Fatalf("retransmission %d after %v, want %v", i, d, want)
		}
		h.advanceToDeadline()
		h.wantSent("SYN retransmitted", seg{flags: SYN, seq: localISS})
	}
	if got := h.c.Counters().Retransmits; got != 3 {
		t.Errorf("Retransmits = %d, want 3", got)
	}
}

func TestSynSent_GivesUpAfterSYNRetries(t *testing.T) {
	h := newHarness(t, SynSent, func(c *Config) { c.SYNRetries = 2 })
	h.advanceToDeadline()
	h.wantSent("1st retransmission", seg{flags: SYN, seq: localISS})
	h.advanceToDeadline()
	h.wantSent("2nd retransmission", seg{flags: SYN, seq: localISS})
	h.advanceToDeadline()
	h.wantState(Closed)
	h.wantNothingMore()
	if _, err := h.app.Read(1); err != ErrTimeout {
		t.Errorf("Read = %v, want ErrTimeout", err)
	}
}

func TestSynReceived_Ack(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	h.wantState(Established)
	h.wantNothingMore()
}

func TestSynReceived_AckWithData(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "hello"})
	h.wantState(Established)
	if got, _ := h.app.Read(10); got != "hello" {
		t.Errorf("Read = %q, want hello", got)
	}
}

func TestSynReceived_RetransmittedSYN(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.recv(seg{flags: SYN, seq: remoteISS})
	h.wantSent("our SYN,ACK was lost: send it again", seg{flags: SYN | ACK, seq: localISS, ack: remoteISS + 1})
}

func TestSynReceived_BadAckDrawsRST(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 50})
	h.wantSent("RFC 9293 §3.10.7.4: unacceptable ACK in SYN-RECEIVED", seg{flags: RST, seq: localISS + 50})
	h.wantState(SynReceived)
}

func TestSynReceived_RSTPassiveOpenIsGone(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.recv(seg{flags: RST, seq: remoteISS + 1})
	h.wantState(Closed)
	h.wantNothingMore()
	if s := h.c.Summary(); s.Ending != EndRSTReceived {
		t.Errorf("ending = %v, want rst-received", s.Ending)
	}
}

// The shift a SYN announces: Linux's covers the largest buffer the socket
// may grow to, unless SO_RCVBUF fixed the buffer before the SYN; other
// profiles cover the buffer the socket has.
func TestClosed_WindowShiftChoice(t *testing.T) {
	rfc := profile.Linux
	rfc.WindowScaleForMaxBuffer = false
	cases := []struct {
		name string
		cfg  Config
		want uint8
	}{
		{"linux default", Config{}, 7},
		{"linux larger max", Config{MaxRecvBuffer: 32 << 20}, 10},
		{"linux SO_RCVBUF", Config{RecvBuffer: 64 << 10, RecvBufferSet: true}, 1},
		{"buffer only", Config{Profile: rfc}, 3},
		{"buffer only, small", Config{Profile: rfc, RecvBuffer: 60000}, 0},
	}
	for _, tc := range cases {
		cfg := tc.cfg
		a := NewActive(startTime, &cfg, localISS)
		var syn Segment
		if !a.NextSegment(startTime, &syn) {
			t.Fatal("no SYN")
		}
		if syn.Options.WScale != tc.want {
			t.Errorf("%s: SYN wscale %d, want %d", tc.name, syn.Options.WScale, tc.want)
		}
	}
}

func TestHandshake_OptionNegotiation(t *testing.T) {
	cfg := DefaultConfig() // MSS 1460, 256 KiB buffers, WS/SACK/TS on
	a := NewActive(startTime, &cfg, localISS)
	var syn Segment
	if !a.NextSegment(startTime, &syn) {
		t.Fatal("no SYN")
	}
	o := syn.Options
	if !o.HasMSS || o.MSS != 1460 || !o.HasWScale || o.WScale != 7 || !o.SACKPermitted || !o.HasTimestamp {
		t.Fatalf("SYN options = %+v, want MSS 1460, WS 7 (linux: 6 MiB MaxRecvBuffer >> 7 fits 16 bits), SACK-perm, TS", o)
	}
	// The peer offers MSS 1400, WS 7, SACK-perm and TS.
	b := NewPassive(startTime, &cfg, remoteISS, &Segment{Seq: localISS, Flags: wire.SYN, Window: 65535,
		Options: wire.TCPOptions{HasMSS: true, MSS: 1400, HasWScale: true, WScale: 7, SACKPermitted: true,
			HasTimestamp: true, TSVal: 77}})
	var sa Segment
	b.NextSegment(startTime, &sa)
	if sa.Options.TSEcr != 77 || !sa.Options.HasWScale || !sa.Options.SACKPermitted || sa.Options.MSS != 1460 {
		t.Fatalf("SYN-ACK options = %+v, want TSecr 77, WS, SACK-perm, MSS 1460", sa.Options)
	}
	ws, sack, ts := b.Negotiated()
	if !ws || !sack || !ts {
		t.Errorf("negotiated ws=%v sack=%v ts=%v, want all", ws, sack, ts)
	}
	if got := b.SendMSS(); got != 1400-12 {
		t.Errorf("send MSS = %d, want 1388 (peer's 1400 minus the timestamps option)", got)
	}
	// A peer without options: no WS, SACK or TS in our SYN-ACK; MSS default 536.
	c := NewPassive(startTime, &cfg, remoteISS, &Segment{Seq: localISS, Flags: wire.SYN, Window: 65535})
	c.NextSegment(startTime, &sa)
	if sa.Options.HasWScale || sa.Options.SACKPermitted || sa.Options.HasTimestamp {
		t.Errorf("SYN-ACK to a bare SYN offers %+v, want only MSS", sa.Options)
	}
	if c.SendMSS() != 536 {
		t.Errorf("send MSS without option = %d, want 536 (RFC 9293 §3.7.1)", c.SendMSS())
	}
}

func TestHandshake_WindowScaleClamp(t *testing.T) {
	cfg := DefaultConfig()
	b := NewPassive(startTime, &cfg, remoteISS, &Segment{Seq: localISS, Flags: wire.SYN, Window: 65535,
		Options: wire.TCPOptions{HasWScale: true, WScale: 20}})
	var sa Segment
	b.NextSegment(startTime, &sa)
	b.HandleSegment(startTime, &Segment{Seq: localISS + 1, Ack: remoteISS + 1, Flags: wire.ACK, Window: 1})
	if b.sndWnd != 1<<14 {
		t.Errorf("send window = %d, want 1<<14: RFC 7323 §2.3 clamps the shift to 14", b.sndWnd)
	}
}

func TestRSTFor(t *testing.T) {
	got, ok := RSTFor(&Segment{Seq: 100, Ack: 200, Flags: wire.ACK, Payload: []byte("x")})
	if !ok || got.Flags != wire.RST || got.Seq != 200 {
		t.Errorf("RST for ACK segment = %+v, want <SEQ=200><CTL=RST>", got)
	}
	got, ok = RSTFor(&Segment{Seq: 100, Flags: wire.SYN | wire.FIN, Payload: []byte("abc")})
	if !ok || got.Flags != wire.RST|wire.ACK || got.Seq != 0 || got.Ack != 105 {
		t.Errorf("RST for SYN = %+v, want <SEQ=0><ACK=105><CTL=RST,ACK> (SYN+3+FIN)", got)
	}
	if _, ok := RSTFor(&Segment{Flags: wire.RST}); ok {
		t.Error("RSTFor answered an RST")
	}
}
