package stack_test

import (
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

var serverAddr6 = netip.MustParseAddr("fd00::2")

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

// A stack whose own address is loopback talks to itself over loopback:
// there loopback sources, its own included, are accepted.
func TestLoopbackSourceOnLoopbackHost(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	h := newSrcHost(t, lo)
	h.syn(lo, lo, wire.SYN)
	h.syn(netip.MustParseAddr("127.0.0.2"), lo, wire.SYN)
	if st := h.tl.Stats(); st.SYNQueue != 2 || h.link.sent != 2 {
		t.Fatalf("listener %+v, %d sent: want both SYNs answered", st, h.link.sent)
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
