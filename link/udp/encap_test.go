package udp_test

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/udp"
)

var (
	udpA = netip.MustParseAddrPort("127.0.0.1:40000")
	udpB = netip.MustParseAddrPort("127.0.0.2:6511")
)

// request builds a DCCP-Request from DCCP port 5001 to 7 with its RFC 4340
// checksum over addrA and addrB, and payload.
func request(t *testing.T, seq uint64, payload string) []byte {
	t.Helper()
	h := wire.DCCPHeader{SrcPort: 5001, DstPort: 7, Type: wire.DCCPRequest, X: true, Seq: seqnum.V48(seq), ServiceCode: 42}
	d := make([]byte, 256)
	n, err := wire.BuildDCCP(d, &h, []byte(payload), addrA, addrB)
	if err != nil {
		t.Fatal(err)
	}
	return d[:n]
}

// encap is udp.Encap from udpA to udpB into a fresh buffer.
func encap(t *testing.T, d []byte) []byte {
	t.Helper()
	b := make([]byte, 8+len(d)+16)
	n, err := udp.Encap(b, udpA, udpB, d)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// TestEncap_Fields: the UDP header names the encapsulation's ports and the
// datagram's length (RFC 6773 §3.1); the DCCP Checksum field is zero
// (§3.3); the UDP checksum is present and verifies.
func TestEncap_Fields(t *testing.T) {
	d := request(t, 7, "hello")
	u := encap(t, d)
	if got := binary.BigEndian.Uint16(u[0:]); got != udpA.Port() {
		t.Errorf("UDP source port %d", got)
	}
	if got := binary.BigEndian.Uint16(u[2:]); got != udpB.Port() {
		t.Errorf("UDP destination port %d", got)
	}
	if got := int(binary.BigEndian.Uint16(u[4:])); got != 8+len(d) {
		t.Errorf("UDP Length %d, want %d", got, 8+len(d))
	}
	if binary.BigEndian.Uint16(u[6:]) == 0 {
		t.Error("UDP checksum zero")
	}
	if binary.BigEndian.Uint16(u[8+6:]) != 0 {
		t.Error("DCCP Checksum field not zero")
	}
	b, err := udp.Decap(udpA.Addr(), udpB.Addr(), u)
	p := wire.DCCP(b)
	if err != nil || p.SrcPort() != 5001 || p.ServiceCode() != 42 || string(p.Payload()) != "hello" {
		t.Errorf("Decap: %v", err)
	}
}

// TestEncap_ZeroSumSentAsOnes: the one payload word that makes the UDP sum
// come out zero is sent with checksum 0xffff (RFC 768), never 0 (RFC 6773
// §3.1), and the receiver accepts it.
func TestEncap_ZeroSumSentAsOnes(t *testing.T) {
	d := request(t, 7, "xx")
	last := len(d) - 2
	found := false
	for w := 0; w <= 0xffff; w++ {
		binary.BigEndian.PutUint16(d[last:], uint16(w))
		u := encap(t, d)
		if c := binary.BigEndian.Uint16(u[6:]); c == 0 {
			t.Fatalf("word %#04x: zero UDP checksum sent", w)
		} else if c != 0xffff {
			continue
		}
		found = true
		if _, err := udp.Decap(udpA.Addr(), udpB.Addr(), u); err != nil {
			t.Errorf("0xffff checksum refused: %v", err)
		}
	}
	if !found {
		t.Fatal("no payload word gave a zero sum")
	}
}

// TestDecap_Rules: each receive rule of RFC 6773 §3.3 drops its datagram
// for its reason; the DCCP checksum is ignored.
func TestDecap_Rules(t *testing.T) {
	good := encap(t, request(t, 7, "hello"))
	cases := []struct {
		name string
		edit func(u []byte) []byte
		want error
	}{
		{"zero UDP checksum", func(u []byte) []byte {
			binary.BigEndian.PutUint16(u[6:], 0)
			return u
		}, udp.ErrZeroChecksum},
		{"bad UDP checksum", func(u []byte) []byte {
			u[len(u)-1] ^= 1
			return u
		}, udp.ErrBadChecksum},
		{"datagram under 20 bytes", func(u []byte) []byte { return u[:19] }, udp.ErrShort},
		{"UDP Length under 20", func(u []byte) []byte {
			binary.BigEndian.PutUint16(u[4:], 19)
			return u
		}, udp.ErrShort},
		{"UDP Length past the datagram", func(u []byte) []byte {
			binary.BigEndian.PutUint16(u[4:], uint16(len(u)+1))
			return u
		}, udp.ErrLength},
		{"UDP Length short of the DCCP header", func([]byte) []byte {
			// A Request's header is 20 bytes; only 16 are carried, with
			// a UDP checksum good over them.
			return encap(t, request(t, 7, "")[:16])
		}, udp.ErrLength},
		{"DCCP checksum wrong, UDP checksum good", func([]byte) []byte {
			d := request(t, 7, "hello")
			u := encap(t, d)
			// Encap zeroed the field; put garbage there and fix the
			// UDP checksum: the receiver must not look at it.
			binary.BigEndian.PutUint16(u[8+6:], 0xbeef)
			binary.BigEndian.PutUint16(u[6:], 0)
			binary.BigEndian.PutUint16(u[6:], wire.Fold(wire.Sum(wire.PseudoHeaderSum(udpA.Addr(), udpB.Addr(), 17, len(u)), u)))
			return u
		}, nil},
		{"bytes past UDP Length", func(u []byte) []byte { return append(u, 1, 2, 3) }, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			u := c.edit(append([]byte(nil), good...))
			_, err := udp.Decap(udpA.Addr(), udpB.Addr(), u)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Decap: %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzDecap: Decap never panics; whatever it accepts is a DCCP packet
// whose header fits, and Encap of it comes back through Decap unchanged
// but for the DCCP Checksum field, sent as zero (RFC 6773 §3.3).
func FuzzDecap(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, u []byte) {
		if _, err := udp.Decap(udpA.Addr(), udpB.Addr(), u); err == nil {
			if len(u) < 20 {
				t.Fatalf("accepted %d bytes", len(u))
			}
		}
		d, err := wire.ParseDCCP(u)
		if err != nil {
			return
		}
		b := make([]byte, 8+len(d))
		n, err := udp.Encap(b, udpA, udpB, d)
		if err != nil {
			if len(d) <= 0xffff-8 {
				t.Fatalf("Encap refused a %d-byte DCCP packet: %v", len(d), err)
			}
			return
		}
		back, err := udp.Decap(udpA.Addr(), udpB.Addr(), b[:n])
		if err != nil {
			t.Fatalf("Decap(Encap(d)): %v", err)
		}
		if wire.DCCP(back).Checksum() != 0 || string(back[:6]) != string(d[:6]) || string(back[8:]) != string(d[8:]) {
			t.Fatalf("round trip changed the packet")
		}
	})
}
