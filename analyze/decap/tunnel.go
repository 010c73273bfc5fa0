package decap

import "encoding/binary"

// gre reads a GRE header: flags and version (2), protocol (2), then the
// optional checksum and reserved (4), key (4) and sequence number (4) its
// C, K and S bits announce (RFC 2784, RFC 2890). Version 1 is PPTP's
// enhanced GRE (RFC 2637 §4.1): key (4) always, sequence and
// acknowledgement (4 each) by their bits, carrying PPP.
func (d *Decoder) gre(b []byte, depth int) ([]byte, string) {
	if len(b) < 4 {
		return nil, WhyTruncated
	}
	flags, proto := binary.BigEndian.Uint16(b), binary.BigEndian.Uint16(b[2:])
	n := 4
	switch flags & 7 {
	case 0:
		if flags&0x4000 != 0 { // routing present (RFC 1701): not opened
			return nil, WhyGRE
		}
		for _, bit := range []uint16{0x8000, 0x2000, 0x1000} {
			if flags&bit != 0 {
				n += 4
			}
		}
	case 1:
		if proto != etPPTPPPP || flags&0x2000 == 0 {
			return nil, WhyGRE
		}
		n += 4
		for _, bit := range []uint16{0x1000, 0x0080} {
			if flags&bit != 0 {
				n += 4
			}
		}
	default:
		return nil, WhyGRE
	}
	if len(b) < n {
		return nil, WhyTruncated
	}
	d.open("gre")
	pay := b[n:]
	switch proto {
	case etPPTPPPP:
		if len(pay) == 0 {
			return nil, WhyNotIP // an acknowledgement only
		}
		return d.ppp(pay, depth+1)
	case etERSPAN2:
		d.open("erspan")
		if flags&0x1000 == 0 { // type I: no ERSPAN header
			return d.ethernet(pay, depth+1)
		}
		// type II: version and VLAN (2), COS, encapsulation, truncation
		// and session (2), reserved and index (4)
		if len(pay) < 8 {
			return nil, WhyTruncated
		}
		return d.ethernet(pay[8:], depth+1)
	case etERSPAN3:
		// type III: version ... session (4), timestamp (4), SGT (2),
		// P, frame type, hardware id (1), D, granularity, O (1); an
		// optional platform subheader (8) when O is set
		if len(pay) < 12 {
			return nil, WhyTruncated
		}
		d.open("erspan")
		h := 12
		if pay[11]&1 != 0 {
			h += 8
		}
		if len(pay) < h {
			return nil, WhyTruncated
		}
		switch ft := pay[10] >> 2 & 0x1f; ft {
		case 0:
			return d.ethernet(pay[h:], depth+1)
		case 2:
			return d.ip(pay[h:], depth+1)
		}
		return nil, WhyGRE
	}
	return d.byType(proto, pay, depth+1)
}

// vxlan reads a VXLAN header (RFC 7348 §5): flags (1, I set), reserved
// (3), VNI (3), reserved (1), then an Ethernet frame. A packet to port 4789
// without the I flag is left alone as ordinary UDP.
func (d *Decoder) vxlan(outer, b []byte, depth int) ([]byte, string) {
	if len(b) < 8 || b[0]&0x08 == 0 {
		return outer, ""
	}
	d.open("vxlan")
	return d.ethernet(b[8:], depth+1)
}

// geneve reads a Geneve header (RFC 8926 §3.4): version and option length
// in 4-byte words (1), flags (1), protocol type (2), VNI and reserved (4),
// options; the protocol is an EtherType (0x6558 for Ethernet).
func (d *Decoder) geneve(outer, b []byte, depth int) ([]byte, string) {
	if len(b) < 8 || b[0]>>6 != 0 {
		return outer, ""
	}
	n := 8 + int(b[0]&0x3f)*4
	if len(b) < n {
		return nil, WhyTruncated
	}
	d.open("geneve")
	return d.byType(binary.BigEndian.Uint16(b[2:]), b[n:], depth+1)
}

// capwap reads a CAPWAP data packet's header (RFC 5415 §4.3): preamble
// (version 0, type 0), then HLEN (5 bits, 4-byte words), RID, WBID, and the
// T, F, L, W, M, K flags. T says the payload is an 802.3 frame, otherwise
// it is in the binding's format (WBID 1: IEEE 802.11). Fragments and
// keepalives are not opened.
func (d *Decoder) capwap(outer, b []byte, depth int) ([]byte, string) {
	if len(b) < 8 || b[0] != 0 {
		return outer, ""
	}
	w := binary.BigEndian.Uint32(b)
	hlen, wbid := int(w>>19&0x1f)*4, w>>9&0x1f
	tflag, fflag, kflag := w>>8&1 != 0, w>>7&1 != 0, w>>3&1 != 0
	if hlen < 8 || len(b) < hlen {
		return nil, WhyTruncated
	}
	d.open("capwap")
	switch {
	case fflag:
		return nil, WhyCAPWAPFragment
	case kflag:
		return nil, WhyNotIP
	case tflag:
		return d.ethernet(b[hlen:], depth+1)
	case wbid == 1:
		return d.wifi(b[hlen:], depth+1)
	}
	return nil, WhyNotIP
}
