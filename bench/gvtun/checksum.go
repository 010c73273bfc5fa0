package gvtun

import (
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// checksumsValid verifies in software what gVisor would have verified
// without the RX checksum capability: the IPv4 header checksum and, for
// an unfragmented TCP or UDP packet without IPv6 extension headers, the
// transport checksum (RFC 793 §3.1, RFC 768). Anything it cannot parse
// is passed on for gVisor to judge and drop.
func checksumsValid(b []byte) bool {
	var src, dst tcpip.Address
	var proto uint8
	var l4 []byte
	switch b[0] >> 4 {
	case 4:
		if len(b) < header.IPv4MinimumSize {
			return true
		}
		ip := header.IPv4(b)
		hl := int(ip.HeaderLength())
		if hl < header.IPv4MinimumSize || hl > len(b) || checksum.Checksum(b[:hl], 0) != 0xffff {
			return false
		}
		if ip.More() || ip.FragmentOffset() != 0 || int(ip.TotalLength()) > len(b) || int(ip.TotalLength()) < hl {
			return true
		}
		src, dst, proto, l4 = ip.SourceAddress(), ip.DestinationAddress(), ip.Protocol(), b[hl:ip.TotalLength()]
	case 6:
		if len(b) < header.IPv6MinimumSize {
			return true
		}
		ip := header.IPv6(b)
		end := header.IPv6MinimumSize + int(ip.PayloadLength())
		if end > len(b) {
			return true
		}
		src, dst, proto, l4 = ip.SourceAddress(), ip.DestinationAddress(), ip.NextHeader(), b[header.IPv6MinimumSize:end]
	default:
		return true
	}
	if tcpip.TransportProtocolNumber(proto) != header.TCPProtocolNumber && tcpip.TransportProtocolNumber(proto) != header.UDPProtocolNumber {
		return true
	}
	if tcpip.TransportProtocolNumber(proto) == header.UDPProtocolNumber && len(l4) >= header.UDPMinimumSize && header.UDP(l4).Checksum() == 0 && b[0]>>4 == 4 {
		return true // IPv4 UDP without a checksum
	}
	sum := header.PseudoHeaderChecksum(tcpip.TransportProtocolNumber(proto), src, dst, uint16(len(l4)))
	return checksum.Checksum(l4, sum) == 0xffff
}
