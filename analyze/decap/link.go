package decap

import "encoding/binary"

// EtherTypes and PPP protocols opened (IEEE registry; RFC 1332, RFC 5072).
const (
	etIPv4      = 0x0800
	etARP       = 0x0806
	etTEB       = 0x6558 // Transparent Ethernet Bridging (GRE, NVGRE, Geneve)
	etVLAN      = 0x8100 // IEEE 802.1Q customer tag
	etIPv6      = 0x86DD
	etPPPoE     = 0x8864 // PPPoE session stage (RFC 2516)
	etMPLS      = 0x8847
	etMPLSMulti = 0x8848
	etQinQ      = 0x88A8 // IEEE 802.1ad service tag
	etERSPAN2   = 0x88BE // ERSPAN type I and II (in GRE)
	etPBB       = 0x88E7 // IEEE 802.1ah backbone service instance tag
	etQinQ9100  = 0x9100 // pre-standard double tags
	etQinQ9200  = 0x9200
	etERSPAN3   = 0x22EB // ERSPAN type III (in GRE)
	etPPTPPPP   = 0x880B // PPP in enhanced GRE (PPTP, RFC 2637)

	pppIPv4 = 0x0021
	pppIPv6 = 0x0057
)

// nullFamilies are the address families of LINKTYPE_NULL and LOOP: AF_INET
// is 2 everywhere, AF_INET6 is 10 on Linux and 24, 28 or 30 on the BSDs
// and macOS.
func nullFamilyIP(f uint32) bool { return f == 2 || f == 10 || f == 24 || f == 28 || f == 30 }

// link strips the link-layer header of a frame of link type lt.
func (d *Decoder) link(lt int, f []byte, depth int) ([]byte, string) {
	if depth > maxDepth {
		return nil, WhyNested
	}
	switch lt {
	case LinkRaw, LinkRawDLT12, LinkRawDLT14, LinkIPv4, LinkIPv6:
		return d.ip(f, depth+1)
	case LinkFDDI:
		if len(f) > 0 && (f[0]>>4 == 4 || f[0]>>4 == 6) {
			return d.ip(f, depth+1) // raw IP written as 10 by some tools
		}
		// frame control (1), destination (6), source (6), then 802.2 LLC
		if len(f) < 13 {
			return nil, WhyTruncated
		}
		return d.llc(f[13:], depth+1)
	case LinkEthernet:
		return d.ethernet(f, depth+1)
	case LinkNull, LinkLoop:
		if len(f) < 4 {
			return nil, WhyTruncated
		}
		if !nullFamilyIP(binary.LittleEndian.Uint32(f)) && !nullFamilyIP(binary.BigEndian.Uint32(f)) {
			return nil, WhyNotIP
		}
		return d.ip(f[4:], depth+1)
	case LinkPPP, LinkPPPHDLC:
		return d.ppp(f, depth+1)
	case LinkCiscoHDLC:
		// address (1), control (1), EtherType (2)
		if len(f) < 4 {
			return nil, WhyTruncated
		}
		return d.byType(binary.BigEndian.Uint16(f[2:]), f[4:], depth+1)
	case LinkLinuxSLL:
		// packet type (2), ARPHRD type (2), address length (2), address (8), protocol (2)
		if len(f) < 16 {
			return nil, WhyTruncated
		}
		return d.sllProto(binary.BigEndian.Uint16(f[2:]), binary.BigEndian.Uint16(f[14:]), f[16:], depth+1)
	case LinkLinuxSLL2:
		// protocol (2), reserved (2), interface (4), ARPHRD type (2),
		// packet type (1), address length (1), address (8)
		if len(f) < 20 {
			return nil, WhyTruncated
		}
		return d.sllProto(binary.BigEndian.Uint16(f[8:]), binary.BigEndian.Uint16(f), f[20:], depth+1)
	case LinkNFLOG:
		return d.nflog(f, depth+1)
	case Link80211:
		return d.wifi(f, depth+1)
	case LinkRadiotap:
		// version (1), pad (1), length (2, little-endian), present words ...
		if len(f) < 4 {
			return nil, WhyTruncated
		}
		n := int(binary.LittleEndian.Uint16(f[2:]))
		if n < 8 || n > len(f) {
			return nil, WhyTruncated
		}
		return d.wifi(f[n:], depth+1)
	case LinkPPI:
		// version (1), flags (1), length (2 LE), link type (4 LE), fields
		if len(f) < 8 {
			return nil, WhyTruncated
		}
		n, inner := int(binary.LittleEndian.Uint16(f[2:])), int(binary.LittleEndian.Uint32(f[4:]))
		if n < 8 || n > len(f) || inner == LinkPPI {
			return nil, WhyTruncated
		}
		return d.link(inner, f[n:], depth+1)
	case Link802154FCS:
		if len(f) < 2 {
			return nil, WhyTruncated
		}
		return d.wpan(f[:len(f)-2], depth+1) // the 2-byte FCS ends the frame
	case Link802154NoFCS:
		return d.wpan(f, depth+1)
	}
	return nil, whyLinkType(lt)
}

// sllProto reads a Linux cooked header's protocol field: an EtherType,
// except for a few ARPHRD types (RFC-less: Linux's if_arp.h) and the
// 802.2 pseudo-protocols.
func (d *Decoder) sllProto(hatype, proto uint16, b []byte, depth int) ([]byte, string) {
	switch {
	case hatype == 778: // ARPHRD_IPGRE: the protocol is GRE's
		return d.byType(proto, b, depth)
	case hatype == 803 || hatype == 824: // radiotap, 802.11
		if hatype == 803 {
			return d.link(LinkRadiotap, b, depth)
		}
		return d.wifi(b, depth)
	case proto == 0x0004: // ETH_P_802_2: an LLC header follows
		return d.llc(b, depth)
	}
	return d.byType(proto, b, depth)
}

