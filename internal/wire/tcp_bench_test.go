package wire

import "testing"

// tcpBenchCase is a 1448-byte data segment with timestamps, as in bulk
// transfer, from the given family.
func tcpBenchCase(v6 bool) tcpCase {
	c := tcpCase{name: "bulk", src: tcpTestSrc4, dst: tcpTestDst4,
		h: TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 1, Ack: 2, Flags: ACK | PSH, Window: 502,
			Options: TCPOptions{HasTimestamp: true, TSVal: 3, TSEcr: 4}},
		payload: make([]byte, 1448)}
	if v6 {
		c.src, c.dst = tcpTestSrc6, tcpTestDst6
	}
	return c
}

// benchParseIPTCP is the receive path up to the TCP core: IP, TCP header,
// checksum and options.
func benchParseIPTCP(b *testing.B, v6 bool) {
	pkt := tcpBenchCase(v6).build(b)
	var o TCPOptions
	b.SetBytes(int64(len(pkt)))
	b.ReportAllocs()
	for b.Loop() {
		p, err := ParseIP(pkt)
		if err != nil {
			b.Fatal(err)
		}
		seg, err := ParseTCP(p.Payload)
		if err != nil || !seg.VerifyChecksum(p.Src, p.Dst) {
			b.Fatal("bad segment")
		}
		if err := ParseTCPOptions(seg.Options(), &o); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseIPv4TCP(b *testing.B) { benchParseIPTCP(b, false) }
func BenchmarkParseIPv6TCP(b *testing.B) { benchParseIPTCP(b, true) }

// BenchmarkParseTCPOptions decodes a Linux SYN's options area (MSS,
// SACK-Permitted, timestamps, window scale).
func BenchmarkParseTCPOptions(b *testing.B) {
	raw := tcpGoldenSYN[TCPMinLen:]
	var o TCPOptions
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseTCPOptions(raw, &o); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEncodeIPTCP(b *testing.B, v6 bool) {
	c := tcpBenchCase(v6)
	buf := make([]byte, 1600)
	b.SetBytes(int64(TCPPacketLen(c.src, &c.h, len(c.payload))))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeTCPPacket(buf, c.src, c.dst, &c.h, c.payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeIPv4TCP(b *testing.B) { benchEncodeIPTCP(b, false) }
func BenchmarkEncodeIPv6TCP(b *testing.B) { benchEncodeIPTCP(b, true) }
