package testnet_test

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/testnet"
)

// Toxiproxy's timeout, limit_data and slicer, and the scopes that start
// and stop faults, each checked in the capture.

// offsets returns, for each data segment sent from addr, its first and
// last+1 stream offsets (from the sender's SYN).
func offsets(segs []seg, from *testnet.Host) [][2]int64 {
	var isn uint32
	var out [][2]int64
	for _, s := range segs {
		if s.src.Addr() != from.Addr() {
			continue
		}
		if s.flags.Has(wire.SYN) {
			isn = s.seq + 1
		}
		if s.n > 0 {
			off := int64(s.seq - isn)
			out = append(out, [2]int64{off, off + int64(s.n)})
		}
	}
	return out
}

func TestLimitData_ExactlyNBytesThenReset(t *testing.T) {
	var got int64
	segs, client, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.Upstream(testnet.LimitData(3000)))
		c, read := writeToSink(t, client, server, 10_000)
		if _, err := io.ReadAll(c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client read: %v; want ECONNRESET", err)
		}
		r := <-read
		if got = r.n; !errors.Is(r.err, syscall.ECONNRESET) {
			t.Errorf("server read: %v; want ECONNRESET after the data", r.err)
		}
	})
	if got != 3000 {
		t.Errorf("the server read %d bytes; LimitData(3000) lets exactly 3000 through", got)
	}
	cut := false
	for _, o := range offsets(segs, client) {
		cut = cut || o[1] == 3000 && o[1]-o[0] < 1460
	}
	syn := from(segs, client.Addr(), has(wire.SYN))[0]
	var acked int64
	for _, s := range from(segs, server.Addr(), has(wire.ACK)) {
		acked = max(acked, int64(s.ack-syn.seq-1))
	}
	if !cut || acked != 3000 {
		t.Errorf("cut segment ending at offset 3000 on the wire: %v; the server acknowledged up to %d; want the cut and 3000", cut, acked)
	}
	if len(from(segs, client.Addr(), has(wire.RST))) == 0 || len(from(segs, server.Addr(), has(wire.RST))) == 0 {
		t.Error("no RST in the capture in each direction")
	}
}

// Downstream is the server-to-client direction: the client's request
// crosses whole, the reply is cut.
func TestDownstream_LimitDataCutsOnlyTheReply(t *testing.T) {
	var got, upstream int64
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		client, server := n.Host("client"), n.Host("server")
		n.Link(client, server, testnet.Downstream(testnet.LimitData(100)))
		ln, _ := server.Listen("tcp", ":9")
		go func() {
			s, err := ln.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 5000)
			m, _ := io.ReadFull(s, buf)
			upstream = int64(m)
			s.Write(pattern(5000))
		}()
		c, err := client.Dial("tcp", "server:9")
		if err != nil {
			t.Fatal(err)
		}
		c.Write(pattern(5000))
		got, err = io.Copy(io.Discard, c)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client read: %v; want ECONNRESET", err)
		}
	})
	if upstream != 5000 || got != 100 {
		t.Errorf("the server read %d bytes and the client %d; want all 5000 up and 100 down", upstream, got)
	}
}

func TestTimeout_StallsThenResetsBothEnds(t *testing.T) {
	segs, client, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.Timeout(5*time.Second))
		start := time.Now()
		c, s := dialAccept(t, client, server)
		c.Write([]byte("hello"))
		got, err := io.ReadAll(s)
		if len(got) != 0 || !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("server read %q, %v; want nothing, then ECONNRESET", got, err)
		}
		if waited := time.Since(start); waited < 5*time.Second {
			t.Errorf("the reset came %v after the dial, before the 5s timeout", waited)
		}
		if _, err := io.ReadAll(c); !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("client read: %v; want ECONNRESET", err)
		}
	})
	if r := retransmitted(segs, client.Addr()); r == 0 {
		t.Error("the client never retransmitted its data: it was not stopped")
	}
	syn := from(segs, client.Addr(), has(wire.SYN))[0]
	for _, addr := range []*testnet.Host{client, server} {
		rsts := from(segs, addr.Addr(), has(wire.RST))
		if len(rsts) == 0 || rsts[0].at-syn.at < 5*time.Second {
			t.Errorf("RSTs from %s's address: %v; want one 5s after the SYN", addr, rsts)
		}
	}
}

