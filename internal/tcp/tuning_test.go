package tcp

import (
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Keepalive timing set on an open connection (RFC 1122 §4.2.3.6): the idle
// period already running is measured against the new idle time, probes
// follow at the new interval, and the connection gives up after the new
// count with RST.
func TestEstablished_SetKeepAliveTiming(t *testing.T) {
	h := newHarness(t, Established)
	h.c.SetKeepAlive(h.now, true) // the default idle time: 2 h
	h.advance(4 * time.Second)
	h.c.SetKeepAliveTiming(h.now, 10*time.Second, time.Second, 2)
	h.advance(5 * time.Second)
	h.wantNothingMore() // 9 s idle
	h.advance(time.Second)
	h.wantSent("probe 1 after 10 s idle", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.advance(time.Second)
	h.wantSent("probe 2 one interval later", seg{flags: ACK, seq: localISS, ack: remoteISS + 1})
	h.advance(time.Second)
	h.wantSent("reset after count probes", seg{flags: RST | ACK, seq: localISS + 1, ack: remoteISS + 1})
	if h.c.Err() != ErrTimeout {
		t.Errorf("Err = %v, want ErrTimeout", h.c.Err())
	}
}

// An idle time shorter than the idle period already run makes the first
// probe due at once; zero values leave the settings as they were.
func TestEstablished_SetKeepAliveTimingShorterThanElapsed(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.KeepAlive = true })
	h.advance(time.Minute)
	h.c.SetKeepAliveTiming(h.now, 30*time.Second, 0, 0)
	if d := h.c.NextDeadline(); d != h.now {
		t.Fatalf("keepalive due %v after now, want now", d.Sub(h.now))
	}
	if h.c.cfg.KeepAliveInterval != 75*time.Second || h.c.cfg.KeepAliveCount != 9 {
		t.Errorf("zero interval and count changed them: %v, %d", h.c.cfg.KeepAliveInterval, h.c.cfg.KeepAliveCount)
	}
}

// Tuning one connection of a shared Config leaves the others alone.
func TestEstablished_TuningLeavesSharedConfig(t *testing.T) {
	shared := Config{KeepAlive: true}.Share()
	a := NewActive(startTime, shared, localISS)
	b := NewActive(startTime, shared, remoteISS)
	a.SetKeepAliveTiming(startTime, time.Second, time.Second, 1)
	a.SetUserTimeout(time.Second)
	a.SetSendBuffer(5000)
	if shared.KeepAliveIdle != 2*time.Hour || shared.UserTimeout != 0 || shared.SendBuffer != 256<<10 {
		t.Errorf("shared Config changed: idle %v, user timeout %v, send buffer %d", shared.KeepAliveIdle, shared.UserTimeout, shared.SendBuffer)
	}
	if b.cfg != shared || a.cfg == shared {
		t.Error("the tuned connection still shares its Config, or the other lost it")
	}
}

// The user timeout set on an open connection (RFC 5482; Linux
// TCP_USER_TIMEOUT) gives up unacknowledged data that long after its
// first retransmission, long before the retransmission limit.
func TestEstablished_SetUserTimeout(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.c.SetUserTimeout(3 * time.Second)
	h.app.Write("lost")
	h.drain()
	h.advanceToDeadline() // the first RTO: the data goes again
	if got := h.drain(); len(got) != 1 || string(got[0].Payload) != "lost" {
		t.Fatalf("at the first RTO sent %v, want the data again", fmtSegs(got))
	}
	first := h.now
	for h.c.State() != Closed {
		h.advanceToDeadline()
		h.drain()
	}
	if h.c.Err() != ErrTimeout || h.now != first.Add(3*time.Second) {
		t.Errorf("closed with %v %v after the first retransmission, want ErrTimeout after 3s", h.c.Err(), h.now.Sub(first))
	}
}

// SO_SNDBUF on an open connection bounds what Write queues.
func TestEstablished_SetSendBuffer(t *testing.T) {
	h := newHarness(t, Established)
	h.c.SetSendBuffer(3000)
	if n, err := h.c.Write(h.now, []byte(strings.Repeat("x", 10000))); n != 3000 || err != nil {
		t.Errorf("Write with a 3000-byte send buffer = %d, %v; want 3000", n, err)
	}
}

// A send buffer shrunk below what is queued keeps the data, which is sent
// and acknowledged as usual; Write waits until the queue is below the new
// size, then fills it up to that size only.
func TestEstablished_SetSendBufferBelowQueued(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write(strings.Repeat("x", 10000))
	sent := 0
	for _, s := range h.drain() {
		sent += len(s.Payload)
	}
	h.c.SetSendBuffer(3000)
	if n, _ := h.c.Write(h.now, []byte("y")); n != 0 {
		t.Fatalf("Write with 10000 queued and a 3000-byte buffer took %d bytes", n)
	}
	h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1 + seqnum.V32(sent)})
	h.drain()
	if n, _ := h.c.Write(h.now, []byte(strings.Repeat("y", 10000))); n != 3000-(10000-sent) {
		t.Errorf("after %d of 10000 bytes were acknowledged Write took %d, want %d", sent, n, 3000-(10000-sent))
	}
}

// SO_RCVBUF on an open connection: a larger buffer opens the advertised
// window; a smaller one never moves the advertised right edge left (RFC
// 9293 §3.8.6.2.1), and data the peer was promised room for is taken.
func TestEstablished_SetRecvBuffer(t *testing.T) {
	h := newHarness(t, Established) // 8000-byte buffer, no window scaling
	h.c.SetRecvBuffer(20000)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1, ack: localISS + 1, payload: strings.Repeat("a", 1000)})
	h.wantSent("window grown to the new buffer", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 1001, window: 19000})
	h.c.SetRecvBuffer(2000)
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 1001, ack: localISS + 1, payload: strings.Repeat("b", 1000)})
	h.wantSent("right edge kept", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 2001, window: 18000})
	h.recv(seg{flags: ACK | PSH, seq: remoteISS + 2001, ack: localISS + 1, payload: strings.Repeat("c", 18000)})
	h.wantSent("all the promised data taken", seg{flags: ACK, seq: localISS + 1, ack: remoteISS + 20001})
	if n, _ := h.c.Read(h.now, make([]byte, 30000)); n != 20000 {
		t.Errorf("read %d bytes, want the 20000 received", n)
	}
}
