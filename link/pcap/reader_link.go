package pcap

import (
	"encoding/binary"
	"fmt"
)

// EtherTypes the Reader keeps, and the VLAN tags it looks through.
const (
	etherTypeIPv4  = 0x0800
	etherTypeIPv6  = 0x86DD
	etherTypeVLAN  = 0x8100 // IEEE 802.1Q customer tag
	etherTypeQinQ  = 0x88A8 // IEEE 802.1ad service tag
	etherTypeQinQ9 = 0x9100 // pre-standard double tag
	maxVLANTags    = 4
)

// Address families seen in LINKTYPE_NULL headers: AF_INET is 2 everywhere,
// AF_INET6 is 10 on Linux and 24, 28 or 30 on the BSDs and macOS.
var nullFamilyIP = map[uint32]bool{2: true, 10: true, 24: true, 28: true, 30: true}

// stripLink removes the link-layer header of a frame of the given link
// type. It returns the IP packet and true, or false for a frame that does
// not carry IPv4 or IPv6 (or is too short to tell); the error is for a link
// type the Reader does not know.
func stripLink(linkType int, f []byte) ([]byte, bool, error) {
	switch linkType {
	case LinkTypeRaw:
		return f, isIP(f), nil
	case LinkTypeIPv4:
		return f, len(f) > 0 && f[0]>>4 == 4, nil
	case LinkTypeIPv6:
		return f, len(f) > 0 && f[0]>>4 == 6, nil
	case LinkTypeEthernet:
		return stripEthernet(f)
	case LinkTypeLinuxSLL:
		// Packet type (2), ARPHRD type (2), address length (2), address
		// (8), protocol (2): 16 bytes.
		return byEtherType(f, 16, 14)
	case LinkTypeSLL2:
		// Protocol (2), reserved (2), interface index (4), ARPHRD type
		// (2), packet type (1), address length (1), address (8): 20 bytes.
		return byEtherType(f, 20, 0)
	case LinkTypeNull:
		if len(f) < 4 {
			return nil, false, nil
		}
		// The family is in the capturing host's byte order: try both.
		le, be := binary.LittleEndian.Uint32(f), binary.BigEndian.Uint32(f)
		if !nullFamilyIP[le] && !nullFamilyIP[be] {
			return nil, false, nil
		}
		return f[4:], isIP(f[4:]), nil
	}
	return nil, false, fmt.Errorf("link type %d", linkType)
}

// stripEthernet removes an Ethernet II header (destination (6), source
// (6), EtherType (2)) and up to four 802.1Q/802.1ad tags (TPID (2), TCI
// (2)), keeping IPv4 and IPv6 only.
func stripEthernet(f []byte) ([]byte, bool, error) {
	off := 12
	for range maxVLANTags + 1 {
		if len(f) < off+2 {
			return nil, false, nil
		}
		switch binary.BigEndian.Uint16(f[off:]) {
		case etherTypeVLAN, etherTypeQinQ, etherTypeQinQ9:
			off += 4
			continue
		}
		return byEtherType(f, off+2, off)
	}
	return nil, false, nil
}

// byEtherType returns f[hdr:] if the EtherType at f[at:at+2] is IPv4 or
// IPv6 and the payload's version nibble agrees.
func byEtherType(f []byte, hdr, at int) ([]byte, bool, error) {
	if len(f) < hdr || at+2 > hdr {
		return nil, false, nil
	}
	ip := f[hdr:]
	switch binary.BigEndian.Uint16(f[at:]) {
	case etherTypeIPv4:
		return ip, len(ip) > 0 && ip[0]>>4 == 4, nil
	case etherTypeIPv6:
		return ip, len(ip) > 0 && ip[0]>>4 == 6, nil
	}
	return nil, false, nil
}

// isIP reports whether b starts with an IPv4 or IPv6 version nibble.
func isIP(b []byte) bool { return len(b) > 0 && (b[0]>>4 == 4 || b[0]>>4 == 6) }
