package tun

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// These tests need no device: they build segments with internal/wire,
// coalesce them as WritePackets does, cut the super-packet back as the
// kernel (or our read path) does, and compare.

var (
	v4a = netip.MustParseAddrPort("10.9.0.2:40000")
	v4b = netip.MustParseAddrPort("10.9.0.1:5001")
	v6a = netip.MustParseAddrPort("[fd00:9::2]:40000")
	v6b = netip.MustParseAddrPort("[fd00:9::1]:5001")
)

// segSpec is one segment to build; zero fields take the defaults of seg.
type segSpec struct {
	src, dst netip.AddrPort
	seq      uint32
	ack      uint32
	flags    wire.TCPFlags
	n        int // payload bytes
	window   uint16
	tsVal    uint32
	noTS     bool
	sack     int // SACK blocks
}

// seg builds the IP packet of s. Defaults: v4a → v4b, flags ACK, ack
// 7000, window 500, timestamps 100/50. The payload byte at sequence
// number q is byte(q*31), so reassembled data can be checked.
func seg(t testing.TB, s segSpec) []byte {
	t.Helper()
	if !s.src.IsValid() {
		s.src, s.dst = v4a, v4b
	}
	if s.flags == 0 {
		s.flags = wire.ACK
	}
	if s.ack == 0 {
		s.ack = 7000
	}
	if s.window == 0 {
		s.window = 500
	}
	if s.tsVal == 0 {
		s.tsVal = 100
	}
	h := wire.TCPHeader{SrcPort: s.src.Port(), DstPort: s.dst.Port(), Seq: seqnum.V32(s.seq),
		Ack: seqnum.V32(s.ack), Flags: s.flags, Window: s.window}
	if !s.noTS {
		h.Options.HasTimestamp, h.Options.TSVal, h.Options.TSEcr = true, s.tsVal, 50
	}
	for i := range s.sack {
		h.Options.SACK[i] = wire.SACKBlock{Left: seqnum.V32(9000 + 100*i), Right: seqnum.V32(9050 + 100*i)}
		h.Options.NumSACK++
	}
	pay := make([]byte, s.n)
	for i := range pay {
		pay[i] = byte((s.seq + uint32(i)) * 31)
	}
	b := make([]byte, wire.TCPPacketLen(s.src.Addr(), &h, s.n))
	n, err := wire.EncodeTCPPacket(b, s.src.Addr(), s.dst.Addr(), &h, pay)
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

// train builds count segments of size payload bytes from seq 1000.
func train(t testing.TB, count, size int, mod func(i int, s *segSpec)) [][]byte {
	var pkts [][]byte
	for i := range count {
		s := segSpec{seq: uint32(1000 + i*size), n: size, flags: wire.ACK}
		if mod != nil {
			mod(i, &s)
		}
		pkts = append(pkts, seg(t, s))
	}
	return pkts
}

func TestGSORun(t *testing.T) {
	v6 := func(_ int, s *segSpec) { s.src, s.dst = v6a, v6b }
	cases := []struct {
		name string
		pkts [][]byte
		want int
	}{
		{"four full ACK segments of one flow merge", train(t, 4, 1000, nil), 4},
		{"a shorter last segment joins and ends the run", append(train(t, 3, 1000, nil), seg(t, segSpec{seq: 4000, n: 10})), 4},
		{"a shorter segment ends the run: the one after it stays out",
			[][]byte{seg(t, segSpec{seq: 1000, n: 1000}), seg(t, segSpec{seq: 2000, n: 500}), seg(t, segSpec{seq: 2500, n: 1000})}, 2},
		{"a longer second segment does not join (gso_size is the first's)",
			[][]byte{seg(t, segSpec{seq: 1000, n: 500}), seg(t, segSpec{seq: 1500, n: 1000})}, 1},
		{"FIN never merges", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.flags |= wire.FIN
			}
		}), 1},
		{"FIN first never merges", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 0 {
				s.flags |= wire.FIN
			}
		}), 1},
		{"PSH ends the run it joins", train(t, 4, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.flags |= wire.PSH
			}
		}), 2},
		{"PSH on the first segment sends it alone", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 0 {
				s.flags |= wire.PSH
			}
		}), 1},
		{"SYN does not merge", train(t, 2, 1000, func(i int, s *segSpec) { s.flags |= wire.SYN }), 1},
		{"RST does not merge", train(t, 2, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.flags |= wire.RST
			}
		}), 1},
		{"URG does not merge", train(t, 2, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.flags |= wire.URG
			}
		}), 1},
		{"CWR (RFC 3168: one segment only) does not merge", train(t, 2, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.flags |= wire.CWR
			}
		}), 1},
		{"ECE does not merge", train(t, 2, 1000, func(i int, s *segSpec) { s.flags |= wire.ECE }), 1},
		{"differing timestamps do not merge", train(t, 3, 1000, func(i int, s *segSpec) { s.tsVal = 100 + uint32(i) }), 1},
		{"differing option lengths do not merge", train(t, 3, 1000, func(i int, s *segSpec) { s.sack = i }), 1},
		{"a gap in sequence ends the run", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 2 {
				s.seq += 1
			}
		}), 2},
		{"another port is another flow", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 1 {
				s.src, s.dst = netip.AddrPortFrom(v4a.Addr(), 40001), v4b
			}
		}), 1},
		{"another address is another flow", train(t, 3, 1000, func(i int, s *segSpec) {
			if i == 2 {
				s.src, s.dst = v4a, netip.MustParseAddrPort("10.9.0.3:5001")
			}
		}), 2},
		{"another ack number does not merge (segmentation copies the first header)",
			train(t, 3, 1000, func(i int, s *segSpec) { s.ack = 7000 + uint32(i) }), 1},
		{"another window does not merge", train(t, 3, 1000, func(i int, s *segSpec) { s.window = 500 + uint16(i) }), 1},
		{"segments without payload (pure ACKs) do not merge", train(t, 3, 0, nil), 1},
		{"IPv6 segments merge", train(t, 5, 1200, v6), 5},
		{"IPv6 then IPv4 do not merge", [][]byte{seg(t, segSpec{src: v6a, dst: v6b, seq: 1000, n: 100}), seg(t, segSpec{seq: 1100, n: 100})}, 1},
		{"the run stops before 65535 bytes of IP packet", train(t, 50, 1448, nil), (gsoMaxLen - 20 - 32) / 1448},
		{"the run stops at maxGSOSegments", train(t, 100, 100, nil), maxGSOSegments},
		{"non-TCP does not merge", [][]byte{udpPacket(v4a, v4b, make([]byte, 100)), udpPacket(v4a, v4b, make([]byte, 100))}, 1},
	}
	for _, c := range cases {
		if got := gsoRun(c.pkts); got != c.want {
			t.Errorf("%s: run of %d, want %d", c.name, got, c.want)
		}
	}
}

