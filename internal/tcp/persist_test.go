package tcp

import (
	"strings"
	"testing"
	"time"
)

// zeroWindow drives h to a peer that advertises a zero window with "zz"
// written and waiting.
func zeroWindow(h *harness) {
	h.t.Helper()
	h.recvSeg(&Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 0})
	h.app.Write("zz")
	h.wantNothingMore()
}

// probeRound runs the timers to the next deadline and answers a probe, if
// one was sent, with a zero window when answer is set. It reports whether a
// probe was sent.
func probeRound(h *harness, answer bool) bool {
	h.t.Helper()
	h.advanceToDeadline()
	probe := false
	for _, s := range h.drain() {
		if len(s.Payload) == 0 && s.Seq == localISS && s.Flags&(FIN|RST) == 0 {
			probe = true
		}
	}
	if probe && answer && h.c.State() != Closed {
		h.recvSeg(&Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 0})
		h.wantNothingMore()
	}
	return probe
}

// RFC 9293 §3.8.6.1 keeps probing while the peer answers; a peer that
// stops answering is given up after Retries unanswered probes, as after
// Retries retransmissions (Linux tcp_retries2 counts window probes too).
func TestEstablished_ZeroWindowProbesUnanswered(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.Retries = 4 })
	zeroWindow(h)
	probes := 0
	for h.c.State() != Closed && probes < 100 {
		if probeRound(h, false) {
			probes++
		}
	}
	h.wantState(Closed)
	if probes != 4 {
		t.Errorf("%d probes before giving up, want Retries = 4", probes)
	}
	if _, err := h.app.Read(1); err != ErrTimeout {
		t.Errorf("Read after giving up = %v, want ErrTimeout", err)
	}
}

// A peer that answers every probe is alive: the connection waits for its
// window as long as it takes (RFC 1122 §4.2.2.17), the answered probes do
// not count toward Retries.
func TestEstablished_ZeroWindowProbesAnswered(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.Retries = 4 })
	zeroWindow(h)
	for range 30 {
		if !probeRound(h, true) {
			t.Fatal("no probe at the persist deadline")
		}
	}
	h.wantState(Established)
	h.recvSeg(&Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 100})
	h.wantSent("window opened", seg{flags: PSH | ACK, seq: localISS + 1, ack: remoteISS + 1, payload: "zz"})
}

// The user timeout covers the persist state (RFC 6429 §2 lets a sender
// abort; Linux measures TCP_USER_TIMEOUT from the first probe): even a peer
// that answers every probe with a zero window is given up after it.
func TestEstablished_ZeroWindowUserTimeout(t *testing.T) {
	const ut = 30 * time.Second
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.UserTimeout = ut })
	zeroWindow(h)
	var first time.Duration
	for i := 0; h.c.State() != Closed && i < 100; i++ {
		if probeRound(h, true) && first == 0 {
			first = time.Duration(h.now - startTime)
		}
	}
	h.wantState(Closed)
	if ended := time.Duration(h.now-startTime) - first; ended != ut {
		t.Errorf("gave up %v after the first probe, want the user timeout %v", ended, ut)
	}
	if _, err := h.app.Read(1); err != ErrTimeout {
		t.Errorf("Read = %v, want ErrTimeout", err)
	}
}

// A connection the application closed (an orphan) with data held back by
// a zero window is given up after OrphanRetries probes once the probe
// interval reached RTOMax, even while the peer answers them (Linux
// tcp_orphan_retries, 8 by default): else a peer could hold its buffers in
// FIN-WAIT-1 for ever.
func TestFinWait1_ZeroWindowOrphan(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true; c.RTOMax = 10 * time.Second })
	zeroWindow(h)
	h.app.Close()
	h.wantState(FinWait1)
	probes := 0
	for h.c.State() != Closed && probes < 1000 {
		if probeRound(h, true) {
			probes++
		}
	}
	h.wantState(Closed)
	if probes < 8 {
		t.Errorf("gave up after %d probes, want at least OrphanRetries = 8", probes)
	}
}

// A window smaller than sender SWS avoidance sends into, with nothing in
// flight, is as shut as a zero one: the persist timer runs and, at its
// deadline, sends what fits (RFC 9293 §3.8.6.2.1, the override timeout),
// else the data would wait for ever.
func TestEstablished_SmallWindowOverride(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.recvSeg(&Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 3000})
	h.recvSeg(&Segment{Seq: remoteISS + 1, Ack: localISS + 1, Flags: ACK, Window: 56})
	h.app.Write(strings.Repeat("y", 2000))
	h.wantNothingMore()
	if h.c.NextDeadline() == 0 {
		t.Fatal("no timer armed: 2000 bytes wait behind a 56-byte window for ever")
	}
	h.advanceToDeadline()
	h.wantSent("what fits", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1, payload: strings.Repeat("y", 56)})
}

// An orphan's retransmissions are given up after OrphanRetries, not
// Retries (Linux tcp_orphan_retries): the application will never learn
// the outcome, and the buffers are held meanwhile.
func TestFinWait1_OrphanRetransmissionsGiveUp(t *testing.T) {
	for _, orphan := range []bool{true, false} {
		h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
		h.app.Write("data")
		if orphan {
			h.app.Close()
		} else {
			h.app.CloseWrite()
		}
		h.drain()
		rtos := 0
		for h.c.State() != Closed && rtos < 100 {
			h.advanceToDeadline()
			if len(h.drain()) > 0 {
				rtos++
			}
		}
		want := 15 // Retries
		if orphan {
			want = 8 // OrphanRetries
		}
		if rtos != want {
			t.Errorf("orphan %v: %d retransmissions before giving up, want %d", orphan, rtos, want)
		}
	}
}
