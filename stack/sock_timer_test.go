package stack

import (
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// handClock stands still until the test moves it; its timers fire, on
// the test's goroutine, only when advance passes their instant.
type handClock struct {
	mu     sync.Mutex
	now    clock.Instant
	timers []*handTimer
}

type handTimer struct {
	c  *handClock
	fn func()
	at clock.Instant // zero: disarmed
}

func (c *handClock) Now() clock.Instant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *handClock) NewTimer(fn func()) clock.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &handTimer{c: c, fn: fn}
	c.timers = append(c.timers, t)
	return t
}

func (t *handTimer) Reset(at clock.Instant) { t.c.mu.Lock(); t.at = at; t.c.mu.Unlock() }
func (t *handTimer) Stop()                  { t.Reset(0) }

// advance moves the clock to now+d and fires, once each, the timers due
// by then.
func (c *handClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	for _, t := range c.timers {
		if t.at != 0 && t.at <= c.now {
			t.at = 0
			due = append(due, t.fn)
		}
	}
	c.mu.Unlock()
	for _, fn := range due {
		fn()
	}
}

// handPair is two stacks over an in-process pipe on one handClock, with
// an established connection: the client's end and the server's.
func handPair(t *testing.T) (clk *handClock, client, server *Stack, c, s *TCPConn) {
	t.Helper()
	return handPairWith(t, 256<<10, nil)
}

// inside marks a goroutine as inside Read (or Write) on c that has not
// run since: what is deferred to it waits in the queue.
func inside(c *TCPConn, n *int32, by int32) {
	c.mu.Lock()
	*n += by
	c.mu.Unlock()
}

// A retransmission timer that expires while the ACKs for everything in
// flight wait in the deferred queue (the writer inside Write has not run)
// does not retransmit: the firing runs the queue first, then the core
// finds nothing unacknowledged. Linux orders it the same way: a timer
// that fires while the socket is owned waits for release_sock, after
// the backlog.
func TestDeferredQueue_TimerRunsQueuedACKsBeforeRetransmitting(t *testing.T) {
	clk, _, _, c, s := handPair(t)
	inside(c, &c.inWrite, 1) // a writer inside Write, not scheduled
	defer inside(c, &c.inWrite, -1)
	inside(s, &s.inRead, 1)
	if _, err := c.Write(make([]byte, 8*1448)); err != nil {
		t.Fatal(err)
	}
	inside(s, &s.inRead, -1)
	s.State() // the server runs its queue: its ACKs wait for c's writer
	c.mu.Lock()
	acks, rtxAt := len(c.rx.pkts), c.core.NextDeadline()
	c.mu.Unlock()
	if acks == 0 || rtxAt.IsZero() {
		t.Fatalf("%d ACKs wait for the client's writer, its core's deadline is %v; want ACKs waiting and a timer", acks, rtxAt)
	}
	// Past the retransmission (or probe) timeout in one step: one firing.
	clk.advance(rtxAt.Sub(clk.Now()))
	st := c.Stats()
	if st.Retransmits != 0 || st.RTOs != 0 || st.TLPs != 0 {
		t.Fatalf("client: %d retransmissions, %d RTOs, %d probes with every ACK already received", st.Retransmits, st.RTOs, st.TLPs)
	}
	if in := c.Info(); in.Unacked != 0 {
		t.Fatalf("client: %d segments unacknowledged, want 0", in.Unacked)
	}
}
