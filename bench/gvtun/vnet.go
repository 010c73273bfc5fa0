package gvtun

import (
	"encoding/binary"
	"errors"
	"fmt"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The legacy struct virtio_net_hdr (VIRTIO 1.2 §5.1.6) that a TUN device
// opened with IFF_VNET_HDR puts before each packet: flags, gso_type, then
// hdr_len, gso_size, csum_start and csum_offset as little-endian 16-bit
// words (TUN speaks the host's order; the benchmark runs on amd64/arm64).
const vnetHdrLen = 10

const (
	vnetNeedsCsum = 1 // checksum field holds the pseudo-header sum only
	vnetDataValid = 2 // the kernel verified the checksum

	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOTCPv6 = 4
	vnetGSOECN   = 0x80
)

type vnetHeader struct {
	flags, gsoType                         uint8
	hdrLen, gsoSize, csumStart, csumOffset uint16
}

var errVnet = errors.New("gvtun: malformed vnet header")

func decodeVnetHeader(b []byte) (vnetHeader, error) {
	if len(b) < vnetHdrLen {
		return vnetHeader{}, fmt.Errorf("%w: %d bytes", errVnet, len(b))
	}
	le := binary.LittleEndian
	return vnetHeader{
		flags: b[0], gsoType: b[1],
		hdrLen: le.Uint16(b[2:]), gsoSize: le.Uint16(b[4:]),
		csumStart: le.Uint16(b[6:]), csumOffset: le.Uint16(b[8:]),
	}, nil
}

func (h vnetHeader) encode(b []byte) {
	le := binary.LittleEndian
	b[0], b[1] = h.flags, h.gsoType
	le.PutUint16(b[2:], h.hdrLen)
	le.PutUint16(b[4:], h.gsoSize)
	le.PutUint16(b[6:], h.csumStart)
	le.PutUint16(b[8:], h.csumOffset)
}

// check accepts what a TUN device with TUN_F_CSUM|TSO4|TSO6 may hand us
// for a packet of n bytes: only the two checksum flags, no GSO or TCP GSO
// with a segment size, and a checksum field inside the packet.
func (h vnetHeader) check(n int) error {
	if h.flags&^(vnetNeedsCsum|vnetDataValid) != 0 {
		return fmt.Errorf("%w: flags %#x", errVnet, h.flags)
	}
	switch h.gsoType &^ vnetGSOECN {
	case vnetGSONone:
	case vnetGSOTCPv4, vnetGSOTCPv6:
		if h.gsoSize == 0 {
			return fmt.Errorf("%w: GSO size 0", errVnet)
		}
	default:
		return fmt.Errorf("%w: GSO type %#x", errVnet, h.gsoType)
	}
	if h.flags&vnetNeedsCsum != 0 && int(h.csumStart)+int(h.csumOffset)+2 > n {
		return fmt.Errorf("%w: checksum at %d+%d outside %d bytes", errVnet, h.csumStart, h.csumOffset, n)
	}
	return nil
}

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
