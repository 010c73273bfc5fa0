package analyze

import (
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// What the analyzer makes of captures that need analyze/decap: link types
// besides raw IP, tunnels, fragments, and link types it cannot read.

// ipPackets returns the IP packets a synth wrote.
func ipPackets(t *testing.T, s *synth) [][]byte {
	r, err := pcap.NewReader(bytes.NewReader(s.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(p.IP))
	}
}

// classicPcap writes frames as a little-endian classic pcap file of the
// given link type, 1 ms apart.
func classicPcap(linkType uint32, frames ...[]byte) []byte {
	h := binary.LittleEndian.AppendUint32(nil, 0xa1b2c3d4)
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint16(h, 4)
	h = append(h, make([]byte, 8)...)
	h = binary.LittleEndian.AppendUint32(h, 65535)
	h = binary.LittleEndian.AppendUint32(h, linkType)
	for i, f := range frames {
		h = binary.LittleEndian.AppendUint32(h, 1_700_000_000)
		h = binary.LittleEndian.AppendUint32(h, uint32(i*1000))
		h = binary.LittleEndian.AppendUint32(h, uint32(len(f)))
		h = binary.LittleEndian.AppendUint32(h, uint32(len(f)))
		h = append(h, f...)
	}
	return h
}

// vxlanFrame wraps an IP packet as a VXLAN tunnel carries it between two
// hosts on an Ethernet.
func vxlanFrame(ip []byte) []byte {
	mac := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	inner := append(append(append([]byte(nil), mac...), 0x08, 0x00), ip...)
	vx := append([]byte{8, 0, 0, 0, 0, 0, 7, 0}, inner...)
	udp := binary.BigEndian.AppendUint16(nil, 50000)
	udp = binary.BigEndian.AppendUint16(udp, 4789)
	udp = binary.BigEndian.AppendUint16(udp, uint16(8+len(vx)))
	udp = append(append(udp, 0, 0), vx...)
	outer := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2}
	binary.BigEndian.PutUint16(outer[2:], uint16(20+len(udp)))
	binary.BigEndian.PutUint16(outer[10:], wire.Checksum(outer))
	outer = append(outer, udp...)
	return append(append(append([]byte(nil), mac...), 0x08, 0x00), outer...)
}

func graceful(s *synth) {
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "hello")
	s.tcp(false, FA, 5001, 1006, 65535, "")
	s.tcp(true, FA, 1006, 5002, 65535, "")
	s.tcp(false, A, 5002, 1007, 65535, "")
}

// A connection seen through a VXLAN tunnel on an Ethernet capture is the
// same connection as seen bare.
func TestDecap_VXLANConnection(t *testing.T) {
	s := newSynth(t)
	graceful(s)
	var frames [][]byte
	for _, ip := range ipPackets(t, s) {
		frames = append(frames, vxlanFrame(ip))
	}
	rep, err := Reader(bytes.NewReader(classicPcap(1, frames...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := only(t, rep)
	if c.Verdict != VerdictGraceful || c.ClientToServer.DataBytes != 5 || c.Client != "10.0.0.1:40000" {
		t.Errorf("verdict %s, %d bytes, client %s", c.Verdict, c.ClientToServer.DataBytes, c.Client)
	}
	if rep.Counts.Opened["vxlan"] != len(frames) || rep.Counts.NotIP != 0 {
		t.Errorf("counts %+v", rep.Counts)
	}
}

// A capture of a link type analyze cannot read is not an error: every
// record is counted as skipped, by its link type.
func TestDecap_UnknownLinkTypeCounted(t *testing.T) {
	rep, err := Reader(bytes.NewReader(classicPcap(227, make([]byte, 16), make([]byte, 16))), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Packets != 2 || rep.Counts.Skipped["link_type_227"] != 2 || rep.Counts.NotIP != 2 || len(rep.Connections) != 0 {
		t.Errorf("packets %d, counts %+v", rep.Packets, rep.Counts)
	}
	var text bytes.Buffer
	if err := rep.WriteText(&text); err != nil || !bytes.Contains(text.Bytes(), []byte("skipped: link_type_227 2")) {
		t.Errorf("text report does not say what was skipped:\n%s", text.String())
	}
}

// A data segment sent in two IPv4 fragments is reassembled: its bytes
// count, and the report says so.
func TestDecap_FragmentedSegment(t *testing.T) {
	s := newSynth(t)
	graceful(s)
	pkts := ipPackets(t, s)
	data := pkts[3] // the client's 5 bytes, 45 bytes of IPv4
	hl := 20
	first := append(append([]byte(nil), data[:hl]...), data[hl:hl+16]...)
	second := append(append([]byte(nil), data[:hl]...), data[hl+16:]...)
	binary.BigEndian.PutUint16(first[2:], uint16(len(first)))
	binary.BigEndian.PutUint16(second[2:], uint16(len(second)))
	first[6], first[7] = 0x20, 0 // MF
	second[6], second[7] = 0, 2  // offset 16 bytes
	for _, f := range [][]byte{first, second} {
		f[10], f[11] = 0, 0
		binary.BigEndian.PutUint16(f[10:], wire.Checksum(f[:hl]))
	}
	frames := append(append(append([][]byte(nil), pkts[:3]...), second, first), pkts[4:]...)
	rep, err := Reader(bytes.NewReader(classicPcap(101, frames...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := only(t, rep)
	if c.ClientToServer.DataBytes != 5 || c.Verdict != VerdictGraceful || rep.Counts.Fragments != 2 || rep.Counts.Reassembled != 1 {
		t.Errorf("%d data bytes, verdict %s, counts %+v", c.ClientToServer.DataBytes, c.Verdict, rep.Counts)
	}
	if rep.Counts.BadChecksum != 0 {
		t.Errorf("the reassembled segment's checksum does not verify: %+v", rep.Counts)
	}
}

// IPv6 atomic fragments (a Fragment header with offset 0 and M clear, RFC
// 6946) are whole packets, analysed as such.
func TestDecap_IPv6AtomicFragments(t *testing.T) {
	s := newSynth(t)
	s.cli = netipMust("[2001:db8::1]:40000")
	s.srv = netipMust("[2001:db8::2]:80")
	graceful(s)
	var frames [][]byte
	for _, p := range ipPackets(t, s) {
		f := append(append([]byte(nil), p[:40]...), p[6], 0, 0, 0, 0, 0, 0, 9)
		f = append(f, p[40:]...)
		f[6] = 44
		binary.BigEndian.PutUint16(f[4:], uint16(len(f)-40))
		frames = append(frames, f)
	}
	rep, err := Reader(bytes.NewReader(classicPcap(229, frames...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := only(t, rep)
	if c.Verdict != VerdictGraceful || rep.Counts.Opened["ipv6_atomic_fragment"] != len(frames) || rep.Counts.BadChecksum != 0 {
		t.Errorf("verdict %s, counts %+v", c.Verdict, rep.Counts)
	}
}

func netipMust(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
