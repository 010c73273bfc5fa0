package wire

import (
	"errors"
	"net/netip"
	"testing"
)

// naiveDCCPChecksumOK sums pseudo-header and covered bytes as 16-bit words
// in the plainest way, independently of Sum and Fold.
func naiveDCCPChecksumOK(pkt []byte, covered int, src, dst netip.Addr) bool {
	var ph []byte
	n := len(pkt)
	if src.Is4() {
		a, b := src.As4(), dst.As4()
		ph = append(append(ph, a[:]...), b[:]...)
		ph = append(ph, 0, IPProtoDCCP, byte(n>>8), byte(n))
	} else {
		a, b := src.As16(), dst.As16()
		ph = append(append(ph, a[:]...), b[:]...)
		ph = append(ph, byte(n>>24), byte(n>>16), byte(n>>8), byte(n), 0, 0, 0, IPProtoDCCP)
	}
	data := append(ph, pkt[:covered]...)
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	var s uint32
	for i := 0; i < len(data); i += 2 {
		s += uint32(data[i])<<8 | uint32(data[i+1])
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return s == 0xffff
}

// TestDCCPPartialCoverage: CsCov 0 covers everything, CsCov n the header
// and (n-1)*4 payload bytes (§9.2): damage outside the coverage goes
// unnoticed, damage inside does not.
func TestDCCPPartialCoverage(t *testing.T) {
	payload := []byte("0123456789abcdefghi") // 19 bytes: odd on purpose
	for _, fam := range []struct {
		name     string
		src, dst netip.Addr
	}{{"IPv4", dccpSrc4, dccpDst4}, {"IPv6", dccpSrc6, dccpDst6}} {
		for cscov := uint8(0); cscov <= 5; cscov++ { // 5 covers 16 of 19 bytes
			h := DCCPHeader{Type: DCCPDataAck, X: true, Seq: 77, Ack: 66, CsCov: cscov,
				Options: AppendDCCPTimestamp(nil, 5)}
			buf := make([]byte, 128)
			n, err := BuildDCCP(buf, &h, payload, fam.src, fam.dst)
			if err != nil {
				t.Fatal(err)
			}
			pkt := DCCP(buf[:n])
			hl := pkt.HeaderLen()
			covered := n
			if cscov > 0 {
				covered = hl + int(cscov-1)*4
			}
			if got, _ := pkt.ChecksumCoverage(); got != covered {
				t.Errorf("%s CsCov %d: coverage %d, want %d", fam.name, cscov, got, covered)
			}
			if err := pkt.VerifyChecksum(fam.src, fam.dst); err != nil {
				t.Errorf("%s CsCov %d: %v", fam.name, cscov, err)
			}
			if !naiveDCCPChecksumOK(pkt, covered, fam.src, fam.dst) {
				t.Errorf("%s CsCov %d: independent sum disagrees", fam.name, cscov)
			}
			for i := hl; i < n; i++ { // flip each payload byte in turn
				pkt[i] ^= 0x40
				err := pkt.VerifyChecksum(fam.src, fam.dst)
				pkt[i] ^= 0x40
				if inside := i < covered; inside != errors.Is(err, ErrBadChecksum) {
					t.Errorf("%s CsCov %d: damage at %d (covered %d): err %v", fam.name, cscov, i, covered, err)
				}
			}
			pkt[1] ^= 1 // the header is always covered
			if err := pkt.VerifyChecksum(fam.src, fam.dst); !errors.Is(err, ErrBadChecksum) {
				t.Errorf("%s CsCov %d: damaged header verified", fam.name, cscov)
			}
			pkt[1] ^= 1
			// The addresses are covered through the pseudo-header.
			other := fam.dst.Next()
			if err := pkt.VerifyChecksum(fam.src, other); !errors.Is(err, ErrBadChecksum) {
				t.Errorf("%s CsCov %d: verified for destination %v", fam.name, cscov, other)
			}
		}
	}
}

// TestDCCPCsCovTooLarge: coverage beyond the packet makes it invalid.
func TestDCCPCsCovTooLarge(t *testing.T) {
	h := DCCPHeader{Type: DCCPData, X: true, CsCov: 2}
	buf := make([]byte, 64)
	n, err := BuildDCCP(buf, &h, []byte{1, 2, 3, 4}, dccpSrc4, dccpDst4)
	if err != nil {
		t.Fatal(err)
	}
	buf[5] = 3 // covers 8 payload bytes of 4
	pkt := DCCP(buf[:n])
	if err := pkt.VerifyChecksum(dccpSrc4, dccpDst4); !errors.Is(err, ErrBadCsCov) {
		t.Errorf("verify: %v, want ErrBadCsCov", err)
	}
	if err := pkt.SetChecksum(dccpSrc4, dccpDst4); !errors.Is(err, ErrBadCsCov) {
		t.Errorf("set: %v, want ErrBadCsCov", err)
	}
}
