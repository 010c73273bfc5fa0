package stack

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
)

// spoiler stands between a pipe end and a stack: it spoils the checksum of
// every TCP segment that carries data and hands the packets on, vouched
// for (link.VerifiedReceiver) or not.
type spoiler struct {
	link.Endpoint
	vouch bool
	r     link.VerifiedReceiver
}

func (sp *spoiler) Attach(r link.Receiver) {
	if r == nil {
		sp.Endpoint.Attach(nil)
		return
	}
	sp.r = r.(link.VerifiedReceiver)
	sp.Endpoint.Attach(link.ReceiverFunc(sp.deliver))
}

func (sp *spoiler) deliver(pkts [][]byte) {
	for _, p := range pkts {
		p = append([]byte(nil), p...) // the pipe lends the writer's buffer
		if ip, err := wire.ParseIP(p); err == nil && ip.Protocol == wire.IPProtoTCP {
			if t, err := wire.ParseTCP(ip.Payload); err == nil && len(t.Payload()) > 0 {
				binary.BigEndian.PutUint16(t[16:], binary.BigEndian.Uint16(t[16:])^0x5a5a)
			}
		}
		if sp.vouch {
			sp.r.DeliverVerifiedPackets([][]byte{p})
		} else {
			sp.r.DeliverPackets([][]byte{p})
		}
	}
}

// spoiledPair is pipePair with a spoiler in front of the server.
func spoiledPair(t *testing.T, vouch bool) (client, server *Stack) {
	t.Helper()
	a, b := pipe.New(1500, pipe.ShareBuffers())
	opts := TCPOptions{SendBuffer: 64 << 10, ReceiveBuffer: 64 << 10}
	client, err := New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a, TCP: opts})
	if err != nil {
		t.Fatal(err)
	}
	server, err = New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: &spoiler{Endpoint: b, vouch: vouch}, TCP: opts})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// A segment the link vouched for is taken as it is, whether it is
// processed where it arrives or queued for the goroutine inside Read: the
// mark travels with the deferred segment. (The checksums were spoiled on
// purpose: only the mark lets the data in.)
func TestVouchedSegment_CheckedByNeitherPath(t *testing.T) {
	client, server := spoiledPair(t, true)
	c, s := connect(t, client, server)
	s.mu.Lock()
	s.inRead++ // a goroutine inside Read: the segment waits for it
	s.mu.Unlock()
	if _, err := c.Write([]byte("deferred")); err != nil {
		t.Fatal(err)
	}
	if got := server.Stats().SegmentsDeferred; got != 1 {
		t.Fatalf("%d segments deferred, want the data segment", got)
	}
	s.mu.Lock()
	s.inRead--
	s.mu.Unlock()
	if _, err := c.Write([]byte("+inline")); err != nil {
		t.Fatal(err)
	}
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 64)
	got := 0
	for got < len("deferred+inline") {
		n, err := s.Read(buf[got:])
		if err != nil {
			t.Fatalf("read after %q: %v", buf[:got], err)
		}
		got += n
	}
	if string(buf[:got]) != "deferred+inline" {
		t.Fatalf("read %q, want %q", buf[:got], "deferred+inline")
	}
	if bad := server.Stats().Dropped["bad-checksum"]; bad != 0 {
		t.Fatalf("%d vouched segments were checked and dropped", bad)
	}
}

// Without the mark the same spoiled segments are dropped and counted,
// deferred or not: the mark, not the path, decides.
func TestUnvouchedSegment_CheckedOnBothPaths(t *testing.T) {
	for _, deferred := range []bool{false, true} {
		client, server := spoiledPair(t, false)
		c, s := connect(t, client, server)
		if deferred {
			s.mu.Lock()
			s.inRead++
			s.mu.Unlock()
		}
		if _, err := c.Write([]byte("spoiled")); err != nil {
			t.Fatal(err)
		}
		s.mu.Lock()
		s.runDeferred()
		held := s.core.Readable()
		if deferred {
			s.inRead--
		}
		s.mu.Unlock()
		if held != 0 {
			t.Fatalf("deferred=%v: a segment with a spoiled checksum reached the receive buffer (%d bytes)", deferred, held)
		}
		if bad := server.Stats().Dropped["bad-checksum"]; bad == 0 {
			t.Fatalf("deferred=%v: the spoiled segment was not counted as a bad checksum", deferred)
		}
	}
}
