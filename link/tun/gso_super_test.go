package tun

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// A super-segment's vnet header tells the kernel to cut it into gso-byte
// TCP segments of its IP version, completing the checksum at the TCP
// checksum field after the IP header.
func TestSuperVnetHeader_CutsByTheGivenSize(t *testing.T) {
	p := seg(t, segSpec{n: 10 * 1000})
	h, err := superVnetHeader(p, 1000)
	if err != nil {
		t.Fatal(err)
	}
	want := vnethdr.Header{Flags: vnethdr.NeedsCsum, GSOType: vnethdr.GSOTCPv4, HdrLen: 52, GSOSize: 1000, CsumStart: 20, CsumOffset: 16}
	if h != want {
		t.Fatalf("header %+v, want %+v", h, want)
	}
	p6 := seg(t, segSpec{src: v6a, dst: v6b, n: 3000, flags: wire.ACK | wire.PSH})
	if h, err := superVnetHeader(p6, 1000); err != nil || h.GSOType != vnethdr.GSOTCPv6 || h.CsumStart != 40 || h.HdrLen != 72 {
		t.Fatalf("IPv6: %+v, %v", h, err)
	}
	// The kernel's own checks on what it reads pass (Check is what we
	// demand of the kernel's headers; ours must meet the same).
	if err := h.Check(len(p)); err != nil {
		t.Fatal(err)
	}
}

// What is not one TCP segment of more than one piece, with only ACK (and
// PSH), is refused rather than handed to the kernel to cut wrongly.
func TestSuperVnetHeader_Refuses(t *testing.T) {
	for name, c := range map[string]struct {
		p   []byte
		gso uint16
	}{
		"one piece":      {seg(t, segSpec{n: 1000}), 1000},
		"gso 0":          {seg(t, segSpec{n: 3000}), 0},
		"FIN":            {seg(t, segSpec{n: 3000, flags: wire.ACK | wire.FIN}), 1000},
		"SYN":            {seg(t, segSpec{n: 3000, flags: wire.SYN}), 1000},
		"too many":       {seg(t, segSpec{n: 65 * 100}), 100},
		"truncated":      {seg(t, segSpec{n: 3000})[:2000], 1000},
		"not TCP at all": {[]byte{0x45, 0, 0, 20}, 1000},
	} {
		if _, err := superVnetHeader(c.p, c.gso); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// A device without offloads refuses super-segments and says so.
func TestWritePacketsGSO_NeedsOffload(t *testing.T) {
	d := &Device{name: "x", mtu: 1500}
	if d.GSOMaxSize() != 0 {
		t.Fatal("a device without offloads offers super-segments")
	}
	if _, err := d.WritePacketsGSO([][]byte{seg(t, segSpec{n: 3000})}, []uint16{1000}); err == nil {
		t.Fatal("a device without offloads took a super-segment")
	}
}
