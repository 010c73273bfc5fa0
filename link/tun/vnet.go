package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// This file is the codec of struct virtio_net_hdr, the 10-byte header a
// TUN device opened with IFF_VNET_HDR puts before every packet in both
// directions (VIRTIO 1.2 §5.1.6 "Device Operation", the legacy header
// without num_buffers). Its 16-bit fields are little-endian: TUN uses the
// host's order unless told otherwise, and Open refuses offloads on a
// big-endian host, so little-endian is what the device speaks.
//
//	byte 0   flags        NEEDS_CSUM (1), DATA_VALID (2), RSC_INFO (4)
//	byte 1   gso_type     NONE (0), TCPV4 (1), UDP (3), TCPV6 (4), UDP_L4 (5); ECN (0x80) ored in
//	byte 2   hdr_len      bytes of headers before the segmented payload
//	byte 4   gso_size     payload bytes per segment
//	byte 6   csum_start   where the checksummed bytes begin
//	byte 8   csum_offset  where, after csum_start, the checksum goes

// vnetHdrLen is the size of struct virtio_net_hdr.
const vnetHdrLen = 10

// Flag bits of the header's first byte (VIRTIO_NET_HDR_F_*).
const (
	// vnetNeedsCsum: the checksum at csum_start+csum_offset holds only
	// the pseudo-header sum; the receiver completes it over the bytes
	// from csum_start to the end of the packet.
	vnetNeedsCsum = 1
	// vnetDataValid: the checksum was already verified (receive only).
	vnetDataValid = 2
	// vnetRSCInfo: coalescing info in csum fields (never with TUN).
	vnetRSCInfo = 4
)

// GSO types of the header's second byte (VIRTIO_NET_HDR_GSO_*).
const (
	vnetGSONone  = 0
	vnetGSOTCPv4 = 1
	vnetGSOUDP   = 3
	vnetGSOTCPv6 = 4
	vnetGSOUDPL4 = 5
	// vnetGSOECN: the TCP segments carry ECN; the first one had CWR.
	vnetGSOECN = 0x80
)

// Errors of the vnet header codec. Each is wrapped with the offending
// values; match with errors.Is.
var (
	// errVnetTruncated: fewer than 10 bytes.
	errVnetTruncated = errors.New("tun: vnet header truncated")
	// errVnetFlags: a flag bit we did not negotiate (RSC_INFO, unknown).
	errVnetFlags = errors.New("tun: vnet header has unknown flags")
	// errVnetGSOType: a GSO type other than NONE, TCPV4 or TCPV6 (we
	// enable no UDP offload).
	errVnetGSOType = errors.New("tun: vnet header has an unsupported GSO type")
	// errVnetGSOSize: a TCP GSO packet with gso_size 0.
	errVnetGSOSize = errors.New("tun: vnet header has GSO size 0")
	// errVnetCsum: csum_start/csum_offset point outside the packet.
	errVnetCsum = errors.New("tun: vnet header checksum position outside the packet")
)

// vnetHdr is a view of a virtio_net_hdr. Obtain one from parseVnetHdr;
// its accessors then never panic.
type vnetHdr []byte

// parseVnetHdr returns the header at the start of b, or errVnetTruncated.
func parseVnetHdr(b []byte) (vnetHdr, error) {
	if len(b) < vnetHdrLen {
		return nil, fmt.Errorf("%w: %d bytes", errVnetTruncated, len(b))
	}
	return vnetHdr(b[:vnetHdrLen:vnetHdrLen]), nil
}

// Flags returns the flag bits.
func (h vnetHdr) Flags() uint8 { return h[0] }

// GSOType returns the GSO type with the ECN bit.
func (h vnetHdr) GSOType() uint8 { return h[1] }

// HdrLen returns hdr_len.
func (h vnetHdr) HdrLen() uint16 { return binary.LittleEndian.Uint16(h[2:]) }

// GSOSize returns gso_size.
func (h vnetHdr) GSOSize() uint16 { return binary.LittleEndian.Uint16(h[4:]) }

// CsumStart returns csum_start.
func (h vnetHdr) CsumStart() uint16 { return binary.LittleEndian.Uint16(h[6:]) }

// CsumOffset returns csum_offset.
func (h vnetHdr) CsumOffset() uint16 { return binary.LittleEndian.Uint16(h[8:]) }

// Decode returns the header's fields.
func (h vnetHdr) Decode() vnetHeader {
	return vnetHeader{
		Flags: h.Flags(), GSOType: h.GSOType(), HdrLen: h.HdrLen(), GSOSize: h.GSOSize(),
		CsumStart: h.CsumStart(), CsumOffset: h.CsumOffset(),
	}
}

// vnetHeader is the decoded meaning of a virtio_net_hdr.
type vnetHeader struct {
	Flags, GSOType                         uint8
	HdrLen, GSOSize, CsumStart, CsumOffset uint16
}

// Encode writes h into b[:10]. b must hold 10 bytes.
func (h *vnetHeader) Encode(b []byte) {
	b = b[:vnetHdrLen]
	b[0], b[1] = h.Flags, h.GSOType
	binary.LittleEndian.PutUint16(b[2:], h.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], h.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], h.CsumOffset)
}

// isTCPGSO reports whether the header announces a TCP GSO packet.
func (h *vnetHeader) isTCPGSO() bool { return h.GSOType&^vnetGSOECN != vnetGSONone }

// Check validates h for a packet of pktLen bytes (the bytes after the
// header) as it arrives from the kernel: only NEEDS_CSUM and DATA_VALID,
// GSO type NONE, TCPV4 or TCPV6 (ECN allowed), a non-zero gso_size with
// GSO, and with NEEDS_CSUM a 2-byte checksum field inside the packet.
// hdr_len is a hint the kernel sets to its linear length; it is not
// checked: we parse the headers ourselves.
func (h *vnetHeader) Check(pktLen int) error {
	if h.Flags&^(vnetNeedsCsum|vnetDataValid) != 0 {
		return fmt.Errorf("%w: %#x", errVnetFlags, h.Flags)
	}
	switch h.GSOType &^ vnetGSOECN {
	case vnetGSONone:
		if h.GSOType&vnetGSOECN != 0 {
			return fmt.Errorf("%w: ECN without GSO", errVnetGSOType)
		}
	case vnetGSOTCPv4, vnetGSOTCPv6:
		if h.GSOSize == 0 {
			return errVnetGSOSize
		}
	default:
		return fmt.Errorf("%w: %#x", errVnetGSOType, h.GSOType)
	}
	if h.Flags&vnetNeedsCsum != 0 && int(h.CsumStart)+int(h.CsumOffset)+2 > pktLen {
		return fmt.Errorf("%w: start %d + offset %d, packet %d bytes", errVnetCsum, h.CsumStart, h.CsumOffset, pktLen)
	}
	return nil
}