// Headers that must keep a packet alone: IPv4 options, fragments, bytes
// after the IP length, garbage. None of them panics.
func TestGSORunOddHeaders(t *testing.T) {
	base := train(t, 2, 1000, nil)
	withOpts := func() []byte { // IHL 6: a NOP option word (RFC 791 §3.1)
		p := base[0]
		q := make([]byte, len(p)+4)
		copy(q, p[:20])
		q[0] = 0x46
		copy(q[20:24], []byte{1, 1, 1, 0})
		copy(q[24:], p[20:])
		binary.BigEndian.PutUint16(q[2:], uint16(len(q)))
		return q
	}()
	mf := bytes.Clone(base[0])
	mf[6] |= 0x20 // More Fragments
	trailing := append(bytes.Clone(base[0]), 0, 0)
	for name, first := range map[string][]byte{
		"IPv4 options": withOpts, "fragment": mf, "bytes after the IP length": trailing,
		"empty": {}, "one byte": {0x45}, "IPv4 header only": base[0][:20], "IPv6 header cut": {0x60, 0, 0},
	} {
		if got := gsoRun([][]byte{first, base[1]}); got != 1 {
			t.Errorf("%s: run of %d, want 1", name, got)
		}
		if got := gsoRun([][]byte{base[0], first}); got != 1 {
			t.Errorf("%s after a good segment: run of %d, want 1", name, got)
		}
	}
}

// superPacket is what the device carries for a run: gsoHeader's headers,
// then the payloads. It returns the vnet header and the IP packet.
func superPacket(t *testing.T, run [][]byte) (vnethdr.Header, []byte) {
	t.Helper()
	var hdr [gsoHdrMax]byte
	n := gsoHeader(hdr[:], run)
	hl := n - vnethdr.Len
	p := bytes.Clone(hdr[vnethdr.Len:n])
	for _, s := range run {
		p = append(p, s[hl:]...)
	}
	vh, err := vnethdr.Parse(hdr[:])
	if err != nil {
		t.Fatal(err)
	}
	return vh, p
}

