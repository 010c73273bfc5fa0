package tcp

import (
	"io"
	"slices"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
)

func withProfile(p profile.Profile) func(*Config) { return func(c *Config) { c.Profile = p } }

// The seed: B reads part of what A sent and closes.
func TestEstablished_CloseWithUnreadData(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "12345"})
	if got, _ := h.app.Read(1); got != "1" {
		t.Fatalf("Read = %q", got)
	}
	h.app.Write("ERROR")
	h.app.Close()
	h.wantSent("RFC 2525 §2.17: close with unread data aborts; the unsent reply is discarded",
		seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 6})
	h.wantState(Closed)
	h.wantNothingMore()
	s := h.c.Summary()
	if s.Ending != EndRSTSent || s.UnreadDiscarded != 4 || s.UnsentDiscarded != 5 || !s.RSTSent {
		t.Errorf("summary = %+v, want rst-sent, 4 unread discarded, 5 unsent discarded", s)
	}
}

func TestCloseWait_CloseWithUnreadData(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "12345"})
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 6, ack: localISS + 1})
	h.wantSent("ACK of data and FIN", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 7})
	h.wantState(CloseWait)
	h.app.Close()
	h.wantSent("RFC 2525 §2.17: unread data even after the peer's FIN", seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 7})
	h.wantState(Closed)
}

func TestEstablished_CloseWithUnreadData_NoRSTOnClose(t *testing.T) {
	h := newHarness(t, Established, withProfile(profile.NoRSTOnClose))
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "12345"})
	h.app.Write("OK")
	h.app.Close()
	h.wantSent("no-rst-on-close ignores the receive queue: reply and FIN",
		seg{flags: FIN | PSH | ACK, seq: localISS + 1, ack: remoteISS + 6, payload: "OK"})
	h.wantState(FinWait1)
	if s := h.c.Summary(); s.UnreadDiscarded != 5 {
		t.Errorf("UnreadDiscarded = %d, want 5", s.UnreadDiscarded)
	}
}

func TestEstablished_CloseAllRead(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "7"})
	h.app.Read(10)
	h.app.Write("OK")
	h.app.Close()
	h.wantSent("nothing unread: the reply, then FIN (RFC 9293 §3.10.4)",
		seg{flags: FIN | PSH | ACK, seq: localISS + 1, ack: remoteISS + 2, payload: "OK"})
	h.wantState(FinWait1)
}

func TestFinWait2_DataAfterClose(t *testing.T) {
	h := newHarness(t, Established)
	h.app.Close()
	h.wantSent("FIN", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 2})
	h.wantState(FinWait2)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 2, payload: "late"})
	h.wantSent("RFC 2525 §2.17: data after a full close draws RST, in Linux's form <SEQ=SEG.ACK><CTL=RST>",
		seg{flags: RST, seq: localISS + 2})
	h.wantState(Closed)
	if s := h.c.Summary(); s.UnreadDiscarded != 4 || s.Ending != EndRSTSent {
		t.Errorf("summary = %+v", s)
	}
}

func TestFinWait2_DataAfterShutdownWriteIsDelivered(t *testing.T) {
	h := newHarness(t, FinWait2)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 2, payload: "reply"})
	if got, _ := h.app.Read(10); got != "reply" {
		t.Errorf("half-closed reader got %q, want reply", got)
	}
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 6, ack: localISS + 2})
	h.wantSent("ACK of FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 7})
	h.wantState(TimeWait)
	if _, err := h.app.Read(10); err != io.EOF {
		t.Errorf("Read after FIN = %v, want EOF", err)
	}
}

func TestEstablished_AbortLingerZero(t *testing.T) {
	h := newHarness(t, Established)
	h.app.Write("queued")
	h.c.noDelay = true
	h.wantSent("data", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "queued"})
	h.c.sndWnd = 0 // let the next write stay unsent
	h.app.Write("unsent")
	h.wantNothingMore()
	h.app.Abort()
	h.wantSent("RFC 9293 §3.10.5 ABORT: RST", seg{flags: RST | ACK, seq: localISS + 7, ack: remoteISS + 1})
	h.wantState(Closed)
	s := h.c.Summary()
	if s.UnsentDiscarded != 6 || s.SentUnacked != 6 || s.Ending != EndRSTSent {
		t.Errorf("summary = %+v, want 6 unsent discarded and 6 sent unacked", s)
	}
	if _, err := h.c.Write(h.now, []byte("x")); err != ErrAborted {
		t.Errorf("Write after abort = %v, want ErrAborted", err)
	}
}

func TestEstablished_ShutdownWriteAfterQueuedData(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write("abc")
	h.app.CloseWrite()
	h.wantSent("FIN rides on the last queued data", seg{flags: FIN | PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "abc"})
	h.wantState(FinWait1)
	if _, err := h.c.Write(h.now, []byte("x")); err != ErrWriteClosed {
		t.Errorf("Write after CloseWrite = %v, want ErrWriteClosed", err)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 5})
	h.wantState(FinWait2)
	if !h.c.AllAcked() {
		t.Error("AllAcked false after the FIN was acked")
	}
}