// With 0 the data waits for the fault to go; the retransmission then
// gets through.
func TestTimeout_ZeroDropsUntilRemoved(t *testing.T) {
	segs, client, _ := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.Upstream(testnet.Timeout(0)))
		c, s := dialAccept(t, client, server)
		c.Write([]byte("hello"))
		s.SetReadDeadline(time.Now().Add(30 * time.Second))
		b := make([]byte, 5)
		if _, err := s.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("server read under Timeout(0): %v; want nothing until its deadline", err)
		}
		n.Link(client, server)
		s.SetReadDeadline(time.Time{})
		if _, err := io.ReadFull(s, b); err != nil || string(b) != "hello" {
			t.Errorf("after the fault went the server read %q, %v", b, err)
		}
	})
	if r := retransmitted(segs, client.Addr()); r < 3 {
		t.Errorf("%d retransmissions of the stopped data; want several in 30s", r)
	}
}

func TestSlicer_PiecesOnTheWire(t *testing.T) {
	const size = 20_000
	var sent uint64
	got, capture, _, client, _ := uploadWith(t, size, &sent, testnet.Upstream(testnet.Slicer(100, 40, time.Millisecond)))
	if string(got) != string(pattern(size)) {
		t.Fatalf("the server read %d bytes, not the %d sent, intact", len(got), size)
	}
	segs := segments(t, capture)
	data := from(segs, client.Addr(), func(s seg) bool { return s.n > 0 })
	sizes := map[int]bool{}
	apart := 0
	for i, s := range data {
		if s.n > 140 {
			t.Fatalf("a %d-byte segment crossed Slicer(100, 40, 1ms): %v", s.n, s)
		}
		sizes[s.n] = true
		if i > 0 && s.at-data[i-1].at == time.Millisecond {
			apart++
		}
	}
	if len(sizes) < 10 || apart == 0 {
		t.Errorf("%d piece sizes, %d pieces 1ms after the one before; want sizes varying, pieces 1ms apart", len(sizes), apart)
	}
	if uint64(len(data)) <= sent {
		t.Errorf("%d data segments on the wire for %d the client's stack sent; the network cuts them", len(data), sent)
	}
	t.Logf("the stack sent %d data segments, the wire carried %d pieces", sent, len(data))
}

// AfterBytes waits for the stream's offset: the first 4000 bytes cross
// in full-sized segments, the rest sliced.
func TestAfterBytes_SlicesOnlyPastTheOffset(t *testing.T) {
	_, capture, _, client, _ := upload(t, 12_000, testnet.Upstream(testnet.AfterBytes(4000, testnet.Slicer(100, 0, 0))))
	big := 0
	for _, o := range offsets(segments(t, capture), client) {
		switch {
		case o[0] >= 4000 && o[1]-o[0] > 100:
			t.Errorf("bytes %d-%d crossed whole, past offset 4000", o[0], o[1])
		case o[0] < 4000 && o[1]-o[0] > 100:
			big++
		}
	}
	if big == 0 {
		t.Error("no full-sized segment before offset 4000: the slicer started early")
	}
}

