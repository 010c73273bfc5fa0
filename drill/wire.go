package drill

import (
	"encoding/binary"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/wire"
)

// sniff decodes a TCP or DCCP packet over IPv4 or IPv6 (without
// extension headers); other packets are ignored.
func sniff(p []byte) (sniffed, bool) {
	var s sniffed
	var t []byte
	var proto byte
	switch {
	case len(p) >= 20 && p[0]>>4 == 4:
		ihl := int(p[0]&15) * 4
		total := int(binary.BigEndian.Uint16(p[2:]))
		if ihl < 20 || total > len(p) || total < ihl {
			return s, false
		}
		t, proto = p[ihl:total], p[9]
	case len(p) >= 40 && p[0]>>4 == 6:
		n := int(binary.BigEndian.Uint16(p[4:]))
		if 40+n > len(p) {
			return s, false
		}
		t, proto = p[40:40+n], p[6]
	default:
		return s, false
	}
	if proto == wire.IPProtoDCCP {
		return s, sniffDCCP(t, &s) // run_dccp.go
	}
	if proto != 6 || len(t) < 20 {
		return s, false
	}
	off := int(t[12]>>4) * 4
	if off < 20 || off > len(t) {
		return s, false
	}
	s.sport, s.dport = binary.BigEndian.Uint16(t), binary.BigEndian.Uint16(t[2:])
	s.seq, s.ack = binary.BigEndian.Uint32(t[4:]), binary.BigEndian.Uint32(t[8:])
	s.flags, s.win = t[13], binary.BigEndian.Uint16(t[14:])
	s.payload = uint32(len(t) - off)
	s.opts = decodeOptions(t[20:off])
	return s, true
}

// linkMTU is the MTU of the link between the hosts, as packetdrill's tun.
const linkMTU = 1500

// inject sends the packet of an inbound line from the remote host; to the
// kernel, as segments of at most --mss (or what the MTU allows), PSH and
// FIN on the last only, written at once.
func (d *driver) inject(ev *Event) *Result {
	p := ev.Packet
	if p.dccp != nil {
		return d.injectDCCP(ev) // run_dccp.go
	}
	rport := d.rport
	if p.SrcPort != 0 {
		rport = p.SrcPort
	}
	f := d.flow(rport)
	if p.Flags == "S" && !p.HasAck && !f.remoteKnown {
		// The first SYN from a port fixes its numbering, as packetdrill
		// maps the remote ISN once per socket: a later SYN (a challenge
		// of RFC 5961 §4) is numbered like the rest.
		f.remoteOff, f.remoteKnown = remoteISN-p.Seq, true
	}
	opts := d.inboundOptions(p, f)
	if len(opts) > 40 {
		return d.failf(ev, "options take %d bytes, more than TCP's 40", len(opts))
	}
	lport := f.lport
	switch {
	case p.DstPort != 0:
		lport = p.DstPort
	case lport == 0:
		lport = localPort
	}
	seg := p.Len
	if d.be.gso() {
		mss := uint32(d.s.MSS)
		if room := uint32(linkMTU - 40 - len(opts)); d.s.MSS == 0 || room < mss {
			if d.raddr.Is6() {
				room -= 20
			}
			mss = room // the most one packet on the device carries
		}
		seg = min(seg, mss)
	}
	var pkts [][]byte
	for off := uint32(0); ; off += seg {
		n := min(seg, p.Len-off)
		flags := flagBits(p.Flags)
		last := off+n >= p.Len
		if !last {
			flags &^= flFIN | flPSH
		}
		pkts = append(pkts, d.tcpPacket(rport, lport, p.Seq+f.remoteOff+off, p, f, flags, opts, n))
		if last {
			break
		}
	}
	// One write: the kernel backend's device (with offloads under --mss)
	// makes the segments one GSO packet of gso_size MSS, as packetdrill
	// writes it. The simulator takes the packet whole, as the kernel's
	// TCP takes a GSO packet: one segment of the line's length.
	if err := d.be.send(pkts); err != nil {
		return d.failf(ev, "cannot send: %v", err)
	}
	for _, pkt := range pkts {
		d.rec.packet(d.be.Now(), false, pkt)
	}
	return nil
}

