package gvtun

import (
	"encoding/binary"
	"testing"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// A TSO super-segment of gVisor's leaves with NEEDS_CSUM at the TCP
// checksum field and the TCP GSO type, MSS and header length the kernel
// cuts it by.
func TestOutboundHeader_SuperSegment(t *testing.T) {
	g := stack.GSO{Type: stack.GSOTCPv4, NeedsCsum: true, CsumOffset: 16, MSS: 1448, L3HdrLen: 20}
	h := outboundHeader(g, 3*1448, 20, 32)
	want := vnetHeader{flags: vnetNeedsCsum, gsoType: vnetGSOTCPv4, hdrLen: 52, gsoSize: 1448, csumStart: 20, csumOffset: 16}
	if h != want {
		t.Fatalf("header %+v, want %+v", h, want)
	}
	g.Type, g.L3HdrLen = stack.GSOTCPv6, 40
	if h := outboundHeader(g, 1449, 40, 20); h.gsoType != vnetGSOTCPv6 || h.csumStart != 40 || h.hdrLen != 60 {
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
		if h != (vnetHeader{flags: vnetNeedsCsum, csumStart: 20, csumOffset: 16}) {
			t.Errorf("%d bytes: header %+v", data, h)
		}
	}
	if h := outboundHeader(stack.GSO{}, 5000, 20, 8); h != (vnetHeader{}) {
		t.Errorf("no GSO: header %+v", h)
	}
}

func TestVnetHeader_EncodeDecode(t *testing.T) {
	h := vnetHeader{flags: 1, gsoType: 4, hdrLen: 0x0102, gsoSize: 0x0304, csumStart: 0x0506, csumOffset: 0x0708}
	var b [vnetHdrLen]byte
	h.encode(b[:])
	if b != [10]byte{1, 4, 2, 1, 4, 3, 6, 5, 8, 7} {
		t.Fatalf("encoded % x", b)
	}
	got, err := decodeVnetHeader(b[:])
	if err != nil || got != h {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	if _, err := decodeVnetHeader(b[:9]); err == nil {
		t.Fatal("9 bytes decoded")
	}
}

func TestVnetHeader_CheckRefuses(t *testing.T) {
	for name, h := range map[string]vnetHeader{
		"RSC flag":           {flags: 4},
		"UDP GSO":            {gsoType: 3, gsoSize: 1000},
		"GSO size 0":         {gsoType: vnetGSOTCPv4},
		"checksum past end":  {flags: vnetNeedsCsum, csumStart: 90, csumOffset: 9},
		"offset on the edge": {flags: vnetNeedsCsum, csumStart: 80, csumOffset: 19},
	} {
		if h.check(100) == nil {
			t.Errorf("%s: %+v accepted", name, h)
		}
	}
	if err := (vnetHeader{flags: vnetNeedsCsum | vnetDataValid, gsoType: vnetGSOTCPv4 | vnetGSOECN, gsoSize: 1448, csumStart: 20, csumOffset: 16}).check(100); err != nil {
		t.Errorf("a kernel TSO header refused: %v", err)
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

// The decoder and check never panic, and what check accepts keeps its
// checksum field inside the packet.
func FuzzVnetHeader(f *testing.F) {
	f.Add([]byte{1, 1, 52, 0, 0xa8, 5, 20, 0, 16, 0}, 3000)
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 40)
	f.Add([]byte{1, 0x84, 0, 0, 0, 0, 40, 0, 16, 0}, 100)
	f.Fuzz(func(t *testing.T, b []byte, n int) {
		h, err := decodeVnetHeader(b)
		if err != nil {
			return
		}
		var e [vnetHdrLen]byte
		h.encode(e[:])
		if string(e[:]) != string(b[:vnetHdrLen]) {
			t.Fatalf("re-encoded % x from % x", e, b[:vnetHdrLen])
		}
		if h.check(n) == nil && h.flags&vnetNeedsCsum != 0 && int(h.csumStart)+int(h.csumOffset)+2 > n {
			t.Fatalf("accepted a checksum outside %d bytes: %+v", n, h)
		}
	})
}
