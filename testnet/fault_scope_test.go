package testnet_test

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
	"github.com/teardown-lab/teardown/testnet"
)

// Faults that hold packets back or pick their connections.

func TestJam_HeldPacketsArriveOnRelease(t *testing.T) {
	var releasedAt time.Duration
	var dups uint64
	segs, client, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		c := dialEcho(t, client, server)
		start := time.Now()
		n.Jam(client, server)
		c.Write([]byte("held"))
		time.Sleep(3 * time.Second) // the client retransmits into the jam
		releasedAt = time.Since(start)
		before := server.Stack().Stats().PacketsIn
		n.Release(client, server)
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "held" {
			t.Errorf("after the release the echo read %q, %v", buf, err)
		}
		dups = server.Stack().Stats().PacketsIn - before
		c.Close()
	})
	if dups < 3 {
		t.Errorf("the server took in %d packets at the release; want the original and its retransmissions", dups)
	}
	syn := from(segs, client.Addr(), has(wire.SYN))[0]
	for _, s := range from(segs, server.Addr(), func(s seg) bool { return s.n > 0 }) {
		if s.at-syn.at < releasedAt {
			t.Errorf("the server echoed at %v, before the release at %v", s.at-syn.at, releasedAt)
		}
	}
}

func TestDelayFIN_PeerSeesTheCloseLate(t *testing.T) {
	var eofAfter time.Duration
	segs, client, _ := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.OneWay(testnet.DelayFIN(2*time.Second)))
		c, s := dialAccept(t, client, server)
		c.Write([]byte("data"))
		start := time.Now()
		c.(*stack.TCPConn).CloseWrite()
		got, _ := io.ReadAll(s)
		eofAfter = time.Since(start)
		if string(got) != "data" {
			t.Errorf("the server read %q; the data before the FIN is not delayed", got)
		}
		s.Close()
		c.Close()
	})
	if eofAfter < 2*time.Second {
		t.Errorf("the server read EOF %v after the client's close; want at least the 2s the FIN was held", eofAfter)
	}
	fins := from(segs, client.Addr(), has(wire.FIN))
	data := from(segs, client.Addr(), func(s seg) bool { return s.n > 0 })
	if len(fins) == 0 || len(data) == 0 || fins[0].at-data[0].at < 2*time.Second {
		t.Errorf("on the wire the FIN (%v) did not leave 2s after the data (%v)", fins, data)
	}
}

// A fault can wait for the third connection: the first two handshakes
// complete at once, the third's final ACK is dropped and its SYN-ACK
// retransmitted.
func TestAfterConnections_ThirdHandshakeOnly(t *testing.T) {
	segs, _, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.OneWay(testnet.AfterConnections(2, testnet.DropHandshakeACK(1))))
		ln, _ := server.Listen("tcp", ":9")
		for i := range 3 {
			c, err := client.Dial("tcp", "server:9")
			if err != nil {
				t.Fatalf("dial %d: %v", i, err)
			}
			s, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			c.Close()
		}
	})
	perConn := map[uint16]int{}
	var order []uint16
	for _, s := range from(segs, server.Addr(), has(wire.SYN|wire.ACK)) {
		if perConn[s.dst.Port()] == 0 {
			order = append(order, s.dst.Port())
		}
		perConn[s.dst.Port()]++
	}
	if len(order) != 3 || perConn[order[0]] != 1 || perConn[order[1]] != 1 || perConn[order[2]] < 2 {
		t.Errorf("SYN-ACKs per connection, in order: %v %v; want 1, 1 and a retransmitted third", order, perConn)
	}
}

// Toxicity picks connections at random, from the seed: the ones it picks
// are reset after 10 bytes, on the wire, and only those.
func TestToxicity_SomeConnectionsReset(t *testing.T) {
	failed := map[uint16]bool{}
	segs, _, server := capturedPair(t, func(t *testing.T, n *testnet.Network, client, server *testnet.Host) {
		n.Link(client, server, testnet.OneWay(testnet.Toxicity(0.5, testnet.ResetAfter(10))))
		ln, _ := server.Listen("tcp", ":9")
		go serveEach(ln, func(c net.Conn) { go func() { io.Copy(c, c); c.Close() }() })
		for range 20 {
			c, err := client.Dial("tcp", "server:9")
			if err != nil {
				t.Fatal(err)
			}
			c.Write(pattern(100))
			c.(*stack.TCPConn).CloseWrite()
			if _, err := io.ReadAll(c); err != nil {
				failed[c.(*stack.TCPConn).LocalAddrPort().Port()] = true
			}
			c.Close()
		}
	})
	if len(failed) == 0 || len(failed) == 20 {
		t.Fatalf("%d of 20 connections reset; toxicity 0.5 should pick some, not all", len(failed))
	}
	t.Logf("%d of 20 connections reset", len(failed))
	rstTo := map[uint16]bool{}
	for _, s := range from(segs, server.Addr(), has(wire.RST)) {
		rstTo[s.dst.Port()] = true
	}
	for port := range failed {
		if !rstTo[port] {
			t.Errorf("connection from port %d failed without an RST on the wire", port)
		}
	}
}