// ethernet reads an Ethernet II or 802.3 header: destination (6), source
// (6), EtherType or length (2).
func (d *Decoder) ethernet(f []byte, depth int) ([]byte, string) {
	if len(f) < 14 {
		return nil, WhyTruncated
	}
	et := binary.BigEndian.Uint16(f[12:])
	if et <= 1500 { // 802.3: a length, then 802.2 LLC
		return d.llc(f[14:], depth)
	}
	return d.byType(et, f[14:], depth)
}

// llc reads an 802.2 LLC header; only SNAP (AA AA 03, OUI (3), EtherType
// (2)) carries IP.
func (d *Decoder) llc(b []byte, depth int) ([]byte, string) {
	if len(b) < 3 {
		return nil, WhyTruncated
	}
	if b[0] != 0xAA || b[1] != 0xAA || b[2] != 0x03 {
		return nil, WhyNotIP
	}
	if len(b) < 8 {
		return nil, WhyTruncated
	}
	return d.byType(binary.BigEndian.Uint16(b[6:]), b[8:], depth+1)
}

// byType opens the payload b of a frame or tunnel by its EtherType.
func (d *Decoder) byType(et uint16, b []byte, depth int) ([]byte, string) {
	if depth > maxDepth {
		return nil, WhyNested
	}
	switch et {
	case etIPv4, etIPv6:
		want := byte(4)
		if et == etIPv6 {
			want = 6
		}
		if len(b) == 0 || b[0]>>4 != want {
			return nil, WhyNotIP
		}
		return d.ip(b, depth+1)
	case etVLAN, etQinQ, etQinQ9100, etQinQ9200:
		// tag control (2), then the next EtherType (2)
		if len(b) < 4 {
			return nil, WhyTruncated
		}
		d.open("vlan")
		return d.byType(binary.BigEndian.Uint16(b[2:]), b[4:], depth+1)
	case etMPLS, etMPLSMulti:
		return d.mpls(b, depth+1)
	case etPPPoE:
		// version and type (1), code (1), session (2), length (2), PPP protocol
		if len(b) < 6 {
			return nil, WhyTruncated
		}
		d.open("pppoe")
		return d.ppp(b[6:], depth+1)
	case etPBB:
		// I-tag control and service instance (4), then the customer's
		// Ethernet frame
		if len(b) < 4 {
			return nil, WhyTruncated
		}
		d.open("pbb")
		return d.ethernet(b[4:], depth+1)
	case etTEB:
		return d.ethernet(b, depth+1)
	}
	return nil, WhyNotIP
}

// mpls pops MPLS labels (4 bytes each) to the bottom of the stack and
// guesses the payload as Wireshark does: an IP version nibble is IP, a
// zero nibble is the pseudowire control word before an Ethernet frame, and
// anything else an Ethernet frame without one.
func (d *Decoder) mpls(b []byte, depth int) ([]byte, string) {
	d.open("mpls")
	for {
		if len(b) < 4 {
			return nil, WhyTruncated
		}
		bottom := b[2]&1 != 0
		b = b[4:]
		depth++
		if depth > maxDepth {
			return nil, WhyNested
		}
		if bottom {
			break
		}
	}
	if len(b) == 0 {
		return nil, WhyTruncated
	}
	switch b[0] >> 4 {
	case 4, 6:
		return d.ip(b, depth+1)
	case 0:
		if len(b) < 4 {
			return nil, WhyTruncated
		}
		return d.ethernet(b[4:], depth+1)
	}
	return d.ethernet(b, depth+1)
}

// ppp reads a PPP header: optional HDLC address and control (FF 03), then
// the protocol in two bytes, or one when compressed (RFC 1661 §6.5: an odd
// first byte).
func (d *Decoder) ppp(b []byte, depth int) ([]byte, string) {
	if len(b) >= 2 && b[0] == 0xFF && b[1] == 0x03 {
		b = b[2:]
	}
	if len(b) == 0 {
		return nil, WhyTruncated
	}
	proto := uint16(b[0])
	if b[0]&1 == 0 {
		if len(b) < 2 {
			return nil, WhyTruncated
		}
		proto, b = binary.BigEndian.Uint16(b), b[2:]
	} else {
		b = b[1:]
	}
	switch proto {
	case pppIPv4:
		return d.byType(etIPv4, b, depth+1)
	case pppIPv6:
		return d.byType(etIPv6, b, depth+1)
	}
	return nil, WhyNotIP
}

// nflog reads Linux's NFLOG header, family (1), version (1), resource id
// (2), then type-length-value attributes in the capturing host's byte
// order, padded to 4 bytes; attribute 9 (NFULA_PAYLOAD) is the packet.
func (d *Decoder) nflog(f []byte, depth int) ([]byte, string) {
	if len(f) < 4 {
		return nil, WhyTruncated
	}
	if f[0] != 2 && f[0] != 10 { // AF_INET, AF_INET6
		return nil, WhyNotIP
	}
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		b := f[4:]
		for len(b) >= 4 {
			n, typ := int(order.Uint16(b)), order.Uint16(b[2:])
			if n < 4 || n > len(b) {
				break
			}
			if typ == 9 {
				return d.ip(b[4:n], depth+1)
			}
			b = b[min((n+3)&^3, len(b)):]
		}
	}
	return nil, WhyTruncated
}
