package stack_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// pattern returns n bytes drawn from seed, so both ends can check content.
func pattern(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// exchange runs a server that reads everything, echoes its SHA-256 and
// sends its own payload, and a client that does the mirror image; both
// close gracefully. It returns an error describing the first mismatch.
func exchange(n *simNet, up, down []byte) error {
	l, err := n.server.ListenTCP(9000, stack.ListenOptions{})
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	var srvRep, cliRep stack.CloseReport
	var srvConn, cliConn *stack.TCPConn
	n.run.Go(func() {
		c, err := l.AcceptTCP()
		if err != nil {
			errs <- fmt.Errorf("accept: %w", err)
			return
		}
		srvConn = c
		// Send while receiving, from a second program goroutine.
		var werr error
		writer := n.run.Go(func() {
			_, werr = c.Write(down)
			if werr == nil {
				werr = c.CloseWrite()
			}
		})
		got, err := io.ReadAll(c)
		if err != nil {
			errs <- fmt.Errorf("server read: %w", err)
			return
		}
		if !bytes.Equal(got, up) {
			errs <- fmt.Errorf("server received %d bytes (sha %x), want %d (sha %x)", len(got), sha256.Sum256(got), len(up), sha256.Sum256(up))
			return
		}
		if writer.Wait(); werr != nil {
			errs <- fmt.Errorf("server write: %w", werr)
			return
		}
		srvRep, err = c.GracefulClose(context.Background())
		errs <- err
	})
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.serverIP, 9000))
		if err != nil {
			errs <- fmt.Errorf("dial: %w", err)
			return
		}
		cliConn = c
		var werr error
		writer := n.run.Go(func() {
			_, werr = c.Write(up)
			if werr == nil {
				werr = c.CloseWrite()
			}
		})
		got, err := io.ReadAll(c)
		if err != nil {
			errs <- fmt.Errorf("client read: %w", err)
			return
		}
		if !bytes.Equal(got, down) {
			errs <- fmt.Errorf("client received %d bytes, want %d (content differs: %v)", len(got), len(down), len(got) == len(down))
			return
		}
		if writer.Wait(); werr != nil {
			errs <- fmt.Errorf("client write: %w", werr)
			return
		}
		cliRep, err = c.GracefulClose(context.Background())
		errs <- err
	})
	if err := n.run.Run(nil); err != nil {
		return err
	}
	for range 2 {
		if err := <-errs; err != nil {
			return err
		}
	}
	for who, s := range map[string]*stack.Stack{"server": n.server, "client": n.client} {
		if f := s.Stats().EncodeFailed; f != 0 {
			return fmt.Errorf("%s's core produced %d segments larger than the MTU", who, f)
		}
	}
	for who, r := range map[string]stack.CloseReport{"server": srvRep, "client": cliRep} {
		if r.Ending != stack.EndGraceful || !r.FINSent || !r.FINAcked || !r.FINReceived || r.RSTSent || r.RSTReceived {
			return fmt.Errorf("%s's close was not FIN both ways: %v", who, r)
		}
	}
	// The run ends when no event is left, so TIME-WAIT has passed too.
	for who, c := range map[string]*stack.TCPConn{"server": srvConn, "client": cliConn} {
		if st := c.State(); st != "CLOSED" {
			return fmt.Errorf("%s's connection ended in %s, want CLOSED after TIME-WAIT", who, st)
		}
	}
	return nil
}

func TestBulkJumboMTU(t *testing.T) {
	n := newSimNet(t, 4, simOpts{mtu: 65535, link: netsim.LinkConfig{Latency: time.Millisecond, Loss: 0.01}})
	if err := exchange(n, pattern(7, 8<<20), pattern(8, 8<<20)); err != nil {
		t.Fatalf("seed 4: %v", err)
	}
}

func TestBulkBothWaysClean(t *testing.T) {
	n := newSimNet(t, 3, simOpts{link: netsim.LinkConfig{Latency: 10 * time.Millisecond, Bandwidth: 100e6}})
	if err := exchange(n, pattern(1, 4<<20), pattern(2, 4<<20)); err != nil {
		t.Fatalf("seed 3: %v", err)
	}
	st := n.client.Stats().TCP
	if st.Retransmits != 0 {
		t.Errorf("client retransmitted %d segments on a lossless link", st.Retransmits)
	}
}