func TestCloseWait_HalfClosedPeerStillReceives(t *testing.T) {
	h := newHarness(t, CloseWait, func(c *Config) { c.NoDelay = true })
	if _, err := h.app.Read(10); err != io.EOF {
		t.Fatalf("Read in CLOSE-WAIT = %v, want EOF", err)
	}
	h.app.Write("still talking")
	h.wantSent("a half-closed peer still receives data", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 2, payload: "still talking"})
	h.app.Close()
	h.wantSent("FIN", seg{flags: FIN | ACK, seq: localISS + 14, ack: remoteISS + 2})
	h.wantState(LastAck)
	h.recv(seg{flags: ACK, seq: remoteISS + 2, ack: localISS + 15})
	h.wantState(Closed)
	if s := h.c.Summary(); s.Ending != EndGraceful || !s.FINAcked || !s.FINReceived {
		t.Errorf("summary = %+v, want graceful", s)
	}
}

func TestEstablished_CloseReadLinux(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "before"})
	h.app.CloseRead()
	if got, _ := h.app.Read(10); got != "before" {
		t.Errorf("Linux: shutdown(SHUT_RD) keeps queued data readable, got %q", got)
	}
	if _, err := h.app.Read(10); err != io.EOF {
		t.Errorf("empty queue after SHUT_RD = %v, want EOF", err)
	}
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 7, ack: localISS + 1, payload: "after"})
	h.wantSent("2 segments: ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 12})
	h.app.Close()
	h.wantSent("data queued after SHUT_RD is unread at close: RST", seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 12})
}

func TestSimultaneousClose(t *testing.T) {
	h := newHarness(t, FinWait1)
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 1})
	h.wantState(Closing)
	h.wantSent("ACK of the crossing FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
	h.recv(seg{flags: ACK, seq: remoteISS + 2, ack: localISS + 2})
	h.wantState(TimeWait)
	h.wantNothingMore()
	want := []string{"CLOSED>SYN-SENT", "SYN-SENT>ESTABLISHED", "ESTABLISHED>FIN-WAIT-1", "FIN-WAIT-1>CLOSING", "CLOSING>TIME-WAIT"}
	if got := h.stateTrace(); !slices.Equal(got, want) {
		t.Fatalf("state changes %v, want %v", got, want)
	}
}

func TestFinWait1_FINAndAckTogether(t *testing.T) {
	h := newHarness(t, FinWait1)
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 2})
	h.wantState(TimeWait)
	h.wantSent("ACK of FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
}

func TestTimeWait_TwoMSL(t *testing.T) {
	h := newHarness(t, TimeWait)
	if d := h.c.NextDeadline().Sub(h.now); d != 60*time.Second {
		t.Fatalf("TIME-WAIT deadline in %v, want 2*MSL = 60 s", d)
	}
	h.advance(59 * time.Second)
	h.wantState(TimeWait)
	h.advance(time.Second)
	h.wantState(Closed)
	if s := h.c.Summary(); s.Ending != EndGraceful {
		t.Errorf("ending %v, want graceful", s.Ending)
	}
}

