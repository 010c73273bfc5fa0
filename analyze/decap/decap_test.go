package decap

import (
	"bytes"
	"encoding/binary"
	"maps"
	"testing"
)

// Every link type and encapsulation gives back the TCP packet inside,
// byte for byte, and counts what it opened.
func TestDecode_LinkTypesAndTunnels(t *testing.T) {
	ip4, ip6 := tcpPacket(t, false, 20), tcpPacket(t, true, 20)
	le := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	sll := cat(u16(0), u16(1), u16(6), make([]byte, 8), u16(0x0800))
	sll2 := cat(u16(0x86DD), u16(0), u32(1), u16(1), []byte{0, 6}, make([]byte, 8))
	nflog := cat([]byte{2, 0, 0, 0},
		binary.LittleEndian.AppendUint16(nil, 8), binary.LittleEndian.AppendUint16(nil, 1), make([]byte, 4), // a prefix attribute
		binary.LittleEndian.AppendUint16(nil, uint16(4+len(ip4))), binary.LittleEndian.AppendUint16(nil, 9), ip4)
	radiotap := cat([]byte{0, 0}, binary.LittleEndian.AppendUint16(nil, 12), le(1<<1), []byte{0x10, 0, 0, 0})
	ppi := cat([]byte{0, 0}, binary.LittleEndian.AppendUint16(nil, 8), le(1))
	wpan := cat([]byte{0x41, 0xcc}, []byte{7}, []byte{0xcd, 0xab}, make([]byte, 8), make([]byte, 8), []byte{0x41}, ip6) // data, PAN compression, long addresses
	mplsLabel := func(bottom bool) []byte {
		v := uint32(16<<12 | 64)
		if bottom {
			v |= 1 << 8
		}
		return u32(v)
	}
	gre := func(flags, proto uint16, extra int, pay []byte) []byte {
		return ipv4(47, cat(u16(flags), u16(proto), make([]byte, extra), pay))
	}
	erspan3 := cat(make([]byte, 10), []byte{0 << 2, 0}) // frame type 0: Ethernet
	capwapT := cat([]byte{0, 2 << 3, 0b10 << 1, 1 << 0}, make([]byte, 4))
	capwapT[2], capwapT[3] = 0x03, 0x00 // HLEN 2 (8 bytes); WBID 1; T set
	capwapT[1] = 2 << 3
	capwapW := bytes.Clone(capwapT)
	capwapW[2] = 0x02 // T clear: the payload is in the 802.11 binding
	for _, c := range []struct {
		name     string
		linkType int
		frame    []byte
		want     []byte
		opened   string
	}{
		{"raw 101", LinkRaw, ip4, ip4, ""},
		{"raw DLT 12", LinkRawDLT12, ip6, ip6, ""},
		{"raw DLT 14", LinkRawDLT14, ip4, ip4, ""},
		{"raw IPv4 228", LinkIPv4, ip4, ip4, ""},
		{"raw IPv6 229", LinkIPv6, ip6, ip6, ""},
		{"raw IP written as 10", LinkFDDI, ip4, ip4, ""},
		{"FDDI with LLC/SNAP", LinkFDDI, cat([]byte{0x50}, macs, llcSNAP(0x0800, ip4)), ip4, ""},
		{"null little-endian", LinkNull, cat(le(2), ip4), ip4, ""},
		{"null big-endian AF_INET6 BSD", LinkNull, cat(u32(30), ip6), ip6, ""},
		{"loop", LinkLoop, cat(u32(2), ip4), ip4, ""},
		{"ethernet", LinkEthernet, eth(0x0800, ip4), ip4, ""},
		{"802.3 with SNAP", LinkEthernet, cat(macs, u16(uint16(8+len(ip4))), llcSNAP(0x0800, ip4)), ip4, ""},
		{"PPP with HDLC address", LinkPPP, cat([]byte{0xff, 3}, u16(0x21), ip4), ip4, ""},
		{"PPP compressed protocol", LinkPPP, cat([]byte{0x57}, ip6), ip6, ""},
		{"PPP in HDLC framing 50", LinkPPPHDLC, cat([]byte{0xff, 3}, u16(0x57), ip6), ip6, ""},
		{"Cisco HDLC", LinkCiscoHDLC, cat([]byte{0x0f, 0}, u16(0x0800), ip4), ip4, ""},
		{"Linux SLL", LinkLinuxSLL, cat(sll, ip4), ip4, ""},
		{"Linux SLL2", LinkLinuxSLL2, cat(sll2, ip6), ip6, ""},
		{"NFLOG", LinkNFLOG, nflog, ip4, ""},
		{"802.11 QoS data", Link80211, wifiData(ip4), ip4, "ieee802_11"},
		{"radiotap", LinkRadiotap, cat(radiotap, wifiData(ip4)), ip4, "ieee802_11"},
		{"PPI with Ethernet", LinkPPI, cat(ppi, eth(0x0800, ip4)), ip4, ""},
		{"802.15.4 uncompressed IPv6", Link802154NoFCS, wpan, ip6, "6lowpan"},
		{"802.15.4 with FCS", Link802154FCS, cat(wpan, []byte{0xaa, 0xbb}), ip6, "6lowpan"},
		{"VLAN", LinkEthernet, eth(0x8100, cat(u16(5), u16(0x0800), ip4)), ip4, "vlan"},
		{"QinQ", LinkEthernet, eth(0x88a8, cat(u16(5), u16(0x8100), u16(6), u16(0x86dd), ip6)), ip6, "vlan"},
		{"MPLS two labels", LinkEthernet, eth(0x8847, cat(mplsLabel(false), mplsLabel(true), ip4)), ip4, "mpls"},
		{"MPLS pseudowire with control word", LinkEthernet, eth(0x8847, cat(mplsLabel(true), u32(0), eth(0x0800, ip4))), ip4, "mpls"},
		{"PPPoE session", LinkEthernet, eth(0x8864, cat([]byte{0x11, 0}, u16(1), u16(uint16(2+len(ip4))), u16(0x21), ip4)), ip4, "pppoe"},
		{"PBB", LinkEthernet, eth(0x88e7, cat(u32(100), eth(0x0800, ip4))), ip4, "pbb"},
		{"GRE", LinkRaw, gre(0, 0x0800, 0, ip4), ip4, "gre"},
		{"GRE key and sequence", LinkRaw, gre(0x3000, 0x86dd, 8, ip6), ip6, "gre"},
		{"GRE checksum", LinkRaw, gre(0x8000, 0x0800, 4, ip4), ip4, "gre"},
		{"GRE transparent Ethernet bridging", LinkRaw, gre(0x2000, 0x6558, 4, eth(0x0800, ip4)), ip4, "gre"},
		{"ERSPAN type I", LinkRaw, gre(0, 0x88be, 0, eth(0x0800, ip4)), ip4, "erspan"},
		{"ERSPAN type II", LinkRaw, gre(0x1000, 0x88be, 4, cat(u16(0x1000), make([]byte, 6), eth(0x0800, ip4))), ip4, "erspan"},
		{"ERSPAN type III", LinkRaw, gre(0x1000, 0x22eb, 4, cat(erspan3, eth(0x8100, cat(u16(9), u16(0x0800), ip4)))), ip4, "erspan"},
		{"PPTP enhanced GRE", LinkRaw, gre(0x3081, 0x880b, 12, cat([]byte{0xff, 3}, u16(0x21), ip4)), ip4, "gre"},
		{"VXLAN", LinkEthernet, eth(0x0800, ipv4(17, udp(4789, cat([]byte{8, 0, 0, 0, 0, 0, 42, 0}, eth(0x0800, ip4))))), ip4, "vxlan"},
		{"Geneve", LinkRaw, ipv6(17, udp(6081, cat([]byte{1, 0}, u16(0x6558), u32(42<<8), make([]byte, 4), eth(0x86dd, ip6)))), ip6, "geneve"},
		{"Geneve carrying IP", LinkRaw, ipv4(17, udp(6081, cat([]byte{0, 0}, u16(0x0800), u32(0), ip4))), ip4, "geneve"},
		{"CAPWAP 802.3", LinkRaw, ipv4(17, udp(5247, cat(capwapT, eth(0x0800, ip4)))), ip4, "capwap"},
		{"CAPWAP 802.11", LinkRaw, ipv4(17, udp(5247, cat(capwapW, wifiData(ip4)))), ip4, "capwap"},
		{"4in4", LinkRaw, ipv4(4, ip4), ip4, "ip4in4"},
		{"6in4", LinkRaw, ipv4(41, ip6), ip6, "ip6in4"},
		{"4in6", LinkRaw, ipv6(4, ip4), ip4, "ip4in6"},
		{"6in6 after a destination option", LinkRaw, ipv6(60, cat([]byte{41, 0, 1, 4, 0, 0, 0, 0}, ip6)), ip6, "ip6in6"},
		{"IPv6 atomic fragment", LinkRaw, frag6(ip6, 1000, 7)[0], ip6, "ipv6_atomic_fragment"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := New(Limits{})
			got := d.Decode(c.linkType, 0, c.frame)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("got %x\nwant %x\nskipped %v", got, c.want, d.Skipped())
			}
			if c.opened != "" && d.Opened()[c.opened] == 0 {
				t.Errorf("opened %v, want %s", d.Opened(), c.opened)
			}
			if len(d.Skipped()) != 0 {
				t.Errorf("skipped %v", d.Skipped())
			}
		})
	}
}

