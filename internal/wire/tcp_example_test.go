package wire_test

import (
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Build a SYN into a buffer, then take it apart as the receive path does.
func ExampleEncodeTCPPacket() {
	src, dst := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.7")
	h := wire.TCPHeader{SrcPort: 41956, DstPort: 80, Seq: 1000, Flags: wire.SYN, Window: 64240,
		Options: wire.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7}}
	buf := make([]byte, 1500)
	n, err := wire.EncodeTCPPacket(buf, src, dst, &h, nil)
	if err != nil {
		panic(err)
	}

	p, err := wire.ParseIP(buf[:n])
	if err != nil {
		panic(err)
	}
	seg, err := wire.ParseTCP(p.Payload)
	if err != nil {
		panic(err)
	}
	var o wire.TCPOptions
	if err := wire.ParseTCPOptions(seg.Options(), &o); err != nil {
		panic(err)
	}
	fmt.Println(p.Version, p.Src, "->", p.Dst, seg.SrcPort(), "->", seg.DstPort(), seg.Flags(), seg.Seq())
	fmt.Println("checksum ok:", seg.VerifyChecksum(p.Src, p.Dst), "mss", o.MSS, "wscale", o.WScale, "sackOK", o.SACKPermitted)
	// Output:
	// 4 192.0.2.1 -> 198.51.100.7 41956 -> 80 SYN 1000
	// checksum ok: true mss 1460 wscale 7 sackOK true
}
