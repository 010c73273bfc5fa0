package wire

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"
)

// ipv4TestPacket builds a valid IPv4 datagram from h carrying payload.
func ipv4TestPacket(t *testing.T, h IPv4Header, payload []byte) []byte {
	t.Helper()
	b := make([]byte, IPv4MinLen+len(payload))
	if n, err := h.Encode(b, len(payload)); err != nil || n != IPv4MinLen {
		t.Fatalf("IPv4Header.Encode = %d, %v", n, err)
	}
	copy(b[IPv4MinLen:], payload)
	return b
}

// ipv4TestFix rewrites the header checksum after a test edits the header.
func ipv4TestFix(b []byte) []byte {
	hl := min(int(b[0]&0x0f)*4, len(b))
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], Checksum(b[:hl]))
	return b
}

func TestIPv4RoundTrip(t *testing.T) {
	for _, h := range []IPv4Header{
		{Src: tcpTestSrc4, Dst: tcpTestDst4, Protocol: 6, TTL: 64, DontFragment: true},
		{Src: netip.MustParseAddr("0.0.0.0"), Dst: netip.MustParseAddr("255.255.255.255"), Protocol: 33, TTL: 1, TOS: 0xb8 | 2, ID: 0xffff},
		{Src: netip.MustParseAddr("::ffff:10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"), Protocol: 17, TTL: 255, TOS: 3, ID: 1},
	} {
		payload := []byte("payload bytes")
		v, err := ParseIPv4(ipv4TestPacket(t, h, payload))
		if err != nil {
			t.Fatalf("%+v: ParseIPv4: %v", h, err)
		}
		got := IPv4Header{Src: v.Src(), Dst: v.Dst(), Protocol: v.Protocol(), TTL: v.TTL(), TOS: v.TOS(), ID: v.ID(), DontFragment: v.DontFragment()}
		want := h
		want.Src, want.Dst = h.Src.Unmap(), h.Dst.Unmap()
		if got != want {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
		if v.Version() != 4 || v.HeaderLen() != 20 || v.TotalLen() != 20+len(payload) || string(v.Payload()) != string(payload) ||
			len(v.Options()) != 0 || v.FragmentOffset() != 0 || v.Checksum() == 0 {
			t.Errorf("fields: version %d hl %d total %d payload %q options %x frag %d cksum %#x",
				v.Version(), v.HeaderLen(), v.TotalLen(), v.Payload(), v.Options(), v.FragmentOffset(), v.Checksum())
		}
	}
}

// The golden SYN's IPv4 header, field by field, with a checksum computed
// outside Go (RFC 1071 by hand) and confirmed by tshark.
var ipv4GoldenHeader = []byte{
	0x45,       // version 4, IHL 5 words
	0x00,       // TOS
	0x00, 0x3c, // total length 60 = 20 IP + 40 TCP
	0x1c, 0x46, // identification 0x1c46
	0x40, 0x00, // flags DF, fragment offset 0
	0x40,       // TTL 64
	0x06,       // protocol TCP
	0x32, 0x3a, // header checksum
	192, 0, 2, 1, // source 192.0.2.1
	198, 51, 100, 7, // destination 198.51.100.7
}

func TestIPv4Golden(t *testing.T) {
	h := IPv4Header{Src: tcpTestSrc4, Dst: tcpTestDst4, Protocol: IPProtoTCP, TTL: 64, ID: 0x1c46, DontFragment: true}
	b := make([]byte, 20)
	if _, err := h.Encode(b, 40); err != nil {
		t.Fatal(err)
	}
	if string(b) != string(ipv4GoldenHeader) {
		t.Fatalf("Encode:\n got % x\nwant % x", b, ipv4GoldenHeader)
	}
}

func TestParseIPv4Errors(t *testing.T) {
	good := ipv4TestPacket(t, IPv4Header{Src: tcpTestSrc4, Dst: tcpTestDst4, Protocol: 6, TTL: 64}, []byte("abcdefgh"))
	edit := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return ipv4TestFix(b)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"19 bytes", good[:19], ErrTruncated},
		{"version 6", edit(func(b []byte) { b[0] = 0x65 }), ErrBadVersion},
		{"IHL 4", edit(func(b []byte) { b[0] = 0x44 }), ErrBadHeaderLen},
		{"IHL past buffer", edit(func(b []byte) { b[0] = 0x4f }), ErrBadHeaderLen},
		{"total length below header", edit(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 19) }), ErrBadTotalLen},
		{"total length past buffer", edit(func(b []byte) { binary.BigEndian.PutUint16(b[2:], 29) }), ErrBadTotalLen},
		{"bad checksum", func() []byte { b := append([]byte(nil), good...); b[10] ^= 1; return b }(), ErrBadChecksum},
		{"more fragments", edit(func(b []byte) { b[6] = 0x20 }), ErrFragment},
		{"last fragment", edit(func(b []byte) { b[6], b[7] = 0x00, 0xb9 }), ErrFragment},
		{"DF with offset", edit(func(b []byte) { b[6], b[7] = 0x40, 0x01 }), ErrFragment},
	} {
		if _, err := ParseIPv4(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
	}
}

// Options are skipped by IHL; bytes past the total length (link padding)
// are not part of the view.
func TestParseIPv4OptionsAndPadding(t *testing.T) {
	payload := []byte("tcp")
	b := make([]byte, 24+len(payload)+5) // 4 bytes of options, 5 of padding
	b[0] = 0x46
	binary.BigEndian.PutUint16(b[2:], uint16(24+len(payload)))
	b[8], b[9] = 9, 6
	copy(b[12:], tcpTestSrc4.AsSlice())
	copy(b[16:], tcpTestDst4.AsSlice())
	copy(b[20:], []byte{0x94, 0x04, 0x00, 0x00}) // Router Alert (RFC 2113)
	copy(b[24:], payload)
	copy(b[24+len(payload):], "PADPAD")
	v, err := ParseIPv4(ipv4TestFix(b))
	if err != nil {
		t.Fatal(err)
	}
	if v.HeaderLen() != 24 || string(v.Options()) != "\x94\x04\x00\x00" || string(v.Payload()) != "tcp" || len(v) != 27 {
		t.Fatalf("hl %d options % x payload %q len %d", v.HeaderLen(), v.Options(), v.Payload(), len(v))
	}
}

func TestIPv4EncodeErrors(t *testing.T) {
	h := IPv4Header{Src: tcpTestSrc4, Dst: tcpTestDst4}
	if _, err := h.Encode(make([]byte, 19), 0); !errors.Is(err, ErrNoSpace) {
		t.Errorf("short buffer: %v", err)
	}
	if _, err := h.Encode(make([]byte, 20), 65516); !errors.Is(err, ErrBadTotalLen) {
		t.Errorf("oversized payload: %v", err)
	}
	if _, err := h.Encode(make([]byte, 20), 65515); err != nil {
		t.Errorf("largest payload: %v", err)
	}
	h.Dst = tcpTestDst6
	if _, err := h.Encode(make([]byte, 20), 0); !errors.Is(err, ErrBadVersion) {
		t.Errorf("IPv6 destination: %v", err)
	}
}
