package testnet_test

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
	"github.com/teardown-lab/teardown/testnet"
)

// A crashed host sends nothing more, not even an RST: the client keeps
// retransmitting until its retries run out and its read times out.
func TestCrash_PeerSilentClientTimesOut(t *testing.T) {
	var buf syncbuf.Buffer
	var server *testnet.Host
	var crashedAt time.Duration
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t, testnet.Capture(&buf))
		client := n.Host("client", testnet.TCPOptions(stack.TCPOptions{Retries: 5}))
		server = n.Host("server")
		ln, _ := server.Listen("tcp", ":9")
		go echoOnce(ln)
		c, err := client.Dial("tcp", "server:9")
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		server.Crash()
		crashedAt = time.Duration(start.UnixNano() - time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		c.Write([]byte("anyone there?"))
		_, err = c.Read(make([]byte, 10))
		if !errors.Is(err, syscall.ETIMEDOUT) {
			t.Errorf("read from a crashed peer: %v; want ETIMEDOUT", err)
		}
		t.Logf("the client noticed after %v", time.Since(start))
	})
	for _, s := range from(segments(t, buf.Bytes()), server.Addr(), nil) {
		if s.at >= crashedAt {
			t.Errorf("the crashed server sent %v", s)
		}
	}
}

// Each host may run another system's behaviour: the same close with
// unread data sends RST from a linux host and FIN from a no-rst-on-close
// one.
func TestHostProfile_CloseWithUnreadData(t *testing.T) {
	for _, p := range []profile.Profile{profile.Linux, profile.NoRSTOnClose} {
		t.Run(p.Name, func(t *testing.T) {
			var buf syncbuf.Buffer
			var server *testnet.Host
			synctest.Test(t, func(t *testing.T) {
				n := testnet.New(t, testnet.Capture(&buf))
				client := n.Host("client")
				server = n.Host("server", testnet.Profile(p))
				ln, _ := server.Listen("tcp", ":9")
				closed := make(chan struct{})
				go func() {
					defer close(closed)
					s, err := ln.Accept()
					if err != nil {
						return
					}
					s.Read(make([]byte, 1))
					time.Sleep(10 * time.Millisecond) // the rest has arrived
					s.Close()
				}()
				c, _ := client.Dial("tcp", "server:9")
				c.Write([]byte("hello"))
				<-closed
				io.ReadAll(c)
				c.Close()
			})
			segs := from(segments(t, buf.Bytes()), server.Addr(), nil)
			var first wire.TCPFlags
			for _, s := range segs {
				if s.flags&(wire.FIN|wire.RST) != 0 {
					first = s.flags
					break
				}
			}
			wantRST := p.RSTOnCloseWithUnread
			if first.Has(wire.RST) != wantRST {
				t.Errorf("profile %s: the server's close sent %v first", p.Name, first)
			}
		})
	}
}

// A backlog of 1 that nobody accepts from: under linux the third and
// fourth handshakes complete on the client's side only (SYN cookies, then
// the final ACK dropped by the full accept queue), so the clients' data
// is retransmitted on the wire while the listener counts the overflows.
func TestBacklog_FullQueueDropsAndClientsRetransmit(t *testing.T) {
	var buf syncbuf.Buffer
	var client *testnet.Host
	var overflows uint64
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t, testnet.Capture(&buf))
		server := n.Host("server", testnet.Backlog(1))
		ln, err := server.Listen("tcp", ":9")
		if err != nil {
			t.Fatal(err)
		}
		client = n.Host("client")
		done := make(chan struct{})
		for range 4 {
			go func() {
				defer func() { done <- struct{}{} }()
				if c, err := client.Dial("tcp", "server:9"); err == nil {
					c.Write([]byte("hello"))
					time.Sleep(3 * time.Second)
					c.Close()
				}
			}()
		}
		for range 4 {
			<-done
		}
		overflows = ln.(*stack.TCPListener).Stats().AcceptOverflows
	})
	if overflows == 0 {
		t.Error("the listener counted no accept-queue overflow")
	}
	if r := retransmitted(segments(t, buf.Bytes()), client.Addr()); r == 0 {
		t.Error("no client retransmitted its data to the full listener")
	}
}

// A path MTU black hole: full-sized segments vanish, small ones pass.
func TestPathMTU_LargeSegmentsVanish(t *testing.T) {
	segs, client, _ := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.PathMTU(1000))
		ln, _ := server.Listen("tcp", ":9")
		got := make(chan int)
		go func() {
			s, err := ln.Accept()
			if err != nil {
				got <- -1
				return
			}
			s.SetReadDeadline(time.Now().Add(5 * time.Second))
			b, _ := io.ReadAll(s)
			got <- len(b)
		}()
		c, err := client.Dial("tcp", "server:9")
		if err != nil {
			t.Fatal("the handshake's small segments should pass:", err)
		}
		c.Write(bytes.Repeat([]byte("x"), 3000))
		if k := <-got; k != 0 {
			t.Errorf("the server read %d bytes through a 1000-byte black hole; want 0", k)
		}
		c.Close()
	})
	if r := retransmitted(segs, client.Addr()); r < 2 {
		t.Errorf("%d retransmissions of segments that can never pass", r)
	}
}

// The same seed gives the same capture, byte for byte; another seed
// another one.
func TestDeterminism_SameSeedSameCapture(t *testing.T) {
	run := func(seed uint64) []byte {
		var buf syncbuf.Buffer
		synctest.Test(t, func(t *testing.T) {
			n := testnet.New(t, testnet.Seed(seed), testnet.Capture(&buf))
			client, server := n.Host("client"), n.Host("server")
			n.Link(client, server, testnet.Loss(0.05), testnet.Jitter(2*time.Millisecond), testnet.Reorder(0.02, time.Millisecond))
			ln, _ := server.Listen("tcp", ":9")
			go echoOnce(ln)
			if got := roundTrip(t, client, "tcp", "server:9", string(pattern(100_000))); got != string(pattern(100_000)) {
				t.Fatal("echo differs")
			}
		})
		return buf.Bytes()
	}
	a, b, c := run(1), run(1), run(2)
	if !bytes.Equal(a, b) {
		t.Errorf("two runs with seed 1 captured different bytes (%d and %d)", len(a), len(b))
	}
	if bytes.Equal(a, c) {
		t.Error("seeds 1 and 2 captured the same bytes: the seed decides nothing")
	}
}

// A host that restarts has forgotten its connections: the client's next
// segment draws an RST from the new stack, and the client's read fails
// with ECONNRESET instead of waiting for ever.
func TestRestart_PeerAnswersWithRST(t *testing.T) {
	var restartedAt time.Duration
	segs, _, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		c := dialEcho(t, client, server)
		start := time.Now()
		server.Crash()
		time.Sleep(time.Second)
		server.Restart()
		restartedAt = time.Since(start)
		c.Write([]byte("still there?"))
		if _, err := c.Read(make([]byte, 10)); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("read from a rebooted peer: %v; want ECONNRESET", err)
		}
	})
	var rsts []seg
	for _, s := range from(segs, server.Addr(), has(wire.RST)) {
		rsts = append(rsts, s)
	}
	if len(rsts) == 0 || rsts[0].at < restartedAt {
		t.Errorf("the server's RSTs %v; want one from the new stack, after the restart at %v", rsts, restartedAt)
	}
}
