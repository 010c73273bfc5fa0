package wire

import "testing"

// These loops use b.N rather than b.Loop: BenchmarkDCCPOptions's body
// under b.Loop crashes the Go 1.26.8 compiler (internal compiler error at
// sync/atomic/type.go:47), and the three are kept alike.

// benchDCCPPacket is a DataAck of 1000 payload bytes with an Ack Vector,
// a Timestamp and an NDP Count: the shape of the steady-state hot path.
func benchDCCPPacket(b *testing.B) ([]byte, DCCPHeader, []byte) {
	var opts []byte
	opts = AppendDCCPAckVector(opts, 0, []byte{0x3f, 0xc2, 0x10})
	opts = AppendDCCPTimestamp(opts, 12345)
	opts, _ = AppendDCCPNDPCount(opts, 1)
	h := DCCPHeader{SrcPort: 1, DstPort: 2, Type: DCCPDataAck, X: true, Seq: 1 << 40, Ack: 1<<40 - 7, Options: PadDCCPOptions(opts)}
	payload := make([]byte, 1000)
	buf := make([]byte, 1500)
	n, err := BuildDCCP(buf, &h, payload, dccpSrc4, dccpDst4)
	if err != nil {
		b.Fatal(err)
	}
	return buf[:n], h, payload
}

func BenchmarkParseDCCP(b *testing.B) {
	pkt, _, _ := benchDCCPPacket(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(pkt)))
	for range b.N {
		d, err := ParseDCCP(pkt)
		if err != nil || d.Seq() == 0 || d.Ack() == 0 {
			b.Fatal(err)
		}
		if err := d.VerifyChecksum(dccpSrc4, dccpDst4); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDCCPOptions(b *testing.B) {
	pkt, _, _ := benchDCCPPacket(b)
	d, _ := ParseDCCP(pkt)
	var ranges [8]DCCPAckRange
	b.ReportAllocs()
	for range b.N {
		it := d.OptionIter()
		n := 0
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			switch {
			case o.Type.IsAckVector():
				v, _, _ := o.AckVector()
				n += len(v.Ranges(d.Ack(), ranges[:0]))
			case o.Type == DCCPOptTimestamp:
				ts, _ := o.Timestamp()
				n += int(ts & 1)
			case o.Type == DCCPOptNDPCount:
				c, _ := o.NDPCount()
				n += int(c)
			}
		}
		if it.Err() != nil || n == 0 {
			b.Fatal(it.Err())
		}
	}
}

func BenchmarkEncodeDCCP(b *testing.B) {
	_, h, payload := benchDCCPPacket(b)
	buf := make([]byte, 1500)
	b.ReportAllocs()
	b.SetBytes(int64(h.Len() + len(payload)))
	for range b.N {
		h.Seq++
		if _, err := EncodeDCCPPacket(buf, dccpSrc4, dccpDst4, &h, payload); err != nil {
			b.Fatal(err)
		}
	}
}
