package wire

import (
	"errors"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// tcpGoldenSYN is a SYN as Linux sends it, written field by field. Both
// checksums were computed outside Go (RFC 1071 sum over the pseudo-header
// and segment by hand) and tshark marks them good.
var tcpGoldenSYN = []byte{
	0xa3, 0xe4, // source port 41956
	0x00, 0x50, // destination port 80
	0x8f, 0x3c, 0x2a, 0x11, // sequence number (ISS)
	0x00, 0x00, 0x00, 0x00, // acknowledgment number (ACK not set)
	0xa0,       // data offset 10 words (40 bytes), reserved 0
	0x02,       // flags: SYN
	0xfa, 0xf0, // window 64240
	0x30, 0x80, // checksum
	0x00, 0x00, // urgent pointer
	0x02, 0x04, 0x05, 0xb4, // MSS 1460
	0x04, 0x02, // SACK-Permitted
	0x08, 0x0a, 0x00, 0x09, 0xd2, 0xc7, 0x00, 0x00, 0x00, 0x00, // Timestamps TSval 643783, TSecr 0
	0x01,             // NOP
	0x03, 0x03, 0x07, // Window Scale 7
}

func tcpGoldenHeader() TCPHeader {
	return TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 0x8f3c2a11, Flags: SYN, Window: 64240,
		Options: TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasTimestamp: true, TSVal: 643783, HasWScale: true, WScale: 7}}
}

