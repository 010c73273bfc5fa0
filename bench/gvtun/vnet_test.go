package gvtun

import (
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// A TSO super-segment of gVisor's leaves with NEEDS_CSUM at the TCP
// checksum field and the TCP GSO type, MSS and header length the kernel
// cuts it by.
func TestOutboundHeader_SuperSegment(t *testing.T) {
	g := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: 16, MSS: 1448, L3HdrLen: 20}
	h := outboundHeader(g, 3*1448, 20, 32)
	want := vnethdr.Header{Flags: vnethdr.NeedsCsum, GSOType: vnethdr.GSOTCPv4, HdrLen: 52, GSOSize: 1448, CsumStart: 20, CsumOffset: 16}
	if h != want {
		t.Fatalf("header %+v, want %+v", h, want)
	}
	g.Type, g.L3HdrLen = stack.GSOTCPv6, 40
	if h := outboundHeader(g, 1449, 40, 20); h.GSOType != vnethdr.GSOTCPv6 || h.CsumStart != 40 || h.HdrLen != 60 {
		t.Fatalf("IPv6 header %+v", h)
	}
}

// A segment of one MSS or less (an ACK, the tail of a write) asks only
// for the checksum to be completed; a packet without GSO options (not
// TCP) for nothing.
func TestOutboundHeader_OneSegmentOrNone(t *testing.T) {
	g := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: 16, MSS: 1448, L3HdrLen: 20}
	for _, data := range []int{0, 1, 1448} {
		h := outboundHeader(g, data, 20, 32)
		if h != (vnethdr.Header{Flags: vnethdr.NeedsCsum, CsumStart: 20, CsumOffset: 16}) {
			t.Errorf("%d bytes: header %+v", data, h)
		}
	}
	if h := outboundHeader(stack.GSO{}, 5000, 20, 8); h != (vnethdr.Header{}) {
		t.Errorf("no GSO: header %+v", h)
	}
}

// tcp4 returns an IPv4 TCP segment with correct checksums.
func tcp4(payload []byte) []byte {
	b := make([]byte, 40+len(payload))
	ip := header.IPv4(b)
	ip.Encode(&header.IPv4Fields{TotalLength: uint16(len(b)), TTL: 64, Protocol: uint8(header.TCPProtocolNumber),
		SrcAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 1}), DstAddr: tcpip.AddrFrom4([4]byte{10, 0, 0, 2})})
	ip.SetChecksum(^ip.CalculateChecksum())
	tcp := header.TCP(b[20:])
	tcp.Encode(&header.TCPFields{SrcPort: 1, DstPort: 2, SeqNum: 7, DataOffset: 20, Flags: header.TCPFlagAck, WindowSize: 100})
	copy(b[40:], payload)
	sum := header.PseudoHeaderChecksum(header.TCPProtocolNumber, ip.SourceAddress(), ip.DestinationAddress(), uint16(20+len(payload)))
	tcp.SetChecksum(^checksum.Checksum(b[20:], sum))
	return b
}

func TestChecksumsValid_FlippedBitsFail(t *testing.T) {
	b := tcp4([]byte("some payload"))
	if !checksumsValid(b) {
		t.Fatal("a correct segment failed")
	}
	for _, at := range []int{5, 22, 45} { // IP header, TCP header, payload
		c := append([]byte(nil), b...)
		c[at] ^= 0x10
		if checksumsValid(c) {
			t.Errorf("bit flipped at %d passed", at)
		}
	}
	binary.BigEndian.PutUint16(b[6:], 0x2000) // more fragments
	b[10], b[11] = 0, 0
	header.IPv4(b).SetChecksum(^header.IPv4(b).CalculateChecksum())
	b[45] ^= 1
	if !checksumsValid(b) {
		t.Error("a fragment's transport checksum was judged")
	}
}