// A run becomes one super-packet whose vnet header says how to cut it,
// whose checksum field holds the pseudo-header sum, and which cut back
// gives exactly the segments of the run (but the IPv4 ID, which
// segmentation increments as Linux's does).
func TestGSOCoalesceThenSplitGivesTheRunBack(t *testing.T) {
	for _, c := range []struct {
		name string
		run  [][]byte
		v6   bool
	}{
		{"IPv4, last shorter, PSH on the last", append(train(t, 5, 1448, nil), seg(t, segSpec{seq: 1000 + 5*1448, n: 77, flags: wire.ACK | wire.PSH})), false},
		{"IPv4 without options, odd size", train(t, 44, 1461, func(_ int, s *segSpec) { s.noTS = true }), false},
		{"IPv6", train(t, 7, 1220, func(_ int, s *segSpec) { s.src, s.dst = v6a, v6b }), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if n := gsoRun(c.run); n != len(c.run) {
				t.Fatalf("gsoRun = %d, want the whole run of %d", n, len(c.run))
			}
			vh, p := superPacket(t, c.run)
			first := c.run[0]
			ipHL, tcpHL, _ := tcpSegHeaders(first)
			wantType := uint8(vnethdr.GSOTCPv4)
			if c.v6 {
				wantType = vnethdr.GSOTCPv6
			}
			want := vnethdr.Header{Flags: vnethdr.NeedsCsum, GSOType: wantType, HdrLen: uint16(ipHL + tcpHL),
				GSOSize: uint16(len(first) - ipHL - tcpHL), CsumStart: uint16(ipHL), CsumOffset: 16}
			if vh != want {
				t.Fatalf("vnet header %+v, want %+v", vh, want)
			}
			ip, err := wire.ParseIP(p)
			if err != nil {
				t.Fatalf("the super-packet is not a valid IP packet (length, header checksum): %v", err)
			}
			if !c.v6 && wire.Checksum(p[:20]) != 0 {
				t.Fatal("IPv4 header checksum wrong")
			}
			tcp := wire.TCP(ip.Payload)
			ph := wire.PseudoHeaderSum(ip.Src, ip.Dst, wire.IPProtoTCP, len(ip.Payload))
			if got := tcp.Checksum(); got != ^wire.Fold(ph) {
				t.Fatalf("checksum field %#04x, want the pseudo-header sum %#04x", got, ^wire.Fold(ph))
			}
			if err := vh.Check(len(p)); err != nil {
				t.Fatalf("our own header fails Check: %v", err)
			}
			// The device (Linux) completes it: the result must verify.
			full := bytes.Clone(p)
			completeChecksum(full, &vh)
			if !wire.TCP(full[ipHL:]).VerifyChecksum(ip.Src, ip.Dst) {
				t.Fatal("completing NEEDS_CSUM does not give a valid TCP checksum")
			}
			if got, want := tcp.Flags(), wire.TCP(c.run[len(c.run)-1][ipHL:]).Flags(); got != want {
				t.Fatalf("super-packet flags %v, want the last segment's %v", got, want)
			}
			dst := make([]byte, gsoSplitLen(p, ipHL+tcpHL, int(vh.GSOSize)))
			segs := gsoSplit(nil, dst, p, ipHL, tcpHL, int(vh.GSOSize))
			if len(segs) != len(c.run) {
				t.Fatalf("split into %d segments, want %d", len(segs), len(c.run))
			}
			for i, s := range segs {
				if !c.v6 {
					if wire.Checksum(s[:20]) != 0 {
						t.Fatalf("segment %d: IPv4 header checksum wrong", i)
					}
					if id := binary.BigEndian.Uint16(s[4:]); id != uint16(i) {
						t.Fatalf("segment %d: IPv4 ID %d, want %d (first ID + i)", i, id, i)
					}
					s = bytes.Clone(s)
					copy(s[4:6], c.run[i][4:6])
					copy(s[10:12], c.run[i][10:12])
				}
				if !bytes.Equal(s, c.run[i]) {
					t.Fatalf("segment %d differs from the one coalesced:\n got %x\nwant %x", i, s[:ipHL+tcpHL], c.run[i][:ipHL+tcpHL])
				}
			}
		})
	}
}
