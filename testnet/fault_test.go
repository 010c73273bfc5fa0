package testnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
	"github.com/teardown-lab/teardown/testnet"
)

// pattern is size bytes that differ from one offset to the next.
func pattern(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// upload sends size bytes from client to server:9 over a network with
// faults between them and returns what the server read and the capture.
// The client half-closes and waits for the server's close (GracefulClose).
func upload(t *testing.T, size int, faults ...testnet.Fault) (got []byte, capture []byte, n *testnet.Network, client, server *testnet.Host) {
	t.Helper()
	return uploadWith(t, size, nil, faults...)
}

// uploadWith is upload that also counts, in *sent if not nil, the data
// packets the client's stack sent.
func uploadWith(t *testing.T, size int, sent *uint64, faults ...testnet.Fault) (got []byte, capture []byte, n *testnet.Network, client, server *testnet.Host) {
	t.Helper()
	var buf syncbuf.Buffer
	synctest.Test(t, func(t *testing.T) {
		n = testnet.New(t, testnet.Capture(&buf))
		client, server = n.Host("client"), n.Host("server")
		n.Link(client, server, faults...)
		ln, err := server.Listen("tcp", ":9")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan []byte)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				done <- nil
				return
			}
			b, _ := io.ReadAll(c)
			c.Close()
			done <- b
		}()
		c, err := client.DialContext(context.Background(), "tcp", "server:9")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(pattern(size)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.(*stack.TCPConn).GracefulClose(context.Background()); err != nil {
			t.Fatal(err)
		}
		got = <-done
		if sent != nil {
			*sent = client.Stack().Stats().PacketsOut
		}
	})
	return got, buf.Bytes(), n, client, server
}

func TestLatency_OneWayDelayOnTheWire(t *testing.T) {
	_, capture, _, client, server := upload(t, 100, testnet.Latency(7*time.Millisecond))
	segs := segments(t, capture)
	syn := from(segs, client.Addr(), has(wire.SYN))[0]
	synack := from(segs, server.Addr(), has(wire.SYN|wire.ACK))[0]
	if d := synack.at - syn.at; d != 7*time.Millisecond {
		t.Errorf("the SYN-ACK left %v after the SYN; want the 7ms it took the SYN to arrive", d)
	}
}

func TestJitter_DelaysVaryWithinTheRange(t *testing.T) {
	_, capture, _, client, server := upload(t, 200_000, testnet.Latency(5*time.Millisecond), testnet.Jitter(3*time.Millisecond))
	segs := segments(t, capture)
	// The server ACKs each data segment as it arrives (or its delayed
	// ACK): the gaps between a data segment and the ACK it draws vary.
	syn := from(segs, client.Addr(), has(wire.SYN))[0]
	synack := from(segs, server.Addr(), has(wire.SYN|wire.ACK))[0]
	d := synack.at - syn.at
	if d < 5*time.Millisecond || d > 8*time.Millisecond {
		t.Errorf("one-way delay %v outside [5ms, 8ms]", d)
	}
	times := map[time.Duration]bool{}
	for _, s := range from(segs, server.Addr(), nil) {
		times[s.at%time.Millisecond] = true
	}
	if len(times) < 10 {
		t.Errorf("the server's segments left at %d distinct sub-millisecond offsets; jitter should scatter them", len(times))
	}
}

func TestRate_TransferTakesSizeOverRate(t *testing.T) {
	const size = 100_000
	got, capture, _, client, server := upload(t, size, testnet.Rate(8_000_000, 0)) // 1 MB/s
	if !bytes.Equal(got, pattern(size)) {
		t.Fatalf("server read %d bytes, not what was sent", len(got))
	}
	segs := segments(t, capture)
	first := from(segs, client.Addr(), func(s seg) bool { return s.n > 0 })[0]
	fin := from(segs, server.Addr(), has(wire.FIN))[0]
	if d := fin.at - first.at; d < 100*time.Millisecond {
		t.Errorf("100 kB crossed a 1 MB/s link in %v; it cannot take less than 100ms", d)
	}
}

func TestLoss_RetransmissionsOnTheWire(t *testing.T) {
	const size = 300_000
	got, capture, _, client, _ := upload(t, size, testnet.Loss(0.05))
	if !bytes.Equal(got, pattern(size)) {
		t.Fatalf("server read %d bytes, not what was sent", len(got))
	}
	if r := retransmitted(segments(t, capture), client.Addr()); r == 0 {
		t.Error("5% loss and not one data segment sent twice")
	}
}

func TestGilbertElliott_BurstsOnTheWire(t *testing.T) {
	const size = 300_000
	// Rarely bad, but then for about five packets in a row, all lost.
	got, capture, _, client, _ := upload(t, size, testnet.OneWay(testnet.GilbertElliott(0.01, 0.2, 1, 0)))
	if !bytes.Equal(got, pattern(size)) {
		t.Fatalf("server read %d bytes, not what was sent", len(got))
	}
	segs := segments(t, capture)
	if r := retransmitted(segs, client.Addr()); r < 3 {
		t.Errorf("%d data segments retransmitted; bursts of loss should cost several", r)
	}
}

