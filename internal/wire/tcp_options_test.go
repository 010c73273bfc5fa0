package wire

import (
	"errors"
	"fmt"
	"testing"
)

// tcpTestOptions returns options with each of MSS, Window Scale,
// SACK-Permitted and Timestamps present per bit of mask, and n SACK blocks.
func tcpTestOptions(mask, n int) TCPOptions {
	o := tcpTestSACK(n)
	o.HasMSS, o.MSS = mask&1 != 0, 1400+uint16(mask)
	o.HasWScale, o.WScale = mask&2 != 0, uint8(mask)
	o.SACKPermitted = mask&4 != 0
	o.HasTimestamp, o.TSVal, o.TSEcr = mask&8 != 0, 0xdead0000+uint32(mask), 0xbeef
	if !o.HasMSS {
		o.MSS = 0
	}
	if !o.HasWScale {
		o.WScale = 0
	}
	if !o.HasTimestamp {
		o.TSVal, o.TSEcr = 0, 0
	}
	return o
}

// Every combination of options and SACK block counts encodes to an
// aligned header that decodes to the same options, with SACK blocks
// trimmed only for lack of room in 40 bytes.
func TestTCPOptionCombinations(t *testing.T) {
	for mask := range 16 {
		for n := range MaxSACKBlocks + 1 {
			o := tcpTestOptions(mask, n)
			t.Run(fmt.Sprintf("mask%d-sack%d", mask, n), func(t *testing.T) {
				// Bytes before SACK, from the layout in tcp_build.go:
				// MSS 4, TS 12 (carries SACK-Permitted), SACK-Permitted
				// alone 4, Window Scale 4.
				used := 0
				if o.HasMSS {
					used += 4
				}
				if o.HasTimestamp {
					used += 12
				} else if o.SACKPermitted {
					used += 4
				}
				if o.HasWScale {
					used += 4
				}
				fit := min(n, max(0, (40-used-4)/8))
				h := TCPHeader{SrcPort: 1, DstPort: 2, Flags: ACK, Options: o}
				wantLen := 20 + used
				if fit > 0 {
					wantLen += 4 + 8*fit
				}
				if h.Len() != wantLen || h.Len()%4 != 0 || h.Len() > 60 {
					t.Fatalf("Len %d, want %d", h.Len(), wantLen)
				}
				b := make([]byte, 60)
				if k, err := h.Encode(b, 0); err != nil || k != wantLen {
					t.Fatalf("Encode %d, %v", k, err)
				}
				seg, err := ParseTCP(b[:wantLen])
				if err != nil {
					t.Fatal(err)
				}
				var got TCPOptions
				if err := ParseTCPOptions(seg.Options(), &got); err != nil {
					t.Fatal(err)
				}
				want := o
				want.NumSACK = fit
				for i := fit; i < MaxSACKBlocks; i++ {
					want.SACK[i] = SACKBlock{}
				}
				if got != want {
					t.Fatalf("decoded %+v\nwant    %+v", got, want)
				}
			})
		}
	}
}

// The layout matches what Linux sends (tcp_options_write): checked on a
// SYN-ACK without timestamps and an ACK with timestamps and SACK.
func TestTCPOptionLayoutLikeLinux(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    TCPOptions
		want string
	}{
		{"syn-ack without TS", TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7},
			"\x02\x04\x05\xb4" + "\x01\x01\x04\x02" + "\x01\x03\x03\x07"},
		{"ack with TS and SACK", TCPOptions{HasTimestamp: true, TSVal: 1, TSEcr: 2, NumSACK: 1, SACK: [4]SACKBlock{{3, 4}}},
			"\x01\x01\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02" + "\x01\x01\x05\x0a\x00\x00\x00\x03\x00\x00\x00\x04"},
		{"TS alone", TCPOptions{HasTimestamp: true, TSVal: 5},
			"\x01\x01\x08\x0a\x00\x00\x00\x05\x00\x00\x00\x00"},
		{"none", TCPOptions{}, ""},
	} {
		h := TCPHeader{Options: tc.o}
		b := make([]byte, 60)
		n, _ := h.Encode(b, 0)
		if got := string(b[20:n]); got != tc.want {
			t.Errorf("%s:\n got % x\nwant % x", tc.name, got, tc.want)
		}
	}
}

func TestParseTCPOptionsMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  string
	}{
		{"kind without length", "\x02"},
		{"unknown kind without length", "\x01\x01\x1e"},
		{"length 0", "\x02\x00\x05\xb4"},
		{"length 1", "\x1e\x01\x00\x00"},
		{"runs past end", "\x02\x04\x05"},
		{"unknown runs past end", "\x1e\x0a\x00\x00"},
		{"MSS length 3", "\x02\x03\x05\x00"},
		{"MSS length 5", "\x02\x05\x05\xb4\x00"},
		{"window scale length 2", "\x03\x02"},
		{"window scale length 4", "\x03\x04\x07\x00"},
		{"SACK-Permitted length 3", "\x04\x03\x00\x00"},
		{"timestamps length 9", "\x08\x09\x00\x00\x00\x01\x00\x00\x00"},
		{"timestamps length 11", "\x08\x0b\x00\x00\x00\x01\x00\x00\x00\x02\x00"},
		{"SACK without blocks", "\x05\x02\x00\x00"},
		{"SACK half a block", "\x05\x06\x00\x00\x00\x01\x00\x00"},
		{"SACK length 9", "\x05\x09\x00\x00\x00\x01\x00\x00\x00\x02\x00\x00"},
		{"SACK five blocks", "\x05\x2a" + string(make([]byte, 40))},
		{"bad option after good ones", "\x02\x04\x05\xb4\x01\x03\x03"},
	} {
		var o TCPOptions
		if err := ParseTCPOptions([]byte(tc.raw), &o); !errors.Is(err, ErrBadOptionLen) {
			t.Errorf("%s: %v, want ErrBadOptionLen", tc.name, err)
		}
	}
}

// Unknown kinds are skipped by their length; EOL ends the list even if
// junk follows; NOPs are padding.
func TestParseTCPOptionsSkipsAndStops(t *testing.T) {
	raw := []byte{
		0x1e, 0x04, 0xaa, 0xbb, // unknown kind 30 (MPTCP), 4 bytes
		0x01,       // NOP
		0xfe, 0x02, // experimental kind 254, empty
		0x02, 0x04, 0x02, 0x18, // MSS 536
		0x00,             // EOL
		0x02, 0x01, 0xff, // junk after EOL, ignored
	}
	var o TCPOptions
	if err := ParseTCPOptions(raw, &o); err != nil {
		t.Fatal(err)
	}
	if o != (TCPOptions{HasMSS: true, MSS: 536}) {
		t.Fatalf("decoded %+v", o)
	}
	// The iterator yields every option, unknown ones with their data.
	type opt struct {
		kind uint8
		data string
	}
	var got []opt
	it := NewTCPOptionIter(raw)
	for kind, data, ok := it.Next(); ok; kind, data, ok = it.Next() {
		got = append(got, opt{kind, string(data)})
	}
	want := []opt{{30, "\xaa\xbb"}, {1, ""}, {254, ""}, {2, "\x02\x18"}, {0, ""}}
	if it.Err() != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("iterator: %v (err %v), want %v", got, it.Err(), want)
	}
	// A stale value is reset.
	o = TCPOptions{HasWScale: true, WScale: 3}
	if err := ParseTCPOptions(nil, &o); err != nil || o != (TCPOptions{}) {
		t.Fatalf("empty options left %+v, %v", o, err)
	}
}

// Cutting an options area inside an option is ErrBadOptionLen; cutting it
// between options is a shorter valid list.
func TestParseTCPOptionsEveryPrefix(t *testing.T) {
	h := TCPHeader{Options: tcpTestOptions(15, 0)}
	h.Options.NumSACK = 0
	b := make([]byte, 60)
	n, _ := h.Encode(b, 0)
	sack := TCPHeader{Options: tcpTestSACK(4)}
	b2 := make([]byte, 60)
	m, _ := sack.Encode(b2, 0)
	// The SYN's options then a full SACK option: 24 + 36 bytes to cut.
	raw := append(append([]byte(nil), b[20:n]...), b2[20:m]...)
	boundary := map[int]bool{0: true}
	it := NewTCPOptionIter(raw)
	pos := 0
	for kind, data, ok := it.Next(); ok; kind, data, ok = it.Next() {
		pos += 1 + len(data)
		if kind > 1 {
			pos++
		}
		boundary[pos] = true
	}
	if pos != len(raw) || it.Err() != nil {
		t.Fatalf("iterator covered %d of %d bytes, err %v", pos, len(raw), it.Err())
	}
	for cut := range len(raw) + 1 {
		var o TCPOptions
		err := ParseTCPOptions(raw[:cut], &o)
		if boundary[cut] && err != nil {
			t.Errorf("cut at option boundary %d: %v", cut, err)
		}
		if !boundary[cut] && !errors.Is(err, ErrBadOptionLen) {
			t.Errorf("cut inside an option at %d: %v", cut, err)
		}
	}
}
