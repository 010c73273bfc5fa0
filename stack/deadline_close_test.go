package stack_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// armClock reads the wall clock; its timers never fire but remember the
// instant they are armed for, so a test can see which are still armed.
type armClock struct {
	*clock.Real
	mu    sync.Mutex
	armed map[*armTimer]clock.Instant
}

type armTimer struct{ c *armClock }

func (c *armClock) NewTimer(func()) clock.Timer { return &armTimer{c} }

func (t *armTimer) Reset(at clock.Instant) {
	if at.IsZero() {
		t.Stop()
		return
	}
	t.c.mu.Lock()
	t.c.armed[t] = at
	t.c.mu.Unlock()
}

func (t *armTimer) Stop() {
	t.c.mu.Lock()
	delete(t.c.armed, t)
	t.c.mu.Unlock()
}

// armedFrom counts the timers armed for at or after from.
func (c *armClock) armedFrom(from clock.Instant) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, at := range c.armed {
		if !at.Before(from) {
			n++
		}
	}
	return n
}

// Close disarms the connection's deadline timers: after it every call
// fails with net.ErrClosed whatever the deadline, and a timer left armed
// would hold the closed connection in the runtime's timer heap until it
// fired (a goroutine each) — under churn, every connection closed within
// a deadline's length. TCP's own timers (the FIN's retransmission,
// TIME-WAIT) are armed for far earlier than the day-long deadlines here.
func TestCloseDisarmsDeadlineTimers(t *testing.T) {
	clk := &armClock{Real: clock.NewReal(), armed: map[*armTimer]clock.Instant{}}
	a, b := pipe.New(1500)
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: b, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	l, err := server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, how := range []string{"Close", "linger 0"} {
		c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.8.0.2:80"))
		if err != nil {
			t.Fatal(err)
		}
		peer, err := l.Accept()
		if err != nil {
			t.Fatal(err)
		}
		day := time.Now().Add(24 * time.Hour)
		from := clk.Now().Add(23 * time.Hour)
		if err := c.SetDeadline(day); err != nil {
			t.Fatal(err)
		}
		if n := clk.armedFrom(from); n != 2 {
			t.Fatalf("%s: %d timers armed for the deadline before closing, want 2 (read and write)", how, n)
		}
		switch how {
		case "Close":
			c.Close()
		case "linger 0":
			c.SetLinger(0)
			c.Close()
		}
		if n := clk.armedFrom(from); n != 0 {
			t.Errorf("%s: %d deadline timers still armed after the connection was closed", how, n)
		}
		peer.Close()
	}
}
