package tun

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// This file is the read side of the offloads: what the kernel hands us
// after a vnet header. With TUN_F_CSUM the kernel leaves checksums to the
// device ("CHECKSUM_PARTIAL"): the field holds the pseudo-header sum and
// we complete it. With TUN_F_TSO4/6 a packet may be a TCP super-packet of
// up to 64 KiB that stands for segments of gso_size payload bytes each.
// Our stack accepts it whole (a TCP receiver takes any segment that fits
// its window, whatever the MSS it announced), or the link cuts it into
// those segments first, as the kernel's tcp_gso_segment would.

// errGSONotTCP: a GSO packet that is not one TCP segment we can parse.
var errGSONotTCP = errors.New("tun: GSO packet is not a well-formed TCP segment")

// completeChecksum finishes the checksum of p whose vnet header said
// NEEDS_CSUM: the field at csum_start+csum_offset holds the
// pseudo-header sum and the checksum covers csum_start to the end of p.
// h.Check(len(p)) must have passed.
func completeChecksum(p []byte, h *vnethdr.Header) {
	start := int(h.CsumStart)
	field := start + int(h.CsumOffset)
	binary.BigEndian.PutUint16(p[field:], wire.Fold(wire.Sum(0, p[start:])))
}

// gsoTCPHeaders returns the IP and TCP header lengths of the GSO packet
// p, checking that the IP version matches the GSO type and that p is one
// whole TCP segment.
func gsoTCPHeaders(p []byte, h *vnethdr.Header) (ipHL, tcpHL int, err error) {
	ip, err := wire.ParseIP(p)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errGSONotTCP, err)
	}
	want := uint8(4)
	if h.GSOType&^vnethdr.GSOECN == vnethdr.GSOTCPv6 {
		want = 6
	}
	if ip.Version != want || ip.Protocol != wire.IPProtoTCP || len(ip.Header)+len(ip.Payload) != len(p) {
		return 0, 0, fmt.Errorf("%w: IPv%d protocol %d, GSO type %#x", errGSONotTCP, ip.Version, ip.Protocol, h.GSOType)
	}
	t, err := wire.ParseTCP(ip.Payload)
	if err != nil {
		return 0, 0, fmt.Errorf("%w: %w", errGSONotTCP, err)
	}
	return len(ip.Header), t.HeaderLen(), nil
}

// gsoSegments returns how many segments of gsoSize payload bytes a
// payload of n bytes makes (1 for an empty one).
func gsoSegments(n, gsoSize int) int {
	if n <= gsoSize {
		return 1
	}
	return (n + gsoSize - 1) / gsoSize
}

// gsoSplitLen returns the bytes gsoSplit writes for p.
func gsoSplitLen(p []byte, hl, gsoSize int) int {
	return len(p) + (gsoSegments(len(p)-hl, gsoSize)-1)*hl
}

// gsoSplit cuts the TCP super-packet p (ipHL + tcpHL bytes of headers)
// into segments of gsoSize payload bytes, written one after the other
// into dst (gsoSplitLen bytes), and appends them to out. Each segment
// gets the first header with, as tcp_gso_segment does: its own IP length
// (and IPv4 ID + i, header checksum), sequence number, PSH and FIN only
// on the last segment, CWR only on the first (RFC 3168 §6.1.2), and a
// full TCP checksum. p's own TCP checksum is not read.
func gsoSplit(out [][]byte, dst, p []byte, ipHL, tcpHL, gsoSize int) [][]byte {
	hl := ipHL + tcpHL
	hdr, payload := p[:hl], p[hl:]
	var src, dstAddr netip.Addr
	var id uint16
	if p[0]>>4 == 4 {
		src, dstAddr = netip.AddrFrom4([4]byte(p[12:16])), netip.AddrFrom4([4]byte(p[16:20]))
		id = binary.BigEndian.Uint16(p[4:])
	} else {
		src, dstAddr = netip.AddrFrom16([16]byte(p[8:24])), netip.AddrFrom16([16]byte(p[24:40]))
	}
	seq := binary.BigEndian.Uint32(p[ipHL+4:])
	flags := wire.TCPFlags(p[ipHL+13])
	k := gsoSegments(len(payload), gsoSize)
	for i := range k {
		chunk := payload[min(i*gsoSize, len(payload)):min((i+1)*gsoSize, len(payload))]
		seg := dst[:hl+len(chunk)]
		dst = dst[len(seg):]
		copy(seg, hdr)
		copy(seg[hl:], chunk)
		fl := flags
		if i < k-1 {
			fl &^= wire.PSH | wire.FIN
		}
		if i > 0 {
			fl &^= wire.CWR
		}
		if p[0]>>4 == 4 {
			binary.BigEndian.PutUint16(seg[2:], uint16(len(seg)))
			binary.BigEndian.PutUint16(seg[4:], id+uint16(i))
			seg[10], seg[11] = 0, 0
			binary.BigEndian.PutUint16(seg[10:], wire.Checksum(seg[:ipHL]))
		} else {
			binary.BigEndian.PutUint16(seg[4:], uint16(len(seg)-wire.IPv6HeaderLen))
		}
		tcp := seg[ipHL:]
		binary.BigEndian.PutUint32(tcp[4:], seq+uint32(i*gsoSize))
		tcp[13] = byte(fl)
		tcp[16], tcp[17] = 0, 0
		ph := wire.PseudoHeaderSum(src, dstAddr, wire.IPProtoTCP, len(tcp))
		binary.BigEndian.PutUint16(tcp[16:], wire.Fold(wire.Sum(ph, tcp)))
		out = append(out, seg)
	}
	return out
}