func TestTimeWait_RetransmittedFINRestarts2MSL(t *testing.T) {
	h := newHarness(t, TimeWait)
	h.advance(30 * time.Second)
	h.recv(seg{flags: FIN | ACK, seq: remoteISS + 1, ack: localISS + 2})
	h.wantSent("RFC 9293 §3.10.7.4: acknowledge the retransmitted FIN", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
	if d := h.c.NextDeadline().Sub(h.now); d != 60*time.Second {
		t.Errorf("TIME-WAIT restarted to %v, want 2*MSL", d)
	}
}

func TestTimeWait_RSTEndsIt(t *testing.T) {
	h := newHarness(t, TimeWait)
	h.recv(seg{flags: RST, seq: remoteISS + 2})
	h.wantState(Closed)
	h.wantNothingMore()
}

func TestTimeWait_RSTIgnoredRFC1337(t *testing.T) {
	h := newHarness(t, TimeWait, withProfile(profile.RFC1337))
	h.recv(seg{flags: RST, seq: remoteISS + 2})
	h.wantState(TimeWait)
	h.wantNothingMore()
}

func TestTimeWait_SYNChallengeACK(t *testing.T) {
	h := newHarness(t, TimeWait)
	h.recv(seg{flags: SYN, seq: remoteISS + 2})
	h.wantSent("RFC 5961 §4.2: challenge ACK", seg{flags: ACK, seq: localISS + 2, ack: remoteISS + 2})
	h.wantState(TimeWait)
}

// RST exactly at RCV.NXT, in every synchronized state.
func TestRSTInEveryState(t *testing.T) {
	cases := []struct {
		state  State
		seq    uint32 // offset from remoteISS
		ending Ending
		err    error
	}{
		{SynReceived, 1, EndRSTReceived, ErrConnReset},
		{Established, 1, EndRSTReceived, ErrConnReset},
		{FinWait1, 1, EndRSTReceived, ErrConnReset},
		{FinWait2, 1, EndRSTReceived, ErrConnReset},
		{CloseWait, 2, EndRSTReceived, ErrWriteClosed}, // Linux: EPIPE (tcp_reset)
		{Closing, 2, EndRSTReceived, nil},
		{LastAck, 2, EndRSTReceived, nil},
		{TimeWait, 2, EndGraceful, nil},
	}
	for _, c := range cases {
		t.Run(c.state.String(), func(t *testing.T) {
			h := newHarness(t, c.state)
			h.recv(seg{flags: RST, seq: remoteISS + seqOff(c.seq)})
			h.wantState(Closed)
			h.wantNothingMore()
			if s := h.c.Summary(); s.Ending != c.ending {
				t.Errorf("ending %v, want %v", s.Ending, c.ending)
			}
			if h.c.Err() != c.err {
				t.Errorf("Err() = %v, want %v", h.c.Err(), c.err)
			}
		})
	}
}

func TestEstablished_RSTInWindowNotExact(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: RST, seq: remoteISS + 100})
	h.wantSent("RFC 5961 §3.2: challenge ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.wantState(Established)
	h.recv(seg{flags: RST, seq: remoteISS + 200})
	h.wantNothingMore() // rate-limited (RFC 5961 §7)
	h.advance(500 * time.Millisecond)
	h.recv(seg{flags: RST, seq: remoteISS + 200})
	h.wantSent("after the interval, another challenge ACK", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.recv(seg{flags: RST, seq: remoteISS + 100000})
	h.wantNothingMore() // out of window: silently dropped
	h.wantState(Established)
}

func TestEstablished_SYNChallengeACK(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: SYN, seq: remoteISS + 1})
	h.wantSent("RFC 5961 §4.2: challenge ACK, no reset", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1})
	h.wantState(Established)
}

func TestEstablished_RSTDeliversQueuedDataFirst(t *testing.T) {
	h := newHarness(t, Established)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "ERROR"})
	h.recv(seg{flags: RST, seq: remoteISS + 6})
	h.wantState(Closed)
	if got, err := h.app.Read(10); got != "ERROR" || err != nil {
		t.Errorf("linux: first read after RST = %q, %v; want the queued ERROR", got, err)
	}
	if _, err := h.app.Read(10); err != ErrConnReset {
		t.Errorf("second read = %v, want ErrConnReset", err)
	}
}

func TestEstablished_RSTDiscardsQueuedData(t *testing.T) {
	h := newHarness(t, Established, withProfile(profile.DiscardOnRST))
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: "ERROR"})
	h.recv(seg{flags: RST, seq: remoteISS + 6})
	if got, err := h.app.Read(10); got != "" || err != ErrConnReset {
		t.Errorf("discard-on-rst: read after RST = %q, %v; want reset at once", got, err)
	}
	if s := h.c.Summary(); s.UnreadDiscarded != 5 {
		t.Errorf("UnreadDiscarded = %d, want 5", s.UnreadDiscarded)
	}
}

func TestCloseWait_HoldFINWhileUnread(t *testing.T) {
	h := newHarness(t, Established, withProfile(profile.VOS171))
	h.recv(seg{flags: ACK | PSH | FIN, seq: remoteISS + 1, ack: localISS + 1, payload: "data"})
	h.wantSent("vos-17.1: the data is acked, the FIN is not", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 5})
	h.wantState(Established)
	h.app.Read(10)
	h.wantSent("the FIN is acked once the data was read", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 6})
	h.wantState(CloseWait)
}

func TestSynSent_Close(t *testing.T) {
	h := newHarness(t, SynSent)
	h.app.Close()
	h.wantState(Closed)
	h.wantNothingMore()
}

func TestSynReceived_CloseWriteWaitsForHandshake(t *testing.T) {
	h := newHarness(t, SynReceived)
	h.app.CloseWrite()
	h.wantNothingMore()
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1})
	h.wantState(FinWait1)
	h.wantSent("FIN after the handshake", seg{flags: FIN | ACK, seq: localISS + 1, ack: remoteISS + 1})
}

func TestFinWait2_TimeoutAfterClose(t *testing.T) {
	h := newHarness(t, FinWait1)
	h.app.Close()
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 2})
	h.wantState(FinWait2)
	h.advance(60 * time.Second)
	h.wantState(Closed)
	if s := h.c.Summary(); s.Ending != EndAbandoned {
		t.Errorf("ending %v, want abandoned", s.Ending)
	}
}

func seqOff(n uint32) seqnumSize { return seqnumSize(n) }
