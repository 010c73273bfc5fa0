package wire

import (
	"errors"
	"testing"
)

func TestParseIPBothFamilies(t *testing.T) {
	for _, c := range tcpCases() {
		b := c.build(t)
		p, err := ParseIP(b)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		wantVer, wantHdr := uint8(6), IPv6HeaderLen
		if c.src.Is4() {
			wantVer, wantHdr = 4, IPv4MinLen
		}
		if p.Version != wantVer || p.Src != c.src || p.Dst != c.dst || p.Protocol != IPProtoTCP ||
			p.TTL != DefaultTTL || p.TOS != 0 || len(p.Header) != wantHdr || len(p.Payload) != len(b)-wantHdr {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
}

func TestParseIPBadVersion(t *testing.T) {
	for _, v := range []byte{0, 1, 5, 7, 15} {
		b := make([]byte, 60)
		b[0] = v<<4 | 5
		if _, err := ParseIP(b); !errors.Is(err, ErrBadVersion) {
			t.Errorf("version %d: %v", v, err)
		}
	}
	if _, err := ParseIP(nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("empty: %v", err)
	}
}

// Every proper prefix of a valid packet is rejected with an error (the IP
// length fields say more is due), never a panic.
func TestParseIPEveryTruncatedPrefix(t *testing.T) {
	for _, c := range tcpCases() {
		b := c.build(t)
		for n := range len(b) {
			if _, err := ParseIP(b[:n]); err == nil {
				t.Fatalf("%s: prefix of %d of %d bytes parsed", c.name, n, len(b))
			}
		}
	}
}

// The receive path (IP, TCP, options, checksum) and the send path do not
// allocate, for either family.
func TestIPTCPZeroAllocs(t *testing.T) {
	for _, c := range tcpCases() {
		b := c.build(t)
		out := make([]byte, len(b))
		var o TCPOptions
		recv := testing.AllocsPerRun(100, func() {
			p, err := ParseIP(b)
			if err != nil {
				t.Fatal(err)
			}
			seg, err := ParseTCP(p.Payload)
			if err != nil || !seg.VerifyChecksum(p.Src, p.Dst) {
				t.Fatal("bad segment", err)
			}
			if err := ParseTCPOptions(seg.Options(), &o); err != nil {
				t.Fatal(err)
			}
		})
		send := testing.AllocsPerRun(100, func() {
			if _, err := EncodeTCPPacket(out, c.src, c.dst, &c.h, c.payload); err != nil {
				t.Fatal(err)
			}
		})
		if recv != 0 || send != 0 {
			t.Errorf("%s: %v allocations to receive, %v to send; want 0", c.name, recv, send)
		}
	}
}
