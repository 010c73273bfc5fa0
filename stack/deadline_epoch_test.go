package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// net.Conn: any non-zero time.Time in the past expires the deadline at
// once; only the zero time.Time clears it. The Unix epoch is such a time
// (its UnixNano is 0, the clock's "not set" Instant), and so are times
// before it, down to year 1 (out of UnixNano's range). A Read blocked
// with no deadline ends with a timeout when any of them is set, on a
// clock whose timers never fire.
func TestReadDeadlineAtOrBeforeEpochExpires(t *testing.T) {
	clk := &inertClock{Real: clock.NewReal()}
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
	c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.8.0.2:80"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, when := range []time.Time{time.Unix(0, 0), time.Unix(-1, 0), {}} {
		if when.IsZero() {
			when = time.Time{}.Add(time.Nanosecond) // year 1: not the zero time
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8))
			done <- err
		}()
		c.SetReadDeadline(when)
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("deadline %v: Read = %v, want a timeout", when, err)
			}
		case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
			t.Fatalf("deadline %v: Read still blocked: the deadline was cleared, not expired", when)
		}
		c.SetReadDeadline(time.Time{})
	}
}