// What cannot be read is counted by reason, and nothing comes back.
func TestDecode_SkippedByReason(t *testing.T) {
	ip4, ip6 := tcpPacket(t, false, 20), tcpPacket(t, true, 20)
	protected := wifiData(ip4)
	protected[1] |= 0x40
	beacon := make([]byte, 40)
	beacon[0] = 0x80
	iphc := cat([]byte{0x41, 0xcc, 7, 0xcd, 0xab}, make([]byte, 16), []byte{0x7a, 0x33}, ip6[40:])
	for _, c := range []struct {
		name     string
		linkType int
		frame    []byte
		why      string
	}{
		{"SocketCAN", 227, make([]byte, 16), "link_type_227"},
		{"ARP", LinkEthernet, eth(0x0806, make([]byte, 28)), WhyNotIP},
		{"LLC without SNAP (STP)", LinkEthernet, cat(macs, u16(38), []byte{0x42, 0x42, 3}, make([]byte, 35)), WhyNotIP},
		{"runt", LinkEthernet, macs, WhyTruncated},
		{"802.11 protected", Link80211, protected, WhyWiFiProtected},
		{"802.11 beacon", Link80211, beacon, WhyWiFiNotData},
		{"6LoWPAN IPHC", Link802154NoFCS, iphc, WhyWPANNotIPv6},
		{"PPP LCP", LinkPPP, cat([]byte{0xff, 3}, u16(0xc021), make([]byte, 8)), WhyNotIP},
		{"GRE version 2", LinkRaw, ipv4(47, cat(u16(2), u16(0x0800), ip4)), WhyGRE},
		{"GRE cut", LinkRaw, ipv4(47, []byte{0x30, 0, 8, 0, 0}), WhyTruncated},
		{"CAPWAP fragment", LinkRaw, ipv4(17, udp(5247, []byte{0, 0x10, 0x03, 0x80, 0, 0, 0, 0, 1, 2})), WhyCAPWAPFragment},
		{"NFLOG without payload", LinkNFLOG, []byte{2, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0}, WhyTruncated},
		{"nested too deep", LinkEthernet, eth(0x8100, bytes.Repeat(cat(u16(1), u16(0x8100)), 40)), WhyNested},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := New(Limits{})
			if got := d.Decode(c.linkType, 0, c.frame); got != nil {
				t.Fatalf("got a packet %x, want it skipped", got)
			}
			if want := map[string]int{c.why: 1}; !maps.Equal(d.Skipped(), want) {
				t.Errorf("skipped %v, want %v", d.Skipped(), want)
			}
		})
	}
}

// UDP to a tunnel port that is not the tunnel is left as UDP.
func TestDecode_NotATunnel(t *testing.T) {
	plain := ipv4(17, udp(4789, []byte("\x00 not VXLAN: no I flag")))
	d := New(Limits{})
	if got := d.Decode(LinkRaw, 0, plain); !bytes.Equal(got, plain) {
		t.Errorf("got %x, want the UDP packet itself", got)
	}
}