// Between opens and closes netsim's faults at the network's times: all
// packets lost between 1s and 2s, none before or after.
func TestBetween_LossOnlyInTheWindow(t *testing.T) {
	var firstAt, secondAt time.Duration
	segs, client, _ := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.Upstream(testnet.Between(time.Second, 2*time.Second, testnet.Loss(1))))
		start := time.Now()
		c, s := dialAccept(t, client, server)
		b := make([]byte, 3)
		c.Write([]byte("one"))
		io.ReadFull(s, b)
		firstAt = time.Since(start)
		time.Sleep(1500*time.Millisecond - firstAt)
		c.Write([]byte("two"))
		if _, err := io.ReadFull(s, b); err != nil || string(b) != "two" {
			t.Errorf("second read %q, %v", b, err)
		}
		secondAt = time.Since(start)
	})
	if firstAt >= time.Second || secondAt < 2*time.Second {
		t.Errorf("the first message arrived at %v, the second at %v; want before 1s, and after 2s when the loss stops", firstAt, secondAt)
	}
	if r := retransmitted(segs, client.Addr()); r == 0 {
		t.Error("no retransmission on the wire: nothing was lost in the window")
	}
}

// At starts a TCP-level fault at a time: data before it crosses, data
// after it is stopped.
func TestAt_TimeoutFromOneSecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		client, server := n.Host("client"), n.Host("server")
		n.Link(client, server, testnet.Upstream(testnet.At(time.Second, testnet.Timeout(0))))
		ln, _ := server.Listen("tcp", ":9")
		c, err := client.Dial("tcp", "server:9")
		if err != nil {
			t.Fatal(err)
		}
		s, _ := ln.Accept()
		b := make([]byte, 3)
		c.Write([]byte("one"))
		if _, err := io.ReadFull(s, b); err != nil {
			t.Errorf("before 1s: %v", err)
		}
		time.Sleep(time.Second)
		c.Write([]byte("two"))
		s.SetReadDeadline(time.Now().Add(20 * time.Second))
		if m, err := s.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("after 1s the server read %q, %v; want nothing", b[:m], err)
		}
	})
}

// Toxicity takes toxiproxy's latency too: the picked connections' segments
// are held 200ms in the middle of the network, the others cross at once.
// On the wire: the client's handshake ACK leaves the middle 200ms late.
func TestToxicity_LatencyForPickedConnectionsOnly(t *testing.T) {
	segs, client, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.Upstream(testnet.Toxicity(0.5, testnet.Latency(200*time.Millisecond))))
		ln, _ := server.Listen("tcp", ":9")
		go serveEach(ln, func(c net.Conn) { c.Close() })
		for range 20 {
			c, err := client.Dial("tcp", "server:9")
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	})
	synack := map[uint16]time.Duration{}
	slow, fast := 0, 0
	for _, s := range segs {
		switch {
		case s.src.Addr() == server.Addr() && s.flags.Has(wire.SYN|wire.ACK):
			synack[s.dst.Port()] = s.at
		case s.src.Addr() == client.Addr() && s.flags == wire.ACK && synack[s.src.Port()] > 0:
			switch gap := s.at - synack[s.src.Port()]; {
			case gap == time.Millisecond:
				fast++
			case gap >= 201*time.Millisecond:
				slow++
			default:
				t.Errorf("port %d: handshake ACK %v after the SYN-ACK; want 1ms or 201ms and more", s.src.Port(), gap)
			}
			delete(synack, s.src.Port())
		}
	}
	if slow == 0 || fast == 0 {
		t.Errorf("%d slow and %d fast handshakes; toxicity 0.5 should delay some, not all", slow, fast)
	}
	t.Logf("%d of %d connections delayed", slow, slow+fast)
}

// The toxics draw from the seed and hold packets on the network's timers:
// the same seed gives the same capture, byte for byte.
func TestToxics_SameSeedSameCapture(t *testing.T) {
	faults := []testnet.Fault{
		testnet.Upstream(testnet.Slicer(300, 200, time.Millisecond)),
		testnet.Downstream(testnet.Toxicity(0.5, testnet.Latency(5*time.Millisecond), testnet.Jitter(5*time.Millisecond))),
	}
	_, first, _, _, _ := upload(t, 30_000, faults...)
	_, second, _, _, _ := upload(t, 30_000, faults...)
	if len(first) == 0 || string(first) != string(second) {
		t.Errorf("two runs with the same seed: captures of %d and %d bytes, not identical", len(first), len(second))
	}
}
