package wire

import (
	"encoding/binary"
	"errors"
	"testing"
)

// ipv6TestPacket builds an IPv6 packet whose fixed header says next, followed
// by rest (extension headers and payload as raw bytes).
func ipv6TestPacket(t *testing.T, next uint8, rest []byte) []byte {
	t.Helper()
	h := IPv6Header{Src: tcpTestSrc6, Dst: tcpTestDst6, NextHeader: next, HopLimit: 64}
	b := make([]byte, IPv6HeaderLen+len(rest))
	if _, err := h.Encode(b, len(rest)); err != nil {
		t.Fatal(err)
	}
	copy(b[IPv6HeaderLen:], rest)
	return b
}

// ipv6TestExt returns a generic-format extension header (RFC 8200 §4.3)
// of 8*(units+1) bytes naming next.
func ipv6TestExt(next uint8, units uint8) []byte {
	b := make([]byte, 8*(int(units)+1))
	b[0], b[1] = next, units
	b[2] = 1 // a PadN option keeps Hop-by-Hop and Destination Options well formed
	b[3] = byte(len(b) - 4)
	return b
}

func TestIPv6RoundTrip(t *testing.T) {
	for _, h := range []IPv6Header{
		{Src: tcpTestSrc6, Dst: tcpTestDst6, NextHeader: 6, HopLimit: 64},
		{Src: tcpTestDst6, Dst: tcpTestSrc6, NextHeader: 33, HopLimit: 1, TrafficClass: 0xb9, FlowLabel: 0xfffff},
		{Src: tcpTestSrc6, Dst: tcpTestDst6, NextHeader: 17, HopLimit: 255, TrafficClass: 1, FlowLabel: 0x12345},
	} {
		b := make([]byte, 40+5)
		if n, err := h.Encode(b, 5); err != nil || n != 40 {
			t.Fatalf("Encode = %d, %v", n, err)
		}
		copy(b[40:], "hello")
		v, err := ParseIPv6(b)
		if err != nil {
			t.Fatalf("%+v: %v", h, err)
		}
		got := IPv6Header{Src: v.Src(), Dst: v.Dst(), NextHeader: v.NextHeader(), HopLimit: v.HopLimit(),
			TrafficClass: v.TrafficClass(), FlowLabel: v.FlowLabel()}
		if got != h {
			t.Errorf("round trip: got %+v, want %+v", got, h)
		}
		if v.Version() != 6 || v.PayloadLen() != 5 || v.Protocol() != h.NextHeader || string(v.Payload()) != "hello" {
			t.Errorf("version %d plen %d proto %d payload %q", v.Version(), v.PayloadLen(), v.Protocol(), v.Payload())
		}
	}
}

// The walk over every walkable extension header reaches the upper layer.
func TestIPv6ExtensionWalk(t *testing.T) {
	ah := make([]byte, 24) // AH with a 96-bit ICV: Payload Len 4 = 24/4 - 2 (RFC 4302 §2.2)
	ah[0], ah[1] = 6, 4
	var rest []byte
	rest = append(rest, ipv6TestExt(60, 0)...) // Hop-by-Hop -> Destination Options
	rest = append(rest, ipv6TestExt(43, 1)...) // Destination Options (16 bytes) -> Routing
	rest = append(rest, ipv6TestExt(51, 0)...) // Routing -> AH
	rest = append(rest, ah...)                 // AH -> TCP
	rest = append(rest, "upper"...)
	b := ipv6TestPacket(t, 0, rest)
	v, err := ParseIPv6(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Protocol() != 6 || string(v.Payload()) != "upper" {
		t.Fatalf("protocol %d payload %q, want 6 %q", v.Protocol(), v.Payload(), "upper")
	}
	p, err := ParseIP(b)
	if err != nil || p.Protocol != 6 || string(p.Payload) != "upper" || len(p.Header) != len(b)-5 {
		t.Fatalf("ParseIP: %+v, %v", p, err)
	}
}

func TestIPv6NoNextHeader(t *testing.T) {
	// RFC 8200 §4.7: bytes after No Next Header are ignored.
	b := ipv6TestPacket(t, 60, append(ipv6TestExt(IPProtoNoNext, 0), "ignored"...))
	v, err := ParseIPv6(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Protocol() != IPProtoNoNext || len(v.Payload()) != 0 {
		t.Fatalf("protocol %d payload %q", v.Protocol(), v.Payload())
	}
	p, err := ParseIP(b)
	if err != nil || p.Protocol != IPProtoNoNext || len(p.Payload) != 0 || len(p.Header) != 48 {
		t.Fatalf("ParseIP: %+v, %v", p, err)
	}
}

func TestParseIPv6Errors(t *testing.T) {
	frag := []byte{6, 0, 0, 0, 0, 0, 0, 1} // Fragment header, offset 0, M=0, id 1
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrTruncated},
		{"39 bytes", ipv6TestPacket(t, 6, nil)[:39], ErrTruncated},
		{"version 4", func() []byte { b := ipv6TestPacket(t, 6, nil); b[0] = 0x40; return b }(), ErrBadVersion},
		{"payload length past buffer", func() []byte {
			b := ipv6TestPacket(t, 6, []byte("x"))
			binary.BigEndian.PutUint16(b[4:], 2)
			return b
		}(), ErrBadTotalLen},
		{"fragment", ipv6TestPacket(t, 44, frag), ErrFragment},
		{"fragment after options", ipv6TestPacket(t, 0, append(ipv6TestExt(44, 0), frag...)), ErrFragment},
		{"ESP", ipv6TestPacket(t, 50, make([]byte, 16)), ErrBadExtHeader},
		{"ESP after routing", ipv6TestPacket(t, 43, append(ipv6TestExt(50, 0), make([]byte, 16)...)), ErrBadExtHeader},
		{"Hop-by-Hop not first", ipv6TestPacket(t, 60, ipv6TestExt(0, 0)), ErrBadExtHeader},
		{"extension header past end", ipv6TestPacket(t, 60, ipv6TestExt(6, 1)[:12]), ErrBadExtHeader},
		{"extension header of one byte", ipv6TestPacket(t, 43, []byte{6}), ErrBadExtHeader},
		{"AH past end", ipv6TestPacket(t, 51, []byte{6, 4, 0, 0, 0, 0, 0, 0}), ErrBadExtHeader},
	} {
		if _, err := ParseIPv6(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		if tc.want != ErrBadVersion { // ParseIP would read it as IPv4
			if _, err := ParseIP(tc.b); !errors.Is(err, tc.want) {
				t.Errorf("%s: ParseIP err %v, want %v", tc.name, err, tc.want)
			}
		}
	}
}

func TestIPv6EncodeErrors(t *testing.T) {
	h := IPv6Header{Src: tcpTestSrc6, Dst: tcpTestDst6}
	if _, err := h.Encode(make([]byte, 39), 0); !errors.Is(err, ErrNoSpace) {
		t.Errorf("short buffer: %v", err)
	}
	if _, err := h.Encode(make([]byte, 40), 65536); !errors.Is(err, ErrBadTotalLen) {
		t.Errorf("oversized payload: %v", err)
	}
	h.Src = tcpTestSrc4
	if _, err := h.Encode(make([]byte, 40), 0); !errors.Is(err, ErrBadVersion) {
		t.Errorf("IPv4 source: %v", err)
	}
}
