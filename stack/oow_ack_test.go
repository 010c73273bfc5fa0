package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// 100 segments outside the receive window of an established connection,
// pure ACKs spoofed with the client's address, draw one duplicate ACK from the
// server, not 100 (RFC 5961 §7; Linux tcp_invalid_ratelimit, 500 ms).
func TestOutOfWindowFloodDrawsOneACK(t *testing.T) {
	n := newSimNet(t, 13, simOpts{})
	spoofer := n.sim.AddHost("spoofer", netip.MustParseAddr("10.0.0.9"))
	for _, h := range n.sim.Hosts() {
		if h.Addrs()[0] == serverAddr {
			n.sim.Connect(spoofer, h, netsim.LinkConfig{Latency: time.Millisecond})
		}
	}
	spoofEP := n.run.Endpoint(spoofer)
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		if _, err := l.AcceptTCP(); err != nil {
			t.Error(err)
		}
	})
	var c *stack.TCPConn
	n.run.Go(func() {
		if c, err = n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80)); err != nil {
			t.Error(err)
		}
	})
	runFor(t, n, time.Second)
	if c == nil {
		t.Fatal("no connection")
	}
	before := n.server.Stats()
	n.run.Go(func() {
		pkts := make([][]byte, 100)
		for i := range pkts {
			h := wire.TCPHeader{
				SrcPort: c.LocalAddrPort().Port(), DstPort: 80,
				Seq: seqnum.V32(0x80000000 + uint32(i)), Flags: wire.ACK, Window: 1000,
			}
			b := make([]byte, 100)
			m, err := wire.EncodeTCPPacket(b, clientAddr, serverAddr, &h, nil)
			if err != nil {
				panic(err)
			}
			pkts[i] = b[:m]
		}
		spoofEP.WritePackets(pkts)
	})
	runFor(t, n, 100*time.Millisecond)
	after := n.server.Stats()
	drops := after.TCP.Drops[stack.TCPDropNotAcceptable] - before.TCP.Drops[stack.TCPDropNotAcceptable]
	sent := after.TCP.SegsOut - before.TCP.SegsOut
	limited := after.TCP.ACKsRateLimited - before.TCP.ACKsRateLimited
	if drops != 100 || sent != 1 || limited != 99 {
		t.Errorf("100 out-of-window segments: %d dropped, %d ACKs sent, %d withheld; want 100, 1, 99", drops, sent, limited)
	}
	n.client.Close()
	n.server.Close()
}