func TestTCPGoldenSYNParses(t *testing.T) {
	pkt := append(append([]byte(nil), ipv4GoldenHeader...), tcpGoldenSYN...)
	p, err := ParseIP(pkt)
	if err != nil {
		t.Fatal(err)
	}
	seg, err := ParseTCP(p.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !seg.VerifyChecksum(p.Src, p.Dst) {
		t.Fatalf("checksum %#04x does not verify", seg.Checksum())
	}
	var o TCPOptions
	if err := ParseTCPOptions(seg.Options(), &o); err != nil {
		t.Fatal(err)
	}
	got := TCPHeader{SrcPort: seg.SrcPort(), DstPort: seg.DstPort(), Seq: seg.Seq(), Ack: seg.Ack(),
		Flags: seg.Flags(), Window: seg.Window(), Urgent: seg.Urgent(), Options: o}
	if got != tcpGoldenHeader() {
		t.Fatalf("decoded %+v\nwant    %+v", got, tcpGoldenHeader())
	}
	if seg.DataOffset() != 10 || seg.HeaderLen() != 40 || len(seg.Payload()) != 0 || seg.SegLen() != 1 || seg.Reserved() != 0 {
		t.Fatalf("offset %d hl %d payload %d seglen %d", seg.DataOffset(), seg.HeaderLen(), len(seg.Payload()), seg.SegLen())
	}
}

func TestTCPGoldenSYNEncodes(t *testing.T) {
	h := tcpGoldenHeader()
	if h.Len() != len(tcpGoldenSYN) {
		t.Fatalf("Len = %d, want %d", h.Len(), len(tcpGoldenSYN))
	}
	b := make([]byte, 60)
	n, err := h.Encode(b, 0)
	if err != nil || n != 40 {
		t.Fatalf("Encode = %d, %v", n, err)
	}
	TCP(b[:n]).SetChecksum(tcpTestSrc4, tcpTestDst4)
	if string(b[:n]) != string(tcpGoldenSYN) {
		t.Fatalf("encoded\n% x\nwant\n% x", b[:n], tcpGoldenSYN)
	}
}

// Every case survives build → parse with each field intact.
func TestTCPRoundTrip(t *testing.T) {
	for _, c := range tcpCases() {
		p, err := ParseIP(c.build(t))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		seg, err := ParseTCP(p.Payload)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var o TCPOptions
		if err := ParseTCPOptions(seg.Options(), &o); err != nil {
			t.Fatalf("%s: options: %v", c.name, err)
		}
		got := TCPHeader{SrcPort: seg.SrcPort(), DstPort: seg.DstPort(), Seq: seg.Seq(), Ack: seg.Ack(),
			Flags: seg.Flags(), Window: seg.Window(), Urgent: seg.Urgent(), Options: o}
		if got != c.h {
			t.Errorf("%s: decoded %+v\nwant %+v", c.name, got, c.h)
		}
		if string(seg.Payload()) != string(c.payload) || !seg.VerifyChecksum(c.src, c.dst) {
			t.Errorf("%s: payload %q checksum ok %v", c.name, seg.Payload(), seg.VerifyChecksum(c.src, c.dst))
		}
	}
}

func TestParseTCPErrors(t *testing.T) {
	seg := make([]byte, 24)
	for _, tc := range []struct {
		name   string
		b      []byte
		offset byte
		want   error
	}{
		{"empty", nil, 0, ErrTruncated},
		{"19 bytes", seg[:19], 5, ErrTruncated},
		{"data offset 0", seg, 0, ErrBadHeaderLen},
		{"data offset 4", seg, 4, ErrBadHeaderLen},
		{"data offset past segment", seg, 7, ErrBadHeaderLen},
		{"data offset 15, 24 bytes", seg, 15, ErrBadHeaderLen},
	} {
		if len(tc.b) > 12 {
			tc.b[12] = tc.offset << 4
		}
		if _, err := ParseTCP(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	seg[12] = 6 << 4
	if s, err := ParseTCP(seg); err != nil || len(s.Options()) != 4 || len(s.Payload()) != 0 {
		t.Errorf("data offset 6 in 24 bytes: %v", err)
	}
}

// Every prefix shorter than the header is an error; no prefix panics.
func TestParseTCPEveryTruncatedHeader(t *testing.T) {
	for _, c := range tcpCases() {
		p, _ := ParseIP(c.build(t))
		for n := range c.h.Len() {
			if _, err := ParseTCP(p.Payload[:n]); err == nil {
				t.Fatalf("%s: %d-byte prefix of a %d-byte header parsed", c.name, n, c.h.Len())
			}
		}
	}
}

// Flipping any bit of the segment, or changing the pseudo-header, breaks
// the checksum.
func TestTCPChecksumDetectsDamage(t *testing.T) {
	for _, c := range tcpCases() {
		p, _ := ParseIP(c.build(t))
		seg := TCP(p.Payload)
		for i := range seg {
			seg[i] ^= 0x10
			if seg.VerifyChecksum(c.src, c.dst) {
				t.Fatalf("%s: flipped byte %d still verifies", c.name, i)
			}
			seg[i] ^= 0x10
		}
		if seg.VerifyChecksum(c.dst, c.src.Next()) {
			t.Errorf("%s: verifies with other addresses", c.name)
		}
		if !seg.VerifyChecksum(c.src, c.dst) {
			t.Errorf("%s: no longer verifies after repair", c.name)
		}
	}
}

func TestTCPSegLen(t *testing.T) {
	for _, tc := range []struct {
		flags TCPFlags
		data  int
		want  seqnum.Size32
	}{{ACK, 0, 0}, {SYN, 0, 1}, {FIN | ACK, 3, 4}, {SYN | FIN, 1, 3}, {RST, 0, 0}} {
		h := TCPHeader{Flags: tc.flags}
		b := make([]byte, 20+tc.data)
		h.Encode(b, tc.data)
		if got := TCP(b).SegLen(); got != tc.want {
			t.Errorf("%v with %d bytes: SegLen %d, want %d", tc.flags, tc.data, got, tc.want)
		}
	}
}

func TestEncodeTCPPacketErrors(t *testing.T) {
	h := tcpGoldenHeader()
	b := make([]byte, 100)
	if _, err := EncodeTCPPacket(b, tcpTestSrc4, tcpTestDst6, &h, nil); !errors.Is(err, ErrBadVersion) {
		t.Errorf("mixed families: %v", err)
	}
	if _, err := EncodeTCPPacket(b, netip.Addr{}, netip.Addr{}, &h, nil); !errors.Is(err, ErrBadVersion) {
		t.Errorf("zero addresses: %v", err)
	}
	if _, err := EncodeTCPPacket(b[:59], tcpTestSrc4, tcpTestDst4, &h, nil); !errors.Is(err, ErrNoSpace) {
		t.Errorf("one byte short: %v", err)
	}
	if _, err := EncodeTCPPacket(b[:60], tcpTestSrc4, tcpTestDst4, &h, []byte{1}); !errors.Is(err, ErrNoSpace) {
		t.Errorf("no room for payload: %v", err)
	}
	if _, err := h.Encode(b[:39], 0); !errors.Is(err, ErrNoSpace) {
		t.Errorf("Encode short: %v", err)
	}
	if _, err := h.Encode(b, 65536-40); !errors.Is(err, ErrBadTotalLen) {
		t.Errorf("Encode oversized: %v", err)
	}
	// An IPv4-mapped pair is sent as IPv4.
	n, err := EncodeTCPPacket(b, netip.MustParseAddr("::ffff:192.0.2.1"), tcpTestDst4, &h, nil)
	if err != nil || n != 60 || b[0]>>4 != 4 {
		t.Errorf("mapped source: %d bytes, version %d, %v", n, b[0]>>4, err)
	}
}