// inboundOptions encodes an inbound line's options in live numbers,
// padded to a multiple of 4 bytes.
func (d *driver) inboundOptions(p *Packet, f *flow) []byte {
	var opts []byte
	for _, o := range p.Options {
		switch o.Kind {
		case OptNOP:
			opts = append(opts, 1)
		case OptEOL:
			opts = append(opts, 0)
		case OptMSS:
			opts = append(opts, 2, 4, byte(o.Value>>8), byte(o.Value))
		case OptWScale:
			opts = append(opts, 3, 3, byte(o.Value))
		case OptSACKOK:
			opts = append(opts, 4, 2)
		case OptTS:
			opts = append(opts, 8, 10)
			opts = binary.BigEndian.AppendUint32(opts, o.TSVal)
			opts = binary.BigEndian.AppendUint32(opts, o.TSEcr+f.tsOff)
		case OptSACK:
			opts = append(opts, 5, byte(2+8*len(o.Blocks)))
			for _, b := range o.Blocks {
				opts = binary.BigEndian.AppendUint32(opts, b[0]+f.localOff)
				opts = binary.BigEndian.AppendUint32(opts, b[1]+f.localOff)
			}
		}
	}
	for len(opts)%4 != 0 {
		opts = append(opts, 0)
	}
	return opts
}

// ipPacket puts l4, a packet of protocol proto, in an IP packet from the
// remote host to the stack.
func (d *driver) ipPacket(proto byte, l4 []byte) []byte {
	src, dst := d.raddr, d.laddr
	iphl := 20
	if src.Is6() {
		iphl = 40
	}
	pkt := make([]byte, iphl+len(l4))
	ip := pkt[:iphl]
	if src.Is6() {
		ip[0], ip[6], ip[7] = 0x60, proto, 64
		binary.BigEndian.PutUint16(ip[4:], uint16(len(l4)))
		copy(ip[8:], src.AsSlice())
		copy(ip[24:], dst.AsSlice())
	} else {
		ip[0], ip[8], ip[9] = 0x45, 64, proto
		binary.BigEndian.PutUint16(ip[2:], uint16(len(pkt)))
		copy(ip[12:], src.AsSlice())
		copy(ip[16:], dst.AsSlice())
		binary.BigEndian.PutUint16(ip[10:], wire.Checksum(ip))
	}
	copy(pkt[iphl:], l4)
	return pkt
}

// tcpPacket builds a TCP packet from the remote host to the stack.
func (d *driver) tcpPacket(rport, lport uint16, seq uint32, p *Packet, f *flow, flags uint8, opts []byte, n uint32) []byte {
	src, dst := d.raddr, d.laddr
	hl := 20 + len(opts)
	t := make([]byte, hl+int(n))
	binary.BigEndian.PutUint16(t, rport)
	binary.BigEndian.PutUint16(t[2:], lport)
	binary.BigEndian.PutUint32(t[4:], seq)
	if p.HasAck {
		binary.BigEndian.PutUint32(t[8:], p.Ack+f.localOff)
	}
	t[12] = byte(hl/4) << 4
	t[13] = flags
	win := uint32(65535)
	if p.HasWin {
		win = p.Win
	}
	binary.BigEndian.PutUint16(t[14:], uint16(win))
	copy(t[20:], opts)
	sum := wire.PseudoHeaderSum(src, dst, 6, len(t))
	binary.BigEndian.PutUint16(t[16:], wire.Fold(wire.Sum(sum, t)))
	return d.ipPacket(6, t)
}

// The addresses of IPv6 runs (--ip_version=ipv6): a unique local address
// for the stack, the documentation prefix for the remote host.
var (
	LocalAddr6  = netip.MustParseAddr("fd3d:fa7b:d17d::1")
	RemoteAddr6 = netip.MustParseAddr("2001:db8::1")
)

// addrs returns the local and remote addresses of a script's run.
func addrs(s *Script) (local, remote netip.Addr) {
	if s.IPv6 {
		return LocalAddr6, RemoteAddr6
	}
	return LocalAddr, RemoteAddr
}
