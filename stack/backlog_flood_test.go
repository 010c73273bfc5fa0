package stack_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// spoofedSYN builds a SYN from a made-up address (10.200.x.y) to the
// server's port, as a SYN flood's does (RFC 4987 §2): nobody will answer
// its SYN-ACK.
func spoofedSYN(buf []byte, i int, dst netip.AddrPort) []byte {
	src := netip.AddrFrom4([4]byte{10, 200, byte(i >> 8), byte(i)})
	h := wire.TCPHeader{
		SrcPort: uint16(1024 + i%60000), DstPort: dst.Port(), Seq: seqnum.V32(uint32(i) * 2654435761),
		Flags: wire.SYN, Window: 65535,
		Options: wire.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7,
			HasTimestamp: true, TSVal: uint32(i)},
	}
	n, err := wire.EncodeTCPPacket(buf, src, dst.Addr(), &h, nil)
	if err != nil {
		panic(err)
	}
	return buf[:n]
}

// floodResult is what the real clients achieved under a flood.
type floodResult struct {
	exchanged int // clients that connected, sent "ping" and read it back
	stats     stack.ListenStats
	spoofed   int
}

// runFlood floods a listener (backlog 16) with 10,000 spoofed SYNs per
// simulated second for 10 s while 100 real clients, starting at 1 s,
// connect and exchange a message with an echo server.
func runFlood(t *testing.T, opts stack.ListenOptions) floodResult {
	n := newSimNet(t, 11, simOpts{serverProfile: profile.Linux})
	spoofer := n.sim.AddHost("spoofer", netip.MustParseAddr("10.0.0.9"))
	for _, h := range n.sim.Hosts() {
		if h.Addrs()[0] == serverAddr {
			n.sim.Connect(spoofer, h, netsim.LinkConfig{Latency: time.Millisecond})
		}
	}
	spoofEP := n.run.Endpoint(spoofer)
	opts.Backlog = 16
	l, err := n.server.ListenTCP(backlogPort, opts)
	if err != nil {
		t.Fatal(err)
	}
	const flood = 10 * time.Second
	var res floodResult
	n.run.Go(func() { // the flood: 100 SYNs every 10 ms
		buf := make([]byte, 100)
		batch := make([][]byte, 100)
		bufs := make([][]byte, 100)
		for i := range bufs {
			bufs[i] = make([]byte, 100)
		}
		dst := netip.AddrPortFrom(serverAddr, backlogPort)
		for tick := 0; tick < int(flood/(10*time.Millisecond)); tick++ {
			for j := range batch {
				batch[j] = spoofedSYN(bufs[j], res.spoofed, dst)
				res.spoofed++
			}
			spoofEP.WritePackets(batch)
			n.run.Sleep(10 * time.Millisecond)
		}
		_ = buf
	})
	n.run.Go(func() { // the echo server
		for {
			c, err := l.AcceptTCP()
			if err != nil {
				return
			}
			n.run.Go(func() {
				b := make([]byte, 4)
				if _, err := io.ReadFull(c, b); err == nil {
					c.Write(b)
				}
				c.Close()
			})
		}
	})
	for i := range 100 {
		n.run.Go(func() {
			n.run.Sleep(time.Second + time.Duration(i)*10*time.Millisecond)
			c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, backlogPort))
			if err != nil {
				return
			}
			defer c.Close()
			b := make([]byte, 4)
			if _, err := c.Write([]byte("ping")); err != nil {
				return
			}
			if _, err := io.ReadFull(c, b); err == nil && string(b) == "ping" {
				res.exchanged++
			}
		})
	}
	end := netsim.Epoch.Add(flood + 2*time.Second)
	err = n.run.Run(func() bool { return n.run.Now() >= end })
	if err != nil && !errors.Is(err, simrun.ErrDeadlock) {
		t.Fatal(err)
	}
	res.stats = l.Stats()
	return res
}

// A SYN flood against a listener with SYN cookies (Linux's default): the
// SYN queue stays full of spoofed requests, yet every real client gets a
// cookie, connects and completes its exchange (RFC 4987 §3.6).
func TestSYNFloodWithCookies(t *testing.T) {
	r := runFlood(t, stack.ListenOptions{})
	t.Logf("spoofed SYNs %d; listener %+v", r.spoofed, r.stats)
	if r.exchanged != 100 {
		t.Errorf("%d of 100 real clients completed their exchange under the flood, want all", r.exchanged)
	}
	if r.stats.CookiesValidated < 100 || r.stats.CookiesSent < uint64(r.spoofed)/2 {
		t.Errorf("cookies sent %d, validated %d: want the flood answered with cookies and every real client let in by one",
			r.stats.CookiesSent, r.stats.CookiesValidated)
	}
}

// The same flood without cookies (tcp_syncookies=0) locks real clients
// out: the spoofed requests hold every slot of the SYN queue, and the
// clients' SYNs are dropped.
func TestSYNFloodWithoutCookiesLocksOut(t *testing.T) {
	r := runFlood(t, stack.ListenOptions{NoSYNCookies: true})
	t.Logf("spoofed SYNs %d; listener %+v", r.spoofed, r.stats)
	if r.exchanged != 0 {
		t.Errorf("%d real clients got through without cookies, want the lock-out (0)", r.exchanged)
	}
	if full := synQueueOf(16); r.stats.SYNQueue != full || r.stats.SYNsDropped < uint64(r.spoofed-full) {
		t.Errorf("listener %+v: want a full SYN queue and every later SYN dropped", r.stats)
	}
}
