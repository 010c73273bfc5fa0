package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
)

// pipePair is two real-time stacks joined by an in-process pipe.
func pipePair(t *testing.T, mtu int) (client, server *Stack) {
	t.Helper()
	a, b := pipe.New(mtu, pipe.ShareBuffers())
	opts := TCPOptions{SendBuffer: 256 << 10, ReceiveBuffer: 256 << 10}
	client, err := New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a, TCP: opts})
	if err != nil {
		t.Fatal(err)
	}
	server, err = New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: b, TCP: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// connect returns an established client connection and the server's end.
func connect(t *testing.T, client, server *Stack) (*TCPConn, *TCPConn) {
	t.Helper()
	l, err := server.ListenTCP(7000, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.2:7000"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// Both directions at once over a real-time pipe, each with its own reader
// and writer goroutine: every byte arrives once and in order, and the
// segments were processed by the connections' own readers and writers
// (deferred) rather than all by the goroutines that delivered them.
func TestDeferredSegmentsCarryABidirectionalTransfer(t *testing.T) {
	for _, mtu := range []int{1500, 65535} {
		client, server := pipePair(t, mtu)
		c, s := connect(t, client, server)
		up, down := bytes.Repeat([]byte("upstream-"), 2<<20/9), bytes.Repeat([]byte("down."), 3<<20/5)
		var wg sync.WaitGroup
		send := func(conn *TCPConn, p []byte) {
			defer wg.Done()
			// Odd-sized writes so that segment and write boundaries differ.
			for off := 0; off < len(p); off += 77777 {
				if _, err := conn.Write(p[off:min(off+77777, len(p))]); err != nil {
					t.Errorf("write: %v", err)
					return
				}
			}
			conn.CloseWrite()
		}
		var gotUp, gotDown [32]byte
		recv := func(conn *TCPConn, sum *[32]byte, want int) {
			defer wg.Done()
			h := sha256.New()
			n, err := io.CopyBuffer(h, conn, make([]byte, 50000))
			if err != nil || n != int64(want) {
				t.Errorf("read %d bytes, %v; want %d", n, err, want)
			}
			h.Sum(sum[:0])
		}
		for _, conn := range []*TCPConn{c, s} {
			conn.SetDeadline(time.Now().Add(60 * time.Second))
		}
		wg.Add(4)
		go send(c, up)
		go send(s, down)
		go recv(s, &gotUp, len(up))
		go recv(c, &gotDown, len(down))
		wg.Wait()
		if gotUp != sha256.Sum256(up) || gotDown != sha256.Sum256(down) {
			t.Fatalf("mtu %d: the bytes differ from what was sent", mtu)
		}
		cs, ss := client.Stats(), server.Stats()
		if cs.SegmentsDeferred == 0 || ss.SegmentsDeferred == 0 {
			t.Fatalf("mtu %d: deferred %d (client) and %d (server) segments; the readers and writers took none", mtu, cs.SegmentsDeferred, ss.SegmentsDeferred)
		}
		if bad := cs.Dropped["bad-checksum"] + ss.Dropped["bad-checksum"]; bad != 0 {
			t.Fatalf("mtu %d: %d segments failed their checksum", mtu, bad)
		}
		c.Close()
		s.Close()
	}
}

// Data queued for a goroutine inside Read is received data: Close still
// finds it unread and resets the connection (RFC 2525 §2.17, linux
// profile), and the close report counts it.
func TestDeferredDataCountsAsUnreadAtClose(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	// Stand in for a goroutine that is inside Read on s (blocked there, and
	// not yet scheduled when the data arrives).
	s.mu.Lock()
	s.inRead++
	s.mu.Unlock()
	if _, err := c.Write([]byte("unread")); err != nil {
		t.Fatal(err)
	}
	if got := server.Stats().SegmentsDeferred; got != 1 {
		t.Fatalf("%d segments deferred, want the data segment", got)
	}
	s.mu.Lock()
	queued := s.core.Readable()
	s.inRead--
	s.mu.Unlock()
	if queued != 0 {
		t.Fatalf("the core already holds %d bytes: the segment was not deferred", queued)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if rep := s.Report(); rep.UnreadDiscarded != len("unread") {
		t.Fatalf("report %v: want the 6 deferred bytes counted as unread", rep)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after the server closed with unread data: %v, want ECONNRESET", err)
	}
}

// Deferred segments are part of the connection's locking: every call that
// takes the connection first runs the segments waiting for a goroutine
// inside Read, since they arrived before the call. (SetNoDelay,
// SetKeepAlive, GracefulClose, Report and State used not to.)
func TestDeferredDataRunsBeforeEveryCall(t *testing.T) {
	calls := []struct {
		name string
		call func(*TCPConn)
	}{
		{"State", func(s *TCPConn) { s.State() }},
		{"Stats", func(s *TCPConn) { s.Stats() }},
		{"Info", func(s *TCPConn) { s.Info() }},
		{"Report", func(s *TCPConn) { s.Report() }},
		{"SetNoDelay", func(s *TCPConn) { s.SetNoDelay(true) }},
		{"SetKeepAlive", func(s *TCPConn) { s.SetKeepAlive(true) }},
		{"SetLinger", func(s *TCPConn) { s.SetLinger(5) }},
		{"SetReadDeadline", func(s *TCPConn) { s.SetReadDeadline(time.Time{}) }},
		{"CloseRead", func(s *TCPConn) { s.CloseRead() }},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			client, server := pipePair(t, 1500)
			c, s := connect(t, client, server)
			s.mu.Lock()
			s.inRead++ // a goroutine inside Read, not yet scheduled
			s.mu.Unlock()
			if _, err := c.Write([]byte("queued")); err != nil {
				t.Fatal(err)
			}
			if got := server.Stats().SegmentsDeferred; got != 1 {
				t.Fatalf("%d segments deferred, want the data segment", got)
			}
			tc.call(s)
			s.mu.Lock()
			held, waiting := s.core.Readable(), len(s.rx.pkts)
			s.inRead--
			s.mu.Unlock()
			if held != len("queued") || waiting != 0 {
				t.Fatalf("after %s the core holds %d bytes and %d segments wait: the call did not run the segment that arrived before it",
					tc.name, held, waiting)
			}
		})
	}
}

// GracefulClose drains the data that waited for a reader, too: it arrived
// before the close, and counts as drained, not as lost.
func TestDeferredDataIsDrainedByGracefulClose(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	s.mu.Lock()
	s.inRead++
	s.mu.Unlock()
	if _, err := c.Write([]byte("queued")); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.inRead--
	s.mu.Unlock()
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := s.GracefulClose(ctx)
	if err != nil || rep.Drained != len("queued") || rep.Ending != EndGraceful {
		t.Fatalf("GracefulClose: %v, %v; want a graceful end that drained the 6 deferred bytes", rep, err)
	}
}

// A batch of deferred data segments draws two ACKs, one after its first
// half and one at its end, not one for the whole batch: between two
// stacks in one process a window arrives as one batch, and a single ACK
// for it, lost, stalled the sender until a timer fired (issue 15).
func TestDeferredBatchDrawsTwoACKs(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	s.mu.Lock()
	s.inRead++ // a goroutine inside Read, not yet scheduled
	s.mu.Unlock()
	const segs = 8
	if _, err := c.Write(make([]byte, segs*1448)); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	queued := len(s.rx.pkts)
	s.mu.Unlock()
	if queued != segs {
		t.Fatalf("%d segments wait for the reader, want %d", queued, segs)
	}
	before := server.Stats().TCP.SegsOut
	s.State() // runs the batch
	if acks := server.Stats().TCP.SegsOut - before; acks != 2 {
		t.Errorf("a batch of %d segments drew %d ACKs, want 2", segs, acks)
	}
	s.mu.Lock()
	s.inRead--
	s.mu.Unlock()
}
