package wire

import "testing"

// tcpFuzzSameOptions fails unless got, the re-parse of want's encoding,
// equals want with SACK blocks dropped only when one more would not fit.
func tcpFuzzSameOptions(t *testing.T, got, want TCPOptions) {
	t.Helper()
	if got.NumSACK > want.NumSACK || got.NumSACK < want.NumSACK &&
		want.lenWithoutSACK()+tcpOptAlignedSACK+8*(got.NumSACK+1) <= TCPMaxOptionsLen {
		t.Fatalf("SACK blocks: %d re-parsed of %d", got.NumSACK, want.NumSACK)
	}
	want.NumSACK = got.NumSACK
	for i := got.NumSACK; i < MaxSACKBlocks; i++ {
		want.SACK[i] = SACKBlock{}
	}
	if got != want {
		t.Fatalf("re-parsed %+v\nwant       %+v", got, want)
	}
}

// tcpFuzzSeeds adds the segment of each case.
func tcpFuzzSeeds(f *testing.F) {
	for _, c := range tcpCases() {
		p, err := ParseIP(c.build(f))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Payload)
	}
}

func FuzzTCP(f *testing.F) {
	tcpFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		seg, err := ParseTCP(b)
		if err != nil {
			ipFuzzKnown(t, err)
			return
		}
		hl := seg.HeaderLen()
		if hl < TCPMinLen || hl > TCPMaxHeaderLen || hl > len(b) || int(seg.DataOffset())*4 != hl ||
			len(seg.Options()) != hl-TCPMinLen || len(seg.Payload()) != len(b)-hl ||
			!tcpTestWithin(b, seg.Options()) || !tcpTestWithin(b, seg.Payload()) {
			t.Fatalf("header %d, options %d, payload %d of %d", hl, len(seg.Options()), len(seg.Payload()), len(b))
		}
		var o TCPOptions
		if err := ParseTCPOptions(seg.Options(), &o); err != nil {
			ipFuzzKnown(t, err)
			return
		}
		// Decoded fields re-encode to a header that decodes the same.
		h := TCPHeader{SrcPort: seg.SrcPort(), DstPort: seg.DstPort(), Seq: seg.Seq(), Ack: seg.Ack(),
			Flags: seg.Flags(), Window: seg.Window(), Urgent: seg.Urgent(), Options: o}
		out := make([]byte, h.Len()+len(seg.Payload()))
		n, err := h.Encode(out, len(seg.Payload()))
		if err != nil || n != h.Len() {
			t.Fatalf("Encode = %d, %v", n, err)
		}
		copy(out[n:], seg.Payload())
		again, err := ParseTCP(out)
		if err != nil {
			t.Fatal(err)
		}
		var o2 TCPOptions
		if err := ParseTCPOptions(again.Options(), &o2); err != nil {
			t.Fatal(err)
		}
		tcpFuzzSameOptions(t, o2, o)
		if string(out[:12]) != string(b[:12]) || string(out[13:16]) != string(b[13:16]) ||
			string(out[18:20]) != string(b[18:20]) || string(again.Payload()) != string(seg.Payload()) {
			t.Fatalf("fixed fields differ:\n% x\n% x", out[:20], b[:20])
		}
		// Where the original options are in our layout, the whole header
		// is the same bytes but the checksum.
		if seg.Reserved() == 0 && string(again.Options()) == string(seg.Options()) && string(out[:16]) != string(b[:16]) {
			t.Fatalf("same options, different header:\n% x\n% x", out[:hl], b[:hl])
		}
		// The checksum, once set, verifies for either family.
		TCP(out).SetChecksum(tcpTestSrc4, tcpTestDst4)
		if !TCP(out).VerifyChecksum(tcpTestSrc4, tcpTestDst4) {
			t.Fatal("IPv4 checksum does not verify")
		}
		TCP(out).SetChecksum(tcpTestSrc6, tcpTestDst6)
		if !TCP(out).VerifyChecksum(tcpTestSrc6, tcpTestDst6) {
			t.Fatal("IPv6 checksum does not verify")
		}
		if want := len(seg.Payload()) + int(seg.Flags()&SYN>>1) + int(seg.Flags()&FIN); int(seg.SegLen()) != want {
			t.Fatalf("SegLen %d, want %d", seg.SegLen(), want)
		}
	})
}

func FuzzTCPOptions(f *testing.F) {
	tcpFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		var o TCPOptions
		err := ParseTCPOptions(raw, &o)
		if err != nil {
			ipFuzzKnown(t, err)
		}
		// The iterator walks the generic layout: each option lies in raw,
		// they tile a prefix of it, and a layout error is a parse error.
		it := NewTCPOptionIter(raw)
		pos := 0
		for kind, data, ok := it.Next(); ok; kind, data, ok = it.Next() {
			if kind > TCPOptNOP {
				if !tcpTestWithin(raw, data) || len(data) != int(raw[pos+1])-2 {
					t.Fatalf("option %d at %d: %d data bytes, length byte %d", kind, pos, len(data), raw[pos+1])
				}
				pos += 2 + len(data)
			} else if raw[pos] != kind {
				t.Fatalf("option %d at %d is %d", kind, pos, raw[pos])
			} else {
				pos++
			}
		}
		if pos > len(raw) || it.Err() != nil && err == nil {
			t.Fatalf("iterator at %d of %d, err %v; parse err %v", pos, len(raw), it.Err(), err)
		}
		if err != nil {
			return
		}
		if o.NumSACK < 0 || o.NumSACK > MaxSACKBlocks {
			t.Fatalf("%d SACK blocks", o.NumSACK)
		}
		h := TCPHeader{Options: o}
		out := make([]byte, TCPMaxHeaderLen)
		n, err := h.Encode(out, 0)
		if err != nil || n != TCPMinLen+o.EncodedLen() || n%4 != 0 || n > TCPMaxHeaderLen {
			t.Fatalf("Encode = %d, %v; EncodedLen %d", n, err, o.EncodedLen())
		}
		var o2 TCPOptions
		if err := ParseTCPOptions(out[TCPMinLen:n], &o2); err != nil {
			t.Fatal(err)
		}
		tcpFuzzSameOptions(t, o2, o)
	})
}
