package stack

import (
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
)

// Issue 15's last spurious retransmissions on a lossless link came from
// this host's own scheduling: data waiting for a reader goroutine that
// had not run, an ACK waiting for a delayed-ACK timer goroutine, a
// segment still inside a link write when the sender's probe timeout
// fired. These tests pin what the stack does instead, on a hand-driven
// clock: nothing here depends on how fast anything runs.

// handPairWith is handPair with the client's link wrapped by wrap and
// the server's receive buffer set to rcvBuf.
func handPairWith(t *testing.T, rcvBuf int, wrap func(link.Endpoint) link.Endpoint) (clk *handClock, client, server *Stack, c, s *TCPConn) {
	t.Helper()
	clk = &handClock{now: clock.Instant(1e18)}
	a, b := pipe.New(1500, pipe.ShareBuffers())
	var la link.Endpoint = a
	if wrap != nil {
		la = wrap(a)
	}
	var err error
	client, err = New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: la, Clock: clk,
		TCP: TCPOptions{SendBuffer: 256 << 10, ReceiveBuffer: 256 << 10}})
	if err != nil {
		t.Fatal(err)
	}
	server, err = New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: b, Clock: clk,
		TCP: TCPOptions{SendBuffer: 256 << 10, ReceiveBuffer: rcvBuf}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	c, s = connect(t, client, server)
	return clk, client, server, c, s
}

// parkInRead marks a goroutine as parked in Read on c, waiting for data,
// and not run since (woken or not): what is deferred to it waits in the
// queue, and no window update will come from it until it runs.
func parkInRead(c *TCPConn) {
	c.mu.Lock()
	c.inRead++
	c.readersAsleep++
	c.readers.add()
	c.mu.Unlock()
}

// The client fills the server's small window while the application does
// not read. The segment that leaves the client no room for another is
// processed and acknowledged at once, whether a reader is parked in Read
// (its segments are otherwise left to it) or none is there (the ACK
// would otherwise wait for the delayed-ACK timer): the client hears of
// every byte without the clock moving, and nothing is left queued.
func TestSenderWaits_WindowFillingSegmentIsACKedAtOnce(t *testing.T) {
	for _, reader := range []bool{true, false} {
		_, _, _, c, s := handPairWith(t, 8<<10, nil)
		if reader {
			parkInRead(s)
		}
		if _, err := c.Write(make([]byte, 32<<10)); err != nil {
			t.Fatal(err)
		}
		in := c.Info()
		s.mu.Lock()
		queued := s.pending()
		s.mu.Unlock()
		if reader {
			s.mu.Lock()
			s.inRead--
			s.readersAsleep--
			s.mu.Unlock()
		}
		if in.Unacked != 0 || queued {
			t.Errorf("reader in Read %v: the client has %d segments unacknowledged, the server's queue holds segments: %v; want none and none",
				reader, in.Unacked, queued)
		}
		if got := s.Stats().BytesIn; got == 0 || got > 8<<10 {
			t.Errorf("reader in Read %v: the server took %d bytes, want its window's worth (8 KiB at most)", reader, got)
		}
	}
}

// gateLink holds every write while closed: a write that blocks, as one
// into a peer whose lock is held does over the in-process pipe.
type gateLink struct {
	link.Endpoint
	closed  bool
	entered chan struct{}
	release chan struct{}
}

func (g *gateLink) WritePackets(pkts [][]byte) (int, error) {
	if g.closed {
		g.entered <- struct{}{}
		<-g.release
	}
	return g.Endpoint.WritePackets(pkts)
}

// A probe timeout fires while the segment it would resend is still in a
// link write that has not returned: the probe is not sent (Linux checks
// skb_still_in_host_queue), the stack counts it, and once the write goes
// through the peer acknowledges everything with nothing retransmitted.
func TestSenderWaits_ProbeHeldWhileTheSegmentIsInTheHost(t *testing.T) {
	g := &gateLink{entered: make(chan struct{}), release: make(chan struct{})}
	clk, client, _, c, _ := handPairWith(t, 256<<10, func(e link.Endpoint) link.Endpoint { g.Endpoint = e; return g })
	clk.advance(5e6) // sent later than anything the link has taken
	g.closed = true
	done := make(chan error)
	go func() {
		_, err := c.Write(make([]byte, 2*1448))
		done <- err
	}()
	<-g.entered // the data's write blocks, the connection's lock released
	c.mu.Lock()
	due := c.core.NextDeadline()
	c.mu.Unlock()
	if due.IsZero() {
		t.Fatal("no timer armed for the data in flight")
	}
	clk.advance(due.Sub(clk.Now()))
	st, held := c.Stats(), client.Stats().ProbesHeldInHost
	g.closed = false
	close(g.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st.TLPs != 1 || held != 1 || st.Retransmits != 0 {
		t.Fatalf("probe timeouts %d, probes held %d, retransmissions %d; want 1, 1, 0", st.TLPs, held, st.Retransmits)
	}
	if in := c.Info(); in.Unacked != 0 {
		t.Fatalf("%d segments unacknowledged after the write went through, want 0", in.Unacked)
	}
}
