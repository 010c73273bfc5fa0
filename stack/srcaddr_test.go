package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/stack"
)

// srcHost is a stack with an IPv4 and an IPv6 address, a TCP and a DCCP
// listener, and a link that keeps what the stack sends.
type srcHost struct {
	t    *testing.T
	s    *stack.Stack
	tl   *stack.TCPListener
	dl   *stack.DCCPListener
	link *sinkLink
}

func newSrcHost(t *testing.T, addrs ...netip.Addr) *srcHost {
	h := &srcHost{t: t, link: &sinkLink{}}
	var err error
	if h.s, err = stack.New(stack.Config{Addrs: addrs, Link: h.link, Seed: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.s.Close() })
	if h.tl, err = h.s.ListenTCP(backlogPort, stack.ListenOptions{}); err != nil {
		t.Fatal(err)
	}
	if h.dl, err = h.s.ListenDCCP(dccpPort, stack.DCCPListenOptions{}); err != nil {
		t.Fatal(err)
	}
	return h
}

// syn delivers a TCP segment with flags from src to dst's listening port.
func (h *srcHost) syn(src, dst netip.Addr, flags wire.TCPFlags) {
	th := wire.TCPHeader{SrcPort: 40000, DstPort: backlogPort, Seq: 1000, Flags: flags, Window: 65535}
	b := make([]byte, 100)
	n, err := wire.EncodeTCPPacket(b, encodable(src), dst, &th, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.link.r.DeliverPackets([][]byte{withSource(b[:n], src)})
}

// request delivers a DCCP-Request from src to dst's listening port.
func (h *srcHost) request(src, dst netip.Addr) {
	dh := wire.DCCPHeader{SrcPort: 40000, DstPort: dccpPort, Type: wire.DCCPRequest, X: true, Seq: 1, ServiceCode: 42}
	b := make([]byte, 100)
	n, err := wire.EncodeDCCPPacket(b, encodable(src), dst, &dh, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	h.link.r.DeliverPackets([][]byte{withSource(b[:n], src)})
}

// The encoders unmap a v4-mapped address; such a source is written into
// the IPv6 header afterwards (the checksum no longer matters: the source
// check comes first).
var mappedStandIn = netip.MustParseAddr("fd00::9")

func encodable(src netip.Addr) netip.Addr {
	if src.Is4In6() {
		return mappedStandIn
	}
	return src
}

func withSource(pkt []byte, src netip.Addr) []byte {
	if src.Is4In6() {
		a := src.As16()
		copy(pkt[8:24], a[:])
	}
	return pkt
}

// RFC 1122 §3.2.1.3 (and §4.2.3.10 for SYNs): a packet from a source
// address no host sends from is dropped in silence and counted; it draws
// no SYN-ACK, no DCCP-Response, and takes no place in a queue. A good
// source on the same stack is answered, so the test sees the difference.
func TestBadSourceDropped(t *testing.T) {
	for _, tc := range []struct {
		src    string
		reason string
	}{
		{"255.255.255.255", "src-broadcast"},
		{"224.0.0.1", "src-multicast"},
		{"239.1.2.3", "src-multicast"},
		{"0.0.0.0", "src-unspecified"},
		{"0.1.2.3", "src-unspecified"},
		{"127.0.0.1", "src-loopback"},
		{"127.9.9.9", "src-loopback"},
		{"240.0.0.1", "src-reserved"},
		{"254.255.255.254", "src-reserved"},
		{"10.0.0.2", "src-own"}, // land: the stack's own address
		{"::", "src-unspecified"},
		{"ff02::1", "src-multicast"},
		{"::1", "src-loopback"},
		{"fd00::2", "src-own"},
		{"::ffff:10.0.0.9", "src-v4-mapped"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			h := newSrcHost(t, serverAddr, serverAddr6)
			src := netip.MustParseAddr(tc.src)
			dst := serverAddr
			if !src.Is4() {
				dst = serverAddr6
			}
			h.syn(src, dst, wire.SYN)
			h.request(src, dst)
			if h.link.sent != 0 {
				t.Errorf("%d packets sent: a SYN or Request from %v must not be answered", h.link.sent, src)
			}
			if st := h.tl.Stats(); st.SYNsReceived != 0 || st.SYNQueue != 0 {
				t.Errorf("TCP listener %+v: the SYN reached it", st)
			}
			if st := h.dl.Stats(); st.Requests != 0 {
				t.Errorf("DCCP listener %+v: the Request reached it", st)
			}
			if got := h.s.Stats().Dropped[tc.reason]; got != 2 {
				t.Errorf("Dropped = %v: want %s = 2", h.s.Stats().Dropped, tc.reason)
			}
			good := netip.MustParseAddr("10.0.0.1")
			if !src.Is4() {
				good = netip.MustParseAddr("fd00::1")
			}
			h.syn(good, dst, wire.SYN)
			h.request(good, dst)
			if h.link.sent != 2 {
				t.Errorf("%d packets sent for a SYN and a Request from %v, want a SYN-ACK and a Response", h.link.sent, good)
			}
		})
	}
}

// A stack whose own address is loopback takes other loopback sources;
// from its own address, as from any own address, only its own traffic
// (TestSelfConnectPassesLandCheck).
func TestLoopbackSourceOnLoopbackHost(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	h := newSrcHost(t, lo)
	h.syn(netip.MustParseAddr("127.0.0.2"), lo, wire.SYN)
	h.syn(lo, lo, wire.SYN)
	if st := h.tl.Stats(); st.SYNQueue != 1 || h.link.sent != 1 {
		t.Fatalf("listener %+v, %d sent: want the SYN from 127.0.0.2 answered", st, h.link.sent)
	}
	if got := h.s.Stats().Dropped; got["src-loopback"] != 0 || got["src-own"] != 1 {
		t.Fatalf("Dropped = %v: want only the SYN from our own address with no connection dropped", got)
	}
}

// loopLink brings every packet the stack writes back to it, from a
// goroutine of its own, as a network does with packets to the host's own
// address.
type loopLink struct {
	r    link.Receiver
	pkts chan []byte
	done chan struct{}
}

func (l *loopLink) MTU() int { return 1500 }
func (l *loopLink) WritePackets(pkts [][]byte) (int, error) {
	for _, p := range pkts {
		l.pkts <- append([]byte(nil), p...)
	}
	return len(pkts), nil
}
func (l *loopLink) Attach(r link.Receiver) {
	l.r = r
	go func() {
		for {
			select {
			case p := <-l.pkts:
				l.r.DeliverPackets([][]byte{p})
			case <-l.done:
				return
			}
		}
	}()
}
func (l *loopLink) Close() error { return nil }

// A connection from the stack to its own address is its own traffic, not
// a land attack: it connects, and a closed port refuses it at once.
func TestSelfConnectPassesLandCheck(t *testing.T) {
	ll := &loopLink{pkts: make(chan []byte, 64), done: make(chan struct{})}
	defer close(ll.done)
	s, err := stack.New(stack.Config{Addrs: []netip.Addr{serverAddr}, Link: ll, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.ListenTCP(backlogPort, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.DialTCP(ctx, netip.AddrPortFrom(serverAddr, backlogPort))
	if err != nil {
		t.Fatalf("dial our own address: %v", err)
	}
	c.Close()
	a, err := l.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if _, err := s.DialTCP(ctx, netip.AddrPortFrom(serverAddr, backlogPort+1)); !errors.Is(err, stack.ErrConnRefused) {
		t.Fatalf("dial a closed port of our own address: %v, want ECONNREFUSED", err)
	}
	if n := s.Stats().Dropped["src-own"]; n != 0 {
		t.Fatalf("%d of our own packets dropped as a land attack", n)
	}
}

// Linux drops a SYN that also carries FIN in LISTEN, without an answer;
// so does the stack, before it takes a slot.
func TestSYNFINDropped(t *testing.T) {
	h := newSrcHost(t, serverAddr)
	h.syn(netip.MustParseAddr("10.0.0.1"), serverAddr, wire.SYN|wire.FIN)
	if st := h.tl.Stats(); st.SYNFINsDropped != 1 || st.SYNQueue != 0 || h.link.sent != 0 {
		t.Fatalf("listener %+v, %d sent: want SYN+FIN dropped in silence", st, h.link.sent)
	}
}
