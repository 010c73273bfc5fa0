package stack

import (
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pipe"
)

// countingClock is the wall clock, counted: every reading adds one. Its
// timers never fire, so nothing reads it between a test's calls but the
// calls themselves.
type countingClock struct {
	*clock.Real
	reads atomic.Int64
}

func (c *countingClock) Now() clock.Instant { c.reads.Add(1); return c.Real.Now() }

func (c *countingClock) NewTimer(func()) clock.Timer { return idleTimer{} }

type idleTimer struct{}

func (idleTimer) Reset(clock.Instant) {}
func (idleTimer) Stop()               {}

// A segment processed where it arrives and a Read each read the clock
// once, the core's output taken at that instant, with or without a
// deadline; a Write reads it for its try (deadline and core share it) and
// again for what it sends. On main they read it two, three and three
// times (~100 ns each: 8-9 % of a bulk transfer's CPU at MTU 65535, issue
// 15). The counts bound what the hot path costs, as the allocation tests
// do; the data must still arrive whole.
func TestEstablished_OneClockReadPerCall(t *testing.T) {
	cc, sc := &countingClock{Real: clock.NewReal()}, &countingClock{Real: clock.NewReal()}
	a, b := pipe.New(1500, pipe.ShareBuffers())
	client, err := New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a, Clock: cc})
	if err != nil {
		t.Fatal(err)
	}
	server, err := New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: b, Clock: sc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	c, s := connect(t, client, server)
	for _, deadline := range []bool{false, true} {
		if deadline { // set before counting: setting one reads the clock
			c.SetDeadline(time.Now().Add(time.Hour))
			s.SetDeadline(time.Now().Add(time.Hour))
		}
		clockReadsPerCall(t, deadline, c, s, cc, sc)
	}
}

// clockReadsPerCall sends one segment from c to s and reads it, counting
// each side's clock reads (cc, sc).
func clockReadsPerCall(t *testing.T, deadline bool, c, s *TCPConn, cc, sc *countingClock) {
	t.Helper()
	// One segment, no goroutine in the server's Read: processed on the
	// writer's goroutine as it arrives. The client reads its clock twice
	// for the Write and, if the ACK comes back at once (deferred to the
	// writer), twice for that batch.
	cc.reads.Store(0)
	sc.reads.Store(0)
	msg := []byte("one segment of data")
	if n, err := c.Write(msg); n != len(msg) || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	if got := sc.reads.Load(); got != 1 {
		t.Errorf("deadline %v: segment processed where it arrives: %d clock reads, want 1", deadline, got)
	}
	if got := cc.reads.Load(); got > 4 {
		t.Errorf("deadline %v: Write and the ACK it drew: %d clock reads, want at most 4", deadline, got)
	}

	// The server reads what waits: one reading for the Read, its
	// deadline and its output; what that output sends the client (a
	// window update, if any) is processed there as it arrives, with one.
	cc.reads.Store(0)
	sc.reads.Store(0)
	buf := make([]byte, 64)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != string(msg) {
		t.Fatalf("Read = %q, %v; want %q", buf[:n], err, msg)
	}
	if got := sc.reads.Load(); got != 1 {
		t.Errorf("deadline %v: Read: %d clock reads, want 1", deadline, got)
	}
	if got := cc.reads.Load(); got > 1 {
		t.Errorf("deadline %v: what the Read sent: %d clock reads, want at most 1", deadline, got)
	}
}
