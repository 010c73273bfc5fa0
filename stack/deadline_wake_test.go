package stack_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// inertClock reads the wall clock but its timers never fire; it counts
// the timers armed for an instant already past.
type inertClock struct {
	*clock.Real
	mu   sync.Mutex
	past int
}

func (c *inertClock) NewTimer(func()) clock.Timer { return inertTimer{c} }

type inertTimer struct{ c *inertClock }

func (t inertTimer) Reset(at clock.Instant) {
	if !at.IsZero() && !t.c.Now().Before(at) {
		t.c.mu.Lock()
		t.c.past++
		t.c.mu.Unlock()
	}
}
func (inertTimer) Stop() {}

// A read deadline moved into the past ends a blocked Read by itself, with
// no timer (net/http's abortPendingRead before every Close): on a clock
// whose timers never fire the Read still returns its timeout, and no timer
// was armed to fire at once — its goroutine would only have contended for
// the connection's lock with the woken Read.
func TestReadDeadlineInThePastWakesWithoutTimer(t *testing.T) {
	clk, c := inertConn(t)
	for round := range 3 {
		clk.mu.Lock()
		clk.past = 0
		clk.mu.Unlock()
		done := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8))
			done <- err
		}()
		// Whether the Read blocked yet or not, it must end with a timeout.
		c.SetReadDeadline(time.Unix(1, 0))
		if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("round %d: Read = %v, want a timeout", round, err)
		}
		c.SetReadDeadline(time.Time{})
		clk.mu.Lock()
		past := clk.past
		clk.mu.Unlock()
		if past != 0 {
			t.Fatalf("round %d: %d timers armed for an instant already past", round, past)
		}
	}
}

// BenchmarkReadDeadlineAbort times net/http's abort of a background Read
// (SetReadDeadline in the past, wait for the Read to return, clear the
// deadline) on our stack over a pipe and on a kernel loopback socket:
// abort-p50-µs and abort-p90-µs.
//
//	go test ./stack -run '^$' -bench ReadDeadlineAbort -count 3
func BenchmarkReadDeadlineAbort(b *testing.B) {
	b.Run("stack=ours", func(b *testing.B) {
		a, z := pipe.New(1500)
		client, _ := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a})
		server, _ := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: z})
		defer client.Close()
		defer server.Close()
		l, _ := server.ListenTCP(80, stack.ListenOptions{})
		go l.Accept()
		c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.8.0.2:80"))
		if err != nil {
			b.Fatal(err)
		}
		benchAbort(b, c)
	})
	b.Run("stack=kernel", func(b *testing.B) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Skip(err)
		}
		defer l.Close()
		go l.Accept()
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		benchAbort(b, c)
	})
}

func benchAbort(b *testing.B, c net.Conn) {
	done := make(chan struct{})
	buf := make([]byte, 10)
	var ds []time.Duration
	for b.Loop() {
		go func() {
			c.Read(buf)
			done <- struct{}{}
		}()
		time.Sleep(20 * time.Microsecond) // let the Read block
		t0 := time.Now()
		c.SetReadDeadline(time.Unix(1, 0))
		<-done
		c.SetReadDeadline(time.Time{})
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/1e3, "abort-p50-µs")
	b.ReportMetric(float64(ds[len(ds)*9/10].Nanoseconds())/1e3, "abort-p90-µs")
}

// inertConn connects two stacks over a pipe on one inertClock and returns
// the clock and the client's connection; the test's cleanup closes them.
func inertConn(t *testing.T) (*inertClock, *stack.TCPConn) {
	t.Helper()
	clk := &inertClock{Real: clock.NewReal()}
	a, b := pipe.New(1500)
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: b, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	l, err := server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.8.0.2:80"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return clk, c
}
