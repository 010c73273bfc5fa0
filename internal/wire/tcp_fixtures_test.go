package wire

import (
	"net/netip"
	"testing"
	"unsafe"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Addresses from the documentation ranges (RFC 5737, RFC 3849).
var (
	tcpTestSrc4 = netip.MustParseAddr("192.0.2.1")
	tcpTestDst4 = netip.MustParseAddr("198.51.100.7")
	tcpTestSrc6 = netip.MustParseAddr("2001:db8::1")
	tcpTestDst6 = netip.MustParseAddr("2001:db8:ffff::2")
)

// tcpCase is one TCP segment in an IP packet, described by meaning.
type tcpCase struct {
	name     string
	src, dst netip.Addr
	h        TCPHeader
	payload  []byte
}

// build encodes c into a fresh buffer with EncodeTCPPacket.
func (c tcpCase) build(tb testing.TB) []byte {
	tb.Helper()
	b := make([]byte, TCPPacketLen(c.src, &c.h, len(c.payload)))
	n, err := EncodeTCPPacket(b, c.src, c.dst, &c.h, c.payload)
	if err != nil {
		tb.Fatalf("%s: EncodeTCPPacket: %v", c.name, err)
	}
	if n != len(b) {
		tb.Fatalf("%s: EncodeTCPPacket wrote %d bytes, TCPPacketLen said %d", c.name, n, len(b))
	}
	return b
}

// tcpTestSACK returns n SACK blocks with distinct, wrapping edges.
func tcpTestSACK(n int) (o TCPOptions) {
	o.NumSACK = n
	for i := range n {
		left := 0xfffff000 + uint32(i)*0x1000 // the last blocks wrap past 2^32
		o.SACK[i] = SACKBlock{Left: seqnum.V32(left), Right: seqnum.V32(left + 0x800)}
	}
	return o
}

// tcpCases returns the varied segments used by the round-trip, truncation,
// corpus and tshark tests: every handshake and teardown shape, data, and
// option-heavy segments, over IPv4 and IPv6.
func tcpCases() []tcpCase {
	synOpts := TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamp: true,
		TSVal: 0x0009d2c7, HasWScale: true, WScale: 7}
	synAckOpts := TCPOptions{HasMSS: true, MSS: 1440, SACKPermitted: true, HasWScale: true, WScale: 14}
	ts := TCPOptions{HasTimestamp: true, TSVal: 4000000000, TSEcr: 123456}
	sack3 := tcpTestSACK(3)
	sack3.HasTimestamp, sack3.TSVal, sack3.TSEcr = true, 77, 88
	data := []byte("GET / HTTP/1.1\r\nHost: example\r\n\r\n")
	odd := []byte("odd-length payload!")
	base := []tcpCase{
		{name: "syn", h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 0x8f3c2a11, Flags: SYN, Window: 64240, Options: synOpts}},
		{name: "syn-ack", h: TCPHeader{SrcPort: 80, DstPort: 41956, Seq: 0xfffffff0, Ack: 0x8f3c2a12, Flags: SYN | ACK, Window: 65535, Options: synAckOpts}},
		{name: "syn-ecn", h: TCPHeader{SrcPort: 1, DstPort: 65535, Seq: 1, Flags: SYN | ECE | CWR, Window: 1024, Options: TCPOptions{HasMSS: true, MSS: 536}}},
		{name: "ack", h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 0x8f3c2a12, Ack: 0xfffffff1, Flags: ACK, Window: 502, Options: ts}},
		{name: "data", h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 0x8f3c2a12, Ack: 0xfffffff1, Flags: PSH | ACK, Window: 502, Options: ts}, payload: data},
		{name: "data-odd-noopts", h: TCPHeader{SrcPort: 5000, DstPort: 6000, Seq: 0xffffffff, Ack: 7, Flags: ACK, Window: 0}, payload: odd},
		{name: "urgent", h: TCPHeader{SrcPort: 23, DstPort: 1023, Seq: 100, Ack: 200, Flags: URG | PSH | ACK, Window: 8192, Urgent: 1}, payload: []byte{0xff}},
		{name: "sack1", h: TCPHeader{SrcPort: 80, DstPort: 41956, Seq: 5, Ack: 6, Flags: ACK, Window: 300, Options: tcpTestSACK(1)}},
		{name: "sack4", h: TCPHeader{SrcPort: 80, DstPort: 41956, Seq: 5, Ack: 6, Flags: ACK, Window: 300, Options: tcpTestSACK(4)}},
		{name: "sack3-ts", h: TCPHeader{SrcPort: 80, DstPort: 41956, Seq: 5, Ack: 6, Flags: ACK, Window: 300, Options: sack3}},
		{name: "fin", h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 0x8f3c2a33, Ack: 0xfffffff1, Flags: FIN | ACK, Window: 502, Options: ts}},
		{name: "fin-data", h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 9, Ack: 10, Flags: FIN | PSH | ACK, Window: 502}, payload: odd},
		{name: "rst", h: TCPHeader{SrcPort: 80, DstPort: 41956, Seq: 0xfffffff1, Flags: RST}},
		{name: "rst-ack", h: TCPHeader{SrcPort: 80, DstPort: 41956, Ack: 0x8f3c2a12, Flags: RST | ACK}},
		{name: "all-flags", h: TCPHeader{SrcPort: 7, DstPort: 9, Seq: 3, Ack: 4, Flags: 0xff, Window: 1, Urgent: 0xffff}},
		{name: "no-flags", h: TCPHeader{SrcPort: 7, DstPort: 9, Seq: 3}},
	}
	var out []tcpCase
	for _, fam := range [...]struct {
		tag      string
		src, dst netip.Addr
	}{{"v4", tcpTestSrc4, tcpTestDst4}, {"v6", tcpTestSrc6, tcpTestDst6}} {
		for _, c := range base {
			c.name = fam.tag + "-" + c.name
			c.src, c.dst = fam.src, fam.dst
			out = append(out, c)
		}
	}
	return out
}

// tcpTestWithin reports whether sub lies inside outer's memory.
func tcpTestWithin(outer, sub []byte) bool {
	if len(sub) == 0 {
		return true
	}
	if len(outer) == 0 {
		return false
	}
	o := uintptr(unsafe.Pointer(unsafe.SliceData(outer)))
	s := uintptr(unsafe.Pointer(unsafe.SliceData(sub)))
	return s >= o && s+uintptr(len(sub)) <= o+uintptr(len(outer))
}
