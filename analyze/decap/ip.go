package decap

import "encoding/binary"

// IP protocol numbers of the tunnels opened (IANA).
const (
	protoIPIP = 4
	protoUDP  = 17
	protoIPv6 = 41
	protoGRE  = 47
	protoFrag = 44 // IPv6 Fragment header
)

// UDP ports of the tunnels opened (IANA).
const (
	portVXLAN  = 4789 // RFC 7348
	portGeneve = 6081 // RFC 8926
	portCAPWAP = 5247 // RFC 5415 data channel
)

// ip reads an IP packet: a fragment goes to reassembly, a tunnel is
// opened, and any other packet is the result. A header too broken to read
// is the result as well: the caller's own parser counts what is wrong.
func (d *Decoder) ip(b []byte, depth int) ([]byte, string) {
	if depth > maxDepth {
		return nil, WhyNested
	}
	if len(b) > 0 && b[0]>>4 == 4 {
		return d.ipv4(b, depth)
	}
	if len(b) > 0 && b[0]>>4 == 6 {
		return d.ipv6(b, depth)
	}
	return b, ""
}

// ipv4 reads an IPv4 header (RFC 791 §3.1).
func (d *Decoder) ipv4(b []byte, depth int) ([]byte, string) {
	if len(b) < 20 {
		return b, ""
	}
	hl, tl := int(b[0]&0x0f)*4, int(binary.BigEndian.Uint16(b[2:]))
	if hl < 20 || hl > len(b) || tl < hl {
		return b, ""
	}
	frag := binary.BigEndian.Uint16(b[6:])
	if off, more := int(frag&0x1fff)*8, frag&0x2000 != 0; more || off != 0 {
		if tl > len(b) {
			return nil, WhyFragTruncated
		}
		d.fragments++
		var k fragKey
		copy(k.src[:], b[12:16])
		copy(k.dst[:], b[16:20])
		k.id, k.proto = uint32(binary.BigEndian.Uint16(b[4:])), b[9]
		whole, why := d.reasm.add(d, k, fragment{head: b[:hl], off: off, more: more, data: b[hl:tl]})
		if whole == nil {
			return nil, why
		}
		return d.ip(whole, depth+1)
	}
	return d.tunnel(b, b[9], b[hl:min(tl, len(b))], depth)
}

// ipv6 walks an IPv6 packet's extension headers (RFC 8200 §4) to a
// Fragment header or the upper-layer protocol.
func (d *Decoder) ipv6(b []byte, depth int) ([]byte, string) {
	if len(b) < 40 {
		return b, ""
	}
	tl := 40 + int(binary.BigEndian.Uint16(b[4:]))
	end := min(tl, len(b))
	nh, off, nhAt := b[6], 40, 6
	for {
		hl := 0
		switch nh {
		case 0, 43, 60, 135, 139, 140, 253, 254: // RFC 8200 §4.8 generic format
			if off+2 > end {
				return b, ""
			}
			hl = (int(b[off+1]) + 1) * 8
		case 51: // AH, RFC 4302 §2.2
			if off+2 > end {
				return b, ""
			}
			hl = (int(b[off+1]) + 2) * 4
		case protoFrag:
			if off+8 > end {
				return b, ""
			}
			return d.fragment6(b, tl, off, nhAt, depth)
		default:
			return d.tunnel(b, nh, b[off:end], depth)
		}
		if off+hl > end {
			return b, ""
		}
		nh, nhAt, off = b[off], off, off+hl
	}
}

// fragment6 handles the Fragment header at off: next header (1), reserved
// (1), offset in 8-byte units and M flag (2), identification (4). An
// atomic fragment (offset 0, M clear; RFC 6946) is a whole packet: the
// header is removed and the packet read on. Others go to reassembly.
func (d *Decoder) fragment6(b []byte, tl, off, nhAt, depth int) ([]byte, string) {
	fo := binary.BigEndian.Uint16(b[off+2:])
	offset, more := int(fo>>3)*8, fo&1 != 0
	if tl > len(b) {
		return nil, WhyFragTruncated
	}
	if offset == 0 && !more {
		d.open("ipv6_atomic_fragment")
		out := make([]byte, 0, tl-8)
		out = append(append(out, b[:off]...), b[off+8:tl]...)
		out[nhAt] = b[off]
		binary.BigEndian.PutUint16(out[4:], uint16(tl-8-40))
		return d.ip(out, depth+1)
	}
	d.fragments++
	var k fragKey
	copy(k.src[:], b[8:24])
	copy(k.dst[:], b[24:40])
	k.id, k.v6 = binary.BigEndian.Uint32(b[off+4:]), true
	whole, why := d.reasm.add(d, k, fragment{head: b[:off], nhAt: nhAt, nh: b[off], off: offset, more: more, data: b[off+8 : tl]})
	if whole == nil {
		return nil, why
	}
	return d.ip(whole, depth+1)
}

// tunnel opens the payload of an IP packet carrying protocol proto when it
// is a tunnel; otherwise the packet is the result.
func (d *Decoder) tunnel(b []byte, proto uint8, pay []byte, depth int) ([]byte, string) {
	v6 := b[0]>>4 == 6
	switch proto {
	case protoIPIP, protoIPv6:
		names := [2][2]string{{"ip4in4", "ip6in4"}, {"ip4in6", "ip6in6"}}
		d.open(names[b2i(v6)][b2i(proto == protoIPv6)])
		return d.ip(pay, depth+1)
	case protoGRE:
		return d.gre(pay, depth+1)
	case protoUDP:
		if len(pay) < 8 {
			return b, ""
		}
		src, dst := binary.BigEndian.Uint16(pay), binary.BigEndian.Uint16(pay[2:])
		body := pay[8:]
		switch {
		case dst == portVXLAN:
			return d.vxlan(b, body, depth+1)
		case dst == portGeneve:
			return d.geneve(b, body, depth+1)
		case dst == portCAPWAP || src == portCAPWAP:
			return d.capwap(b, body, depth+1)
		}
	}
	return b, ""
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
