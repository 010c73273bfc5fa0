package decap

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Builders of the frames the tests feed the Decoder: a TCP packet and the
// headers that wrap it, each written from its specification.

// tcpPacket returns an IPv4 (v6 false) or IPv6 TCP segment with n payload
// bytes.
func tcpPacket(t testing.TB, v6 bool, n int) []byte {
	src, dst := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	if v6 {
		src, dst = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::2")
	}
	h := wire.TCPHeader{SrcPort: 40000, DstPort: 80, Seq: 1, Ack: 1, Flags: wire.PSH | wire.ACK, Window: 1000}
	pay := []byte(strings.Repeat("abcdefgh", n/8+1)[:n])
	b := make([]byte, wire.TCPPacketLen(src, &h, n))
	m, err := wire.EncodeTCPPacket(b, src, dst, &h, pay)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:m]
	if !v6 { // an identification for fragmenting, checksum redone
		binary.BigEndian.PutUint16(b[4:], 0x1234)
		b[6], b[7] = 0, 0
		fixSum4(b)
	}
	return b
}

func fixSum4(b []byte) {
	hl := int(b[0]&0x0f) * 4
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], checksum(b[:hl]))
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

var macs = []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}

// eth is an Ethernet II frame of EtherType et.
func eth(et uint16, pay []byte) []byte { return cat(macs, u16(et), pay) }

// ipv4 wraps pay in an IPv4 header of protocol proto.
func ipv4(proto byte, pay []byte) []byte {
	h := []byte{0x45, 0, 0, 0, 0, 7, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2}
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(pay)))
	b := cat(h, pay)
	fixSum4(b)
	return b
}

// ipv6 wraps pay in an IPv6 header whose next header is nh.
func ipv6(nh byte, pay []byte) []byte {
	h := make([]byte, 40)
	h[0], h[6], h[7] = 0x60, nh, 64
	binary.BigEndian.PutUint16(h[4:], uint16(len(pay)))
	copy(h[8:], netip.MustParseAddr("2001:db8::a").AsSlice())
	copy(h[24:], netip.MustParseAddr("2001:db8::b").AsSlice())
	return cat(h, pay)
}

// udp is a UDP header (checksum 0) from port 50000 to dst.
func udp(dst uint16, pay []byte) []byte {
	return cat(u16(50000), u16(dst), u16(uint16(8+len(pay))), u16(0), pay)
}

// llcSNAP is 802.2 LLC with a SNAP header for EtherType et.
func llcSNAP(et uint16, pay []byte) []byte { return cat([]byte{0xAA, 0xAA, 3, 0, 0, 0}, u16(et), pay) }

// wifiData is an unprotected 802.11 QoS data frame to the DS.
func wifiData(pay []byte) []byte {
	h := make([]byte, 26)
	h[0], h[1] = 0x88, 0x01 // type data, subtype QoS data; to DS
	return cat(h, llcSNAP(0x0800, pay))
}

// frag4 splits an IPv4 packet into fragments of size data bytes (a
// multiple of 8), in order.
func frag4(p []byte, size int) [][]byte {
	hl := int(p[0]&0x0f) * 4
	data := p[hl:]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		f := cat(p[:hl], data[off:end])
		binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
		v := uint16(off / 8)
		if end < len(data) {
			v |= 0x2000
		}
		binary.BigEndian.PutUint16(f[6:], v)
		fixSum4(f)
		out = append(out, f)
	}
	return out
}

// frag6 splits an IPv6 packet without extension headers into fragments
// of size data bytes, with identification id.
func frag6(p []byte, size int, id uint32) [][]byte {
	data := p[40:]
	var out [][]byte
	for off := 0; off < len(data); off += size {
		end := min(off+size, len(data))
		v := uint16(off/8) << 3
		if end < len(data) {
			v |= 1
		}
		fh := cat([]byte{p[6], 0}, u16(v), u32(id))
		f := cat(p[:40], fh, data[off:end])
		f[6] = protoFrag
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		out = append(out, f)
	}
	return out
}
