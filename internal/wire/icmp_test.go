package wire

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// icmpTestPacket builds an IP packet (v4 or v6 by src) carrying the ICMP
// message h with body.
func icmpTestPacket(t testing.TB, src, dst netip.Addr, h ICMPHeader, body []byte) []byte {
	t.Helper()
	b := make([]byte, IPv6HeaderLen+ICMPHeaderLen+len(body))
	var hl int
	var err error
	if src.Is4() {
		ip := IPv4Header{Src: src, Dst: dst, Protocol: IPProtoICMP, TTL: 64}
		hl, err = ip.Encode(b, ICMPHeaderLen+len(body))
	} else {
		ip := IPv6Header{Src: src, Dst: dst, NextHeader: IPProtoICMPv6, HopLimit: 64}
		hl, err = ip.Encode(b, ICMPHeaderLen+len(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	n, err := h.Encode(b[hl:], src, dst, body)
	if err != nil {
		t.Fatal(err)
	}
	return b[:hl+n]
}

// icmpTestQuote is a TCP SYN from a to b as an ICMP error quotes it: the
// IP header and the first eight bytes of TCP (ports and sequence number).
func icmpTestQuote(t testing.TB, a, b netip.Addr, seq uint32) []byte {
	t.Helper()
	c := tcpCase{src: a, dst: b, h: TCPHeader{SrcPort: 40000, DstPort: 80, Seq: seqnum.V32(seq), Flags: SYN, Window: 1000}}
	p := c.build(t)
	hl := IPv4MinLen
	if a.Is6() {
		hl = IPv6HeaderLen
	}
	return p[:hl+8]
}

func TestICMPRoundTripBothFamilies(t *testing.T) {
	for _, c := range []struct {
		name     string
		src, dst netip.Addr
		typ      uint8
		v6       bool
	}{
		{"v4-frag-needed", tcpTestSrc4, tcpTestDst4, ICMPv4Unreachable, false},
		{"v6-packet-too-big", tcpTestSrc6, tcpTestDst6, ICMPv6PacketTooBig, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			quote := icmpTestQuote(t, c.dst, c.src, 0xdeadbeef)
			code := uint8(0)
			if !c.v6 {
				code = ICMPv4FragNeeded
			}
			pkt := icmpTestPacket(t, c.src, c.dst, ICMPHeader{Type: c.typ, Code: code, Rest: 1280}, quote)
			ip, err := ParseIP(pkt)
			if err != nil {
				t.Fatal(err)
			}
			m, err := ParseICMP(ip.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if !m.VerifyChecksum(ip.Src, ip.Dst) {
				t.Fatal("checksum does not verify")
			}
			if m.Type() != c.typ || m.Code() != code || m.MTU(c.v6) != 1280 {
				t.Fatalf("type %d code %d mtu %d", m.Type(), m.Code(), m.MTU(c.v6))
			}
			q, err := ParseQuoted(m.Body(), c.v6)
			if err != nil {
				t.Fatal(err)
			}
			sp, dp, seq := q.QuotedPorts()
			if q.Src != c.dst || q.Dst != c.src || q.Protocol != IPProtoTCP || sp != 40000 || dp != 80 || seq != 0xdeadbeef {
				t.Fatalf("quoted %+v ports %d %d seq %#x", q, sp, dp, seq)
			}
			// One flipped bit anywhere in the message breaks the checksum.
			m[9] ^= 0x10
			if m.VerifyChecksum(ip.Src, ip.Dst) {
				t.Fatal("a corrupted message verified")
			}
		})
	}
}

// The ICMPv6 checksum covers the pseudo-header: the same message between
// other addresses does not verify.
func TestICMPv6ChecksumCoversAddresses(t *testing.T) {
	pkt := icmpTestPacket(t, tcpTestSrc6, tcpTestDst6, ICMPHeader{Type: ICMPv6Echo, Rest: 7<<16 | 1}, []byte("ping"))
	m := ICMP(pkt[IPv6HeaderLen:])
	if !m.VerifyChecksum(tcpTestSrc6, tcpTestDst6) || m.VerifyChecksum(tcpTestDst6, tcpTestSrc6.Next()) {
		t.Fatal("the ICMPv6 checksum ignores the pseudo-header")
	}
}

func TestICMPTruncated(t *testing.T) {
	if _, err := ParseICMP(make([]byte, 7)); !errors.Is(err, ErrTruncated) {
		t.Fatalf("7 bytes: %v", err)
	}
	quote := icmpTestQuote(t, tcpTestSrc4, tcpTestDst4, 1)
	if _, err := ParseQuoted(quote[:len(quote)-1], false); !errors.Is(err, ErrTruncated) {
		t.Fatalf("7 transport bytes: %v", err)
	}
	quote[0] = 0x4f // IHL 60 bytes, longer than the quote
	if _, err := ParseQuoted(quote, false); !errors.Is(err, ErrBadHeaderLen) {
		t.Fatalf("IHL past the quote: %v", err)
	}
	if _, err := ParseQuoted(quote, true); !errors.Is(err, ErrTruncated) {
		t.Fatalf("a v4 quote read as v6: %v", err)
	}
	if _, err := (&ICMPHeader{}).Encode(make([]byte, 9), tcpTestSrc4, tcpTestDst4, []byte("ab")); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("short buffer: %v", err)
	}
}

func FuzzICMP(f *testing.F) {
	f.Add(icmpTestPacket(f, tcpTestSrc4, tcpTestDst4, ICMPHeader{Type: ICMPv4Unreachable, Code: ICMPv4FragNeeded, Rest: 1200},
		icmpTestQuote(f, tcpTestDst4, tcpTestSrc4, 5)))
	f.Add(icmpTestPacket(f, tcpTestSrc6, tcpTestDst6, ICMPHeader{Type: ICMPv6PacketTooBig, Rest: 1280},
		icmpTestQuote(f, tcpTestDst6, tcpTestSrc6, 5)))
	f.Add(icmpTestPacket(f, tcpTestSrc4, tcpTestDst4, ICMPHeader{Type: ICMPv4Echo, Rest: 1}, []byte("x")))
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, err := ParseIP(b)
		if err != nil {
			return
		}
		m, err := ParseICMP(ip.Payload)
		if err != nil {
			if !errors.Is(err, ErrTruncated) || len(ip.Payload) >= ICMPHeaderLen {
				t.Fatalf("%d bytes: %v", len(ip.Payload), err)
			}
			return
		}
		v6 := ip.Version == 6
		if q, err := ParseQuoted(m.Body(), v6); err == nil {
			if len(q.Transport) < 8 || !tcpTestWithin(b, q.Transport) {
				t.Fatalf("quote of %d transport bytes outside the packet", len(q.Transport))
			}
			q.QuotedPorts()
		} else if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadHeaderLen) {
			t.Fatal(err)
		}
		// Re-encoding the decoded fields gives the same bytes, checksum
		// compared by verification (0x0000 and 0xffff both verify).
		h := ICMPHeader{Type: m.Type(), Code: m.Code(), Rest: m.Rest()}
		out := make([]byte, len(m))
		if _, err := h.Encode(out, ip.Src, ip.Dst, m.Body()); err != nil {
			t.Fatal(err)
		}
		if !ICMP(out).VerifyChecksum(ip.Src, ip.Dst) || string(out[4:]) != string(m[4:]) || string(out[:2]) != string(m[:2]) {
			t.Fatal("re-encoding changed the message")
		}
		if m.VerifyChecksum(ip.Src, ip.Dst) != (Fold(icmpSum(ip.Src, ip.Dst, m)) == 0) {
			t.Fatal("verification is not the folded sum")
		}
	})
}