func TestBulkBothWaysWithFaults(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			replay.OnFailure(t)
			n := newSimNet(t, seed, simOpts{link: netsim.LinkConfig{
				Latency: 5 * time.Millisecond, Jitter: time.Millisecond, Bandwidth: 50e6,
				Loss: 0.02, Duplicate: 0.01, Reorder: 0.02, ReorderDelay: 3 * time.Millisecond,
				Corrupt: 0.005, QueuePackets: 200,
			}})
			if err := exchange(n, pattern(seed, 1<<20), pattern(seed+100, 1<<20)); err != nil {
				t.Fatalf("replay with seed %d: %v", seed, err)
			}
		})
	}
}

func TestDialClosedPortIsRefused(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	var err error
	n.run.Go(func() { _, err = n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 4444)) })
	n.runAll()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to a closed port: %v, want ECONNREFUSED", err)
	}
	if got := n.server.Stats().RSTsForNoConnection; got != 1 {
		t.Fatalf("server sent %d RSTs for no connection, want 1", got)
	}
}

func TestReadDeadlineTimesOutInVirtualTime(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	l, _ := n.server.ListenTCP(80, stack.ListenOptions{})
	var err error
	var waited time.Duration
	n.run.Go(func() {
		c, _ := l.AcceptTCP()
		defer c.Close()
		start := n.run.Now()
		c.SetReadDeadline(start.Add(3 * time.Second).Time())
		_, err = c.Read(make([]byte, 10))
		waited = n.run.Now().Sub(start)
	})
	n.run.Go(func() {
		c, derr := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if derr != nil {
			t.Error(derr)
			return
		}
		c.SetLinger(0)
		// Keep the connection open, silent, until the server gave up.
		b := make([]byte, 1)
		c.Read(b)
		c.Close()
	})
	n.runAll()
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read: %v, want a timeout error", err)
	}
	if waited != 3*time.Second {
		t.Fatalf("the deadline fired after %v of virtual time, want exactly 3s", waited)
	}
}

func TestLingerZeroAbortsWithRST(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	l, _ := n.server.ListenTCP(80, stack.ListenOptions{})
	var readErr error
	n.run.Go(func() {
		c, _ := l.AcceptTCP()
		_, readErr = io.ReadAll(c)
	})
	var rep stack.CloseReport
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		c.SetLinger(0)
		c.Close()
		rep = c.Report()
	})
	n.runAll()
	if !errors.Is(readErr, syscall.ECONNRESET) {
		t.Errorf("peer of an abortive close read %v, want ECONNRESET", readErr)
	}
	if !rep.RSTSent || rep.Ending != stack.EndResetSent {
		t.Errorf("report %v, want reset-sent", rep)
	}
}

// A positive linger makes Close wait until the data and FIN are
// acknowledged: with 50 ms one-way latency that is at least one RTT.
func TestLingerPositiveWaitsForAck(t *testing.T) {
	n := newSimNet(t, 1, simOpts{link: netsim.LinkConfig{Latency: 50 * time.Millisecond}})
	l, _ := n.server.ListenTCP(80, stack.ListenOptions{})
	n.run.Go(func() {
		c, _ := l.AcceptTCP()
		io.ReadAll(c)
		c.Close()
	})
	var took time.Duration
	var rep stack.CloseReport
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		c.Write(make([]byte, 100_000))
		c.SetLinger(10)
		start := n.run.Now()
		c.Close()
		took = n.run.Now().Sub(start)
		rep = c.Report()
	})
	n.runAll()
	if took < 100*time.Millisecond || took > 10*time.Second {
		t.Errorf("lingering close took %v, want at least one 100ms RTT and less than the 10s linger", took)
	}
	if !rep.FINAcked || rep.SentUnacked != 0 {
		t.Errorf("after a lingering close: %v, want FIN acked and nothing unacknowledged", rep)
	}
}
