package decap

import "encoding/binary"

// wifi reads an IEEE 802.11 frame (IEEE 802.11-2020 §9.2): frame control
// (2), duration (2), three addresses (18), sequence control (2), a fourth
// address when both DS bits are set, QoS control (2) in QoS data frames,
// HT control (4) when the order bit is set in one; then the payload, an
// 802.2 LLC/SNAP header before IP. Only unprotected data frames with a
// payload carry IP we can read.
func (d *Decoder) wifi(f []byte, depth int) ([]byte, string) {
	if len(f) < 24 {
		return nil, WhyTruncated
	}
	fc0, fc1 := f[0], f[1]
	typ, sub := fc0>>2&3, fc0>>4
	if typ != 2 || sub&4 != 0 { // not data, or a null-data subtype (no body)
		return nil, WhyWiFiNotData
	}
	if fc1&0x40 != 0 {
		return nil, WhyWiFiProtected
	}
	n := 24
	if fc1&3 == 3 {
		n += 6
	}
	if sub&8 != 0 { // QoS data
		n += 2
		if fc1&0x80 != 0 {
			n += 4
		}
	}
	if len(f) < n {
		return nil, WhyTruncated
	}
	d.open("ieee802_11")
	return d.llc(f[n:], depth+1)
}

// wpan reads an IEEE 802.15.4 data frame (IEEE 802.15.4-2020 §7.2): frame
// control (2, little-endian), sequence number (1, absent when suppressed
// in a 2015 frame), destination PAN and address, source PAN (unless PAN ID
// compression) and address, by the addressing modes. Its payload is read
// only when it is 6LoWPAN's uncompressed IPv6 dispatch (0x41, RFC 4944
// §5.1); header-compressed IPv6 (IPHC, RFC 6282) is counted, not decoded.
func (d *Decoder) wpan(f []byte, depth int) ([]byte, string) {
	if len(f) < 3 {
		return nil, WhyTruncated
	}
	fc := binary.LittleEndian.Uint16(f)
	if fc&7 != 1 || fc&8 != 0 { // not data, or secured
		return nil, WhyWPANNotIPv6
	}
	version := fc >> 12 & 3
	if version == 2 { // IEEE 802.15.4-2015 frames: header IEs and other rules; not read
		return nil, WhyWPANNotIPv6
	}
	addrLen := func(mode uint16) int {
		switch mode {
		case 2:
			return 2
		case 3:
			return 8
		}
		return 0
	}
	dst, src := fc>>10&3, fc>>14&3
	n := 3
	if dst != 0 {
		n += 2 + addrLen(dst)
	}
	if src != 0 {
		if fc&0x40 == 0 {
			n += 2
		}
		n += addrLen(src)
	}
	if len(f) < n+1 {
		return nil, WhyTruncated
	}
	if f[n] != 0x41 {
		return nil, WhyWPANNotIPv6
	}
	d.open("6lowpan")
	return d.ip(f[n+1:], depth+1)
}
