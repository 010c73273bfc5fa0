package tun

import (
	"encoding/binary"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// This file coalesces, on the write path, runs of consecutive TCP
// segments of one flow into one GSO super-packet, which the kernel takes
// in one write(2) and treats as the segments it stands for: what the
// kernel's GRO does for a NIC, done before the device. The rules are
// those under which cutting the super-packet back into gso_size pieces
// (the kernel's tcp_gso_segment: the first header copied to every piece,
// sequence numbers advanced, PSH and FIN left to the last piece) gives
// back exactly the segments we were handed:
//
//   - same IP version, addresses, TOS/traffic class, TTL/hop limit, flow
//     label; IPv4 without options and not a fragment, IPv6 without
//     extension headers; the IP length is the buffer's length;
//   - same ports, acknowledgment number, window, urgent pointer, TCP
//     header length and option bytes (so equal timestamps);
//   - flags exactly ACK; ACK|PSH only on the last of a run; never SYN,
//     FIN, RST, URG, CWR or ECE (RFC 3168 §6.1.2: CWR belongs to one
//     segment only);
//   - sequence numbers contiguous; every payload as long as the first
//     but the last, which may be shorter (and ends the run);
//   - the super-packet's IP length at most 65535 and at most
//     maxGSOSegments segments.

// maxGSOSegments caps a run: it bounds the writev vector (UIO_MAXIOV is
// 1024) and is above the 45 full segments of 1448 bytes that fit 64 KiB.
const maxGSOSegments = 64

// gsoMaxLen is the largest super-packet, IP header included.
const gsoMaxLen = 65535

// gsoHdrMax is the most bytes gsoHeader writes: the vnet header, an IPv6
// header (IPv4 ones are 20 bytes here) and a TCP header with options.
const gsoHdrMax = vnethdr.Len + wire.IPv6HeaderLen + wire.TCPMaxHeaderLen

// tcpSegHeaders returns the IP and TCP header lengths of p if p is a TCP
// segment that may start or join a run: IPv4 with a 20-byte header, not
// a fragment, or IPv6 whose next header is TCP; the IP length equal to
// len(p); a TCP header inside p.
func tcpSegHeaders(p []byte) (ipHL, tcpHL int, ok bool) {
	if len(p) < wire.IPv4MinLen {
		return 0, 0, false
	}
	switch p[0] {
	case 4<<4 | wire.IPv4MinLen/4:
		if int(binary.BigEndian.Uint16(p[2:])) != len(p) || binary.BigEndian.Uint16(p[6:])&0x3fff != 0 ||
			p[9] != wire.IPProtoTCP {
			return 0, 0, false
		}
		ipHL = wire.IPv4MinLen
	default:
		if p[0]>>4 != 6 || len(p) < wire.IPv6HeaderLen ||
			int(binary.BigEndian.Uint16(p[4:]))+wire.IPv6HeaderLen != len(p) || p[6] != wire.IPProtoTCP {
			return 0, 0, false
		}
		ipHL = wire.IPv6HeaderLen
	}
	if len(p) < ipHL+wire.TCPMinLen {
		return 0, 0, false
	}
	tcpHL = int(p[ipHL+12]>>4) * 4
	if tcpHL < wire.TCPMinLen || ipHL+tcpHL > len(p) {
		return 0, 0, false
	}
	return ipHL, tcpHL, true
}

// sameFlowHeaders reports whether c's headers match f's in every byte
// that segmentation copies from the first header to the others: all of
// them but the IPv4 length, ID and checksum (IPv6 payload length), the
// TCP sequence number, flags and checksum. hl = ipHL + tcpHL of f.
func sameFlowHeaders(f, c []byte, ipHL, hl int) bool {
	if len(c) < hl || c[0] != f[0] {
		return false
	}
	if ipHL == wire.IPv4MinLen {
		// TOS; flags+fragment offset; TTL, protocol; addresses.
		if c[1] != f[1] || string(c[6:10]) != string(f[6:10]) || string(c[12:20]) != string(f[12:20]) {
			return false
		}
	} else if string(c[1:4]) != string(f[1:4]) || string(c[6:40]) != string(f[6:40]) {
		// Traffic class and flow label; next header, hop limit, addresses.
		return false
	}
	t, u := f[ipHL:hl], c[ipHL:hl]
	// Ports; ack; data offset; window; urgent pointer; options.
	return string(u[0:4]) == string(t[0:4]) && string(u[8:13]) == string(t[8:13]) &&
		string(u[14:16]) == string(t[14:16]) && string(u[18:]) == string(t[18:])
}

// gsoRun returns how many leading packets of pkts coalesce into one
// super-packet (at least 1; 1 means "send pkts[0] alone").
func gsoRun(pkts [][]byte) int {
	f := pkts[0]
	ipHL, tcpHL, ok := tcpSegHeaders(f)
	if !ok || wire.TCPFlags(f[ipHL+13]) != wire.ACK {
		return 1
	}
	hl := ipHL + tcpHL
	size := len(f) - hl
	if size == 0 {
		return 1
	}
	total := len(f)
	next := binary.BigEndian.Uint32(f[ipHL+4:]) + uint32(size)
	n := 1
	for n < len(pkts) && n < maxGSOSegments {
		c := pkts[n]
		if !sameFlowHeaders(f, c, ipHL, hl) {
			break
		}
		if i, t, ok := tcpSegHeaders(c); !ok || i != ipHL || t != tcpHL {
			break
		}
		fl := wire.TCPFlags(c[ipHL+13])
		pl := len(c) - hl
		if fl&^wire.PSH != wire.ACK || pl == 0 || pl > size || total+pl > gsoMaxLen ||
			binary.BigEndian.Uint32(c[ipHL+4:]) != next {
			break
		}
		total += pl
		next += uint32(pl)
		n++
		if pl < size || fl&wire.PSH != 0 {
			break
		}
	}
	return n
}

// gsoHeader writes into dst (at least gsoHdrMax bytes) the vnet header
// and the IP and TCP headers of the super-packet made of run, a run
// gsoRun accepted (len(run) >= 2), and returns the bytes written. The
// payloads, run[i][hl:], follow these headers on the device.
func gsoHeader(dst []byte, run [][]byte) int {
	f := run[0]
	ipHL, tcpHL, _ := tcpSegHeaders(f)
	hl := ipHL + tcpHL
	total := hl
	for _, p := range run {
		total += len(p) - hl
	}
	vh := vnethdr.Header{
		Flags: vnethdr.NeedsCsum, HdrLen: uint16(hl), GSOSize: uint16(len(f) - hl),
		CsumStart: uint16(ipHL), CsumOffset: 16,
	}
	copy(dst[vnethdr.Len:vnethdr.Len+hl], f[:hl])
	ip := dst[vnethdr.Len : vnethdr.Len+ipHL]
	tcp := dst[vnethdr.Len+ipHL : vnethdr.Len+hl]
	tcp[13] = run[len(run)-1][ipHL+13] // ACK, or ACK|PSH from the last
	var src, dstAddr netip.Addr
	if ipHL == wire.IPv4MinLen {
		vh.GSOType = vnethdr.GSOTCPv4
		binary.BigEndian.PutUint16(ip[2:], uint16(total))
		ip[10], ip[11] = 0, 0
		binary.BigEndian.PutUint16(ip[10:], wire.Checksum(ip))
		src, dstAddr = netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
	} else {
		vh.GSOType = vnethdr.GSOTCPv6
		binary.BigEndian.PutUint16(ip[4:], uint16(total-ipHL))
		src, dstAddr = netip.AddrFrom16([16]byte(ip[8:24])), netip.AddrFrom16([16]byte(ip[24:40]))
	}
	// NEEDS_CSUM: the field holds the pseudo-header sum, folded but not
	// complemented; whoever completes it adds the segment's bytes.
	ph := wire.PseudoHeaderSum(src, dstAddr, wire.IPProtoTCP, total-ipHL)
	binary.BigEndian.PutUint16(tcp[16:], ^wire.Fold(ph))
	vh.Encode(dst)
	return vnethdr.Len + hl
}
