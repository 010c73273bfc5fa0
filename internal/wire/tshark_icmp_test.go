package wire

import (
	"strconv"
	"testing"
)

// TestTsharkAgreesICMP writes ICMP and ICMPv6 messages built by
// ICMPHeader.Encode and checks that tshark reads back their type, code,
// MTU, echo identifier and sequence, and a good checksum.
func TestTsharkAgreesICMP(t *testing.T) {
	tsharkPath(t)
	type tcase struct {
		v6             bool
		typ, code      uint8
		rest           uint32
		body           []byte
		mtu, id, seqNo int // -1: not checked
	}
	q4 := icmpTestQuote(t, tcpTestDst4, tcpTestSrc4, 1)
	q6 := icmpTestQuote(t, tcpTestDst6, tcpTestSrc6, 1)
	cases := []tcase{
		{false, ICMPv4Echo, 0, 0x1234<<16 | 7, []byte("abcdefgh"), -1, 0x1234, 7},
		{false, ICMPv4EchoReply, 0, 0xbeef<<16 | 65535, nil, -1, 0xbeef, 65535},
		{false, ICMPv4Unreachable, ICMPv4FragNeeded, 1280, q4, 1280, -1, -1},
		{false, ICMPv4Unreachable, ICMPv4PortUnreach, 0, q4, -1, -1, -1},
		{true, ICMPv6Echo, 0, 0x4321<<16 | 9, []byte("xyz"), -1, 0x4321, 9},
		{true, ICMPv6EchoReply, 0, 1<<16 | 1, nil, -1, 1, 1},
		{true, ICMPv6PacketTooBig, 0, 1280, q6, 1280, -1, -1},
		{true, ICMPv6Unreachable, ICMPv6AdminProhibited, 0, q6, -1, -1, -1},
	}
	pkts := make([][]byte, len(cases))
	for i, c := range cases {
		src, dst := tcpTestSrc4, tcpTestDst4
		if c.v6 {
			src, dst = tcpTestSrc6, tcpTestDst6
		}
		pkts[i] = icmpTestPacket(t, src, dst, ICMPHeader{Type: c.typ, Code: c.code, Rest: c.rest}, c.body)
	}
	layers := tsharkLayers(t, tsharkWritePcap(t, pkts), "ip.check_checksum:TRUE")
	if len(layers) != len(cases) {
		t.Fatalf("tshark read %d packets, wrote %d", len(layers), len(cases))
	}
	for i, c := range cases {
		proto, mtuField := "icmp", "icmp.mtu"
		if c.v6 {
			proto, mtuField = "icmpv6", "icmpv6.mtu"
		}
		l, ok := layers[i][proto]
		if !ok {
			t.Fatalf("packet %d: no %s layer in %v", i, proto, layers[i])
		}
		// Only the outer message's fields: the quoted TCP header is a
		// layer of its own inside, which tsharkFields would also walk.
		top := l.(map[string]any)
		want := map[string]int{proto + ".type": int(c.typ), proto + ".code": int(c.code), mtuField: c.mtu}
		if c.v6 {
			want["icmpv6.echo.identifier"], want["icmpv6.echo.sequence_number"] = c.id, c.seqNo
		} else {
			want["icmp.ident"], want["icmp.seq"] = c.id, c.seqNo
		}
		for f, w := range want {
			if w < 0 {
				continue
			}
			got, ok := top[f].(string)
			if !ok {
				t.Errorf("packet %d: no %s in %v", i, f, top)
				continue
			}
			n, err := strconv.ParseUint(got, 0, 32)
			if err != nil || int(n) != w {
				t.Errorf("packet %d: %s = %q, want %d", i, f, got, w)
			}
		}
		if st, _ := top[proto+".checksum.status"].(string); st != "1" {
			t.Errorf("packet %d: checksum status %q, want 1 (good)", i, st)
		}
	}
}
