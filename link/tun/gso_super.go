package tun

import (
	"fmt"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// This file is the write side of link.GSOEndpoint: a super-segment our
// stack built itself (one header, the payloads of a run of segments
// behind it, the TCP checksum left partial) goes to the device as it is,
// behind the vnet header that tells the kernel how to cut it: TCP GSO of
// gso_size bytes, NEEDS_CSUM at the TCP checksum field. Nothing is copied
// or summed here; gso_coalesce.go is the fallback for stacks that hand
// over separate segments.

// superVnetHeader returns the vnet header for super-segment p of
// gso-byte segments, or an error if p is not a TCP segment gsoHeader's
// rules would accept as the head of a run: IPv4 without options or IPv6
// with TCP next, the IP length equal to len(p), at most gsoMaxLen bytes,
// a payload longer than one segment and no more than maxGSOSegments of
// them.
func superVnetHeader(p []byte, gso uint16) (vnethdr.Header, error) {
	ipHL, tcpHL, ok := tcpSegHeaders(p)
	if !ok || len(p) > gsoMaxLen || gso == 0 {
		return vnethdr.Header{}, fmt.Errorf("tun: super-segment of %d bytes (gso %d) is not one TCP segment", len(p), gso)
	}
	hl := ipHL + tcpHL
	payload := len(p) - hl
	if payload <= int(gso) || (payload+int(gso)-1)/int(gso) > maxGSOSegments {
		return vnethdr.Header{}, fmt.Errorf("tun: super-segment of %d payload bytes in segments of %d", payload, gso)
	}
	if f := wire.TCPFlags(p[ipHL+13]); f&^wire.PSH != wire.ACK {
		return vnethdr.Header{}, fmt.Errorf("tun: super-segment with flags %v", f)
	}
	h := vnethdr.Header{
		Flags: vnethdr.NeedsCsum, GSOType: vnethdr.GSOTCPv4, HdrLen: uint16(hl), GSOSize: gso,
		CsumStart: uint16(ipHL), CsumOffset: 16,
	}
	if ipHL != wire.IPv4MinLen {
		h.GSOType = vnethdr.GSOTCPv6
	}
	return h, nil
}