func TestDuplicate_ReceiverCountsMorePacketsThanSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		client, server := n.Host("client"), n.Host("server")
		n.Link(client, server, testnet.OneWay(testnet.Duplicate(0.5)))
		ln, _ := server.Listen("tcp", ":9")
		go echoOnce(ln)
		if got := roundTrip(t, client, "tcp", "server:9", string(pattern(50_000))); got != string(pattern(50_000)) {
			t.Fatalf("echo of %d bytes differs", len(got))
		}
		sent, recv := client.Stack().Stats().PacketsOut, server.Stack().Stats().PacketsIn
		if recv <= sent {
			t.Errorf("client sent %d packets, server received %d; duplication should add copies", sent, recv)
		}
	})
}

func TestReorder_SenderSeesDuplicateACKs(t *testing.T) {
	_, _, _, client, _ := upload(t, 200_000, testnet.OneWay(testnet.Reorder(0.1, 3*time.Millisecond)))
	if st := client.Stack().Stats().TCP; st.DupACKsIn == 0 && st.SACKACKsIn == 0 {
		t.Error("segments overtook each other and the sender saw no duplicate or SACK ACK")
	}
}

func TestCorrupt_ReceiverDropsOnChecksumAndDataArrivesIntact(t *testing.T) {
	const size = 200_000
	got, capture, _, client, server := upload(t, size, testnet.OneWay(testnet.Corrupt(0.05)))
	if !bytes.Equal(got, pattern(size)) {
		t.Fatalf("server read %d bytes, not what was sent", len(got))
	}
	if d := server.Stack().Stats().Dropped; d["bad-checksum"]+d["bad-ip"]+d["bad-tcp"] == 0 {
		t.Errorf("no corrupted packet dropped by the server (drops %v)", d)
	}
	if retransmitted(segments(t, capture), client.Addr()) == 0 {
		t.Error("corrupted segments were not retransmitted")
	}
}

func TestDropFIN_FINSentTwice(t *testing.T) {
	_, capture, _, client, _ := upload(t, 10, testnet.OneWay(testnet.DropFIN(1)))
	fins := from(segments(t, capture), client.Addr(), has(wire.FIN))
	if len(fins) < 2 || fins[0].seq != fins[1].seq {
		t.Errorf("client FINs %v; want the dropped one retransmitted with the same seq", fins)
	}
}

func TestDropHandshakeACK_SYNACKRetransmitted(t *testing.T) {
	segs, _, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.OneWay(testnet.DropHandshakeACK(1)))
		ln, _ := server.Listen("tcp", ":9")
		c, err := client.Dial("tcp", "server:9")
		if err != nil {
			t.Fatal(err)
		}
		// The client sends nothing: only the server's retransmitted
		// SYN-ACK, answered again, completes the server's side.
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		c.Close()
	})
	if synacks := from(segs, server.Addr(), has(wire.SYN|wire.ACK)); len(synacks) != 2 {
		t.Errorf("server sent %d SYN-ACKs; want 2 (the ACK of the first was dropped)", len(synacks))
	}
}

func TestResetAfter_BothEndsReset(t *testing.T) {
	segs, client, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.ResetAfter(3000))
		c, read := writeToSink(t, client, server, 10_000)
		_, werr := io.ReadAll(c)
		if !errors.Is(werr, syscall.ECONNRESET) {
			t.Errorf("client read: %v; want ECONNRESET", werr)
		}
		if r := <-read; !errors.Is(r.err, syscall.ECONNRESET) || r.n > 3000 {
			t.Errorf("server read %d bytes, then %v; want at most 3000 and ECONNRESET", r.n, r.err)
		}
	})
	if len(from(segs, client.Addr(), has(wire.RST))) == 0 || len(from(segs, server.Addr(), has(wire.RST))) == 0 {
		t.Error("no RST in the capture in each direction")
	}
}

func TestPartition_RetransmitsUntilHealed(t *testing.T) {
	segs, client, _ := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		c := dialEcho(t, client, server)
		n.Partition(client, server)
		c.Write([]byte("across the partition"))
		time.Sleep(5 * time.Second)
		n.Heal(client, server)
		c.(*stack.TCPConn).CloseWrite()
		if got, err := io.ReadAll(c); string(got) != "across the partition" || err != nil {
			t.Errorf("after healing, read %q, %v", got, err)
		}
		c.Close()
	})
	if r := retransmitted(segs, client.Addr()); r < 2 {
		t.Errorf("%d retransmissions during a 5 s partition; want the RTO's back-off series", r)
	}
}

func TestPartitionOneWay_ReplyLost(t *testing.T) {
	segs, _, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		c := dialEcho(t, client, server)
		n.PartitionOneWay(server, client)
		c.Write([]byte("ping"))
		c.SetReadDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Read(make([]byte, 10)); !errors.Is(err, errTimeout) && !isTimeout(err) {
			t.Errorf("read with the reply path cut: %v; want a timeout", err)
		}
		c.Close()
	})
	// The server got "ping" and echoed it; the echo never arrived, so the
	// server sent it again and again.
	if r := retransmitted(segs, server.Addr()); r < 2 {
		t.Errorf("the server retransmitted its echo %d times; want the RTO series", r)
	}
}

var errTimeout = errors.New("timeout")

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
