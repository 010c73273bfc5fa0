package wire

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
)

func TestEncodeDCCPPacket(t *testing.T) {
	for _, fam := range []struct{ src, dst netip.Addr }{{dccpSrc4, dccpDst4}, {dccpSrc6, dccpDst6}} {
		h := sampleDCCPHeader(DCCPDataAck, true)
		payload := []byte("over IP")
		b := make([]byte, DCCPPacketLen(fam.src, &h, len(payload)))
		n, err := EncodeDCCPPacket(b, fam.src, fam.dst, &h, payload)
		if err != nil || n != len(b) {
			t.Fatalf("%v: n=%d of %d, %v", fam.src, n, len(b), err)
		}
		ip, err := ParseIP(b)
		if err != nil {
			t.Fatal(err)
		}
		if ip.Protocol != IPProtoDCCP || ip.Src != fam.src || ip.Dst != fam.dst {
			t.Errorf("IP header: proto %d %v -> %v", ip.Protocol, ip.Src, ip.Dst)
		}
		d, err := ParseDCCP(ip.Payload)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.VerifyChecksum(ip.Src, ip.Dst); err != nil {
			t.Errorf("DCCP checksum over %v: %v", fam.src, err)
		}
		if d.Seq() != h.Seq || d.Ack() != h.Ack || !bytes.Equal(d.Payload(), payload) {
			t.Errorf("decoded %+v", DCCPHeaderOf(d))
		}
	}
	h := DCCPHeader{Type: DCCPData, X: true}
	if _, err := EncodeDCCPPacket(make([]byte, 100), dccpSrc4, dccpDst6, &h, nil); !errors.Is(err, ErrBadVersion) {
		t.Errorf("mixed families: %v", err)
	}
	if _, err := EncodeDCCPPacket(make([]byte, 35), dccpSrc4, dccpDst4, &h, nil); !errors.Is(err, ErrNoSpace) {
		t.Errorf("short buffer: %v", err)
	}
	h.X = false
	h.Type = DCCPClose
	if _, err := EncodeDCCPPacket(make([]byte, 100), dccpSrc4, dccpDst4, &h, nil); !errors.Is(err, ErrBadPacketType) {
		t.Errorf("Close with X=0: %v", err)
	}
}
