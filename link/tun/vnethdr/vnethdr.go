package vnethdr

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The header's layout (VIRTIO 1.2 §5.1.6 "Device Operation", the legacy
// header without num_buffers). Its 16-bit fields are little-endian: TUN
// uses the host's order unless told otherwise, and link/tun refuses
// offloads on a big-endian host, so little-endian is what the device
// speaks.
//
//	byte 0   flags        NEEDS_CSUM (1), DATA_VALID (2), RSC_INFO (4)
//	byte 1   gso_type     NONE (0), TCPV4 (1), UDP (3), TCPV6 (4), UDP_L4 (5); ECN (0x80) ored in
//	byte 2   hdr_len      bytes of headers before the segmented payload
//	byte 4   gso_size     payload bytes per segment
//	byte 6   csum_start   where the checksummed bytes begin
//	byte 8   csum_offset  where, after csum_start, the checksum goes

// Len is the size of struct virtio_net_hdr: the bytes before every packet.
const Len = 10

// Flag bits of the header's first byte (VIRTIO_NET_HDR_F_*).
const (
	// NeedsCsum: the checksum at csum_start+csum_offset holds only the
	// pseudo-header sum; the receiver completes it over the bytes from
	// csum_start to the end of the packet.
	NeedsCsum = 1
	// DataValid: the checksum was already verified (receive only).
	DataValid = 2
	// RSCInfo: coalescing info in the csum fields (never with TUN).
	RSCInfo = 4
)

// GSO types of the header's second byte (VIRTIO_NET_HDR_GSO_*).
const (
	GSONone  = 0
	GSOTCPv4 = 1
	GSOUDP   = 3
	GSOTCPv6 = 4
	GSOUDPL4 = 5
	// GSOECN: the TCP segments carry ECN; the first one had CWR.
	GSOECN = 0x80
)

// Errors of Parse and Header.Check. Each is wrapped with the offending
// values; match with errors.Is.
var (
	// ErrTruncated: fewer than Len bytes.
	ErrTruncated = errors.New("vnethdr: header truncated")
	// ErrFlags: a flag bit the offloads do not negotiate (RSC_INFO,
	// unknown ones).
	ErrFlags = errors.New("vnethdr: unknown flags")
	// ErrGSOType: a GSO type other than NONE, TCPV4 or TCPV6 (no UDP
	// offload is turned on), or ECN without GSO.
	ErrGSOType = errors.New("vnethdr: unsupported GSO type")
	// ErrGSOSize: a TCP GSO packet with gso_size 0.
	ErrGSOSize = errors.New("vnethdr: GSO size 0")
	// ErrCsum: csum_start/csum_offset point outside the packet.
	ErrCsum = errors.New("vnethdr: checksum position outside the packet")
)

// Header is the decoded meaning of a virtio_net_hdr. The zero Header is
// the one of a packet that goes alone: no GSO, no checksum to complete.
type Header struct {
	Flags, GSOType                         uint8
	HdrLen, GSOSize, CsumStart, CsumOffset uint16
}

// Parse decodes the header at the start of b, or returns ErrTruncated.
// Any Len bytes decode; Check says whether the header is usable.
func Parse(b []byte) (Header, error) {
	if len(b) < Len {
		return Header{}, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
	}
	le := binary.LittleEndian
	return Header{
		Flags: b[0], GSOType: b[1], HdrLen: le.Uint16(b[2:]), GSOSize: le.Uint16(b[4:]),
		CsumStart: le.Uint16(b[6:]), CsumOffset: le.Uint16(b[8:]),
	}, nil
}

// Encode writes h into b[:Len]. b must hold Len bytes.
func (h Header) Encode(b []byte) {
	b = b[:Len]
	b[0], b[1] = h.Flags, h.GSOType
	binary.LittleEndian.PutUint16(b[2:], h.HdrLen)
	binary.LittleEndian.PutUint16(b[4:], h.GSOSize)
	binary.LittleEndian.PutUint16(b[6:], h.CsumStart)
	binary.LittleEndian.PutUint16(b[8:], h.CsumOffset)
}

// IsTCPGSO reports whether h announces a GSO packet; once Check accepted
// h, that is a TCP super-packet of gso_size segments.
func (h Header) IsTCPGSO() bool { return h.GSOType&^GSOECN != GSONone }

// Check validates h for a packet of pktLen bytes (the bytes after the
// header) as it arrives from the kernel: only NEEDS_CSUM and DATA_VALID,
// GSO type NONE, TCPV4 or TCPV6 (ECN allowed with TCP), a non-zero
// gso_size with GSO, and with NEEDS_CSUM a 2-byte checksum field inside
// the packet. hdr_len is a hint the kernel sets to its linear length; it
// is not checked: the reader parses the headers itself.
func (h Header) Check(pktLen int) error {
	if h.Flags&^(NeedsCsum|DataValid) != 0 {
		return fmt.Errorf("%w: %#x", ErrFlags, h.Flags)
	}
	switch h.GSOType &^ GSOECN {
	case GSONone:
		if h.GSOType&GSOECN != 0 {
			return fmt.Errorf("%w: ECN without GSO", ErrGSOType)
		}
	case GSOTCPv4, GSOTCPv6:
		if h.GSOSize == 0 {
			return ErrGSOSize
		}
	default:
		return fmt.Errorf("%w: %#x", ErrGSOType, h.GSOType)
	}
	if h.Flags&NeedsCsum != 0 && int(h.CsumStart)+int(h.CsumOffset)+2 > pktLen {
		return fmt.Errorf("%w: start %d + offset %d, packet %d bytes", ErrCsum, h.CsumStart, h.CsumOffset, pktLen)
	}
	return nil
}
