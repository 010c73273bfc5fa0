package tun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// partial replaces p's TCP checksum with the pseudo-header sum, as a
// kernel sending CHECKSUM_PARTIAL leaves it, and returns the vnet header
// that says so.
func partial(t *testing.T, p []byte) vnethdr.Header {
	t.Helper()
	ip, err := wire.ParseIP(p)
	if err != nil {
		t.Fatal(err)
	}
	ipHL := len(ip.Header)
	ph := wire.PseudoHeaderSum(ip.Src, ip.Dst, wire.IPProtoTCP, len(ip.Payload))
	binary.BigEndian.PutUint16(p[ipHL+16:], ^wire.Fold(ph))
	return vnethdr.Header{Flags: vnethdr.NeedsCsum, CsumStart: uint16(ipHL), CsumOffset: 16}
}

// read is what the device hands us: the vnet header, then p.
func read(h vnethdr.Header, p []byte) []byte {
	b := make([]byte, vnethdr.Len+len(p))
	h.Encode(b)
	copy(b[vnethdr.Len:], p)
	return b
}

// NEEDS_CSUM: completing the pseudo-header sum over the segment gives
// back the checksum the builder computed, odd lengths and IPv6 included.
func TestCompleteChecksum(t *testing.T) {
	for _, s := range []segSpec{
		{seq: 1, n: 1001}, {seq: 5, n: 0}, {seq: 9, n: 1, noTS: true},
		{src: v6a, dst: v6b, seq: 77, n: 1333},
	} {
		p := seg(t, s)
		want := bytes.Clone(p)
		h := partial(t, p)
		if bytes.Equal(p, want) {
			t.Fatal("the partial sum equals the full checksum: the test would prove nothing")
		}
		completeChecksum(p, &h)
		if !bytes.Equal(p, want) {
			t.Errorf("%+v: completed checksum %x, want %x", s, p, want)
		}
	}
}

// gsoRead builds the kernel's view of a TSO super-packet: one segment of
// n payload bytes with flags, a vnet header with gso_size mss.
func gsoRead(t *testing.T, s segSpec, mss int) (vnethdr.Header, []byte) {
	p := seg(t, s)
	h := partial(t, p)
	h.GSOType = vnethdr.GSOTCPv4
	if s.src.Addr().Is6() {
		h.GSOType = vnethdr.GSOTCPv6
	}
	ipHL, tcpHL, _ := tcpSegHeaders(p)
	h.GSOSize, h.HdrLen = uint16(mss), uint16(ipHL+tcpHL)
	return h, p
}

// A TSO super-packet cut into gso_size segments: PSH and FIN only on the
// last, CWR only on the first (as tcp_gso_segment leaves them), every
// checksum valid, and the payloads concatenated are the original.
func TestSplitFlagsAndChecksums(t *testing.T) {
	for _, s := range []segSpec{
		{seq: 1000, n: 4000, flags: wire.ACK | wire.PSH | wire.FIN | wire.CWR},
		{src: v6a, dst: v6b, seq: 1000, n: 3600, flags: wire.ACK | wire.PSH | wire.CWR},
	} {
		h, p := gsoRead(t, s, 1000)
		var ctr offloadCounters
		rx := newRxOffload(true, &ctr)
		if !rx.add(read(h, p)) {
			t.Fatal("the arena refused the first packet")
		}
		if len(rx.out) != 4 {
			t.Fatalf("%d segments, want 4 of gso_size 1000 for %d bytes", len(rx.out), s.n)
		}
		var data []byte
		for i, o := range rx.out {
			ip, err := wire.ParseIP(o)
			if err != nil {
				t.Fatalf("segment %d: %v", i, err)
			}
			tcp := wire.TCP(ip.Payload)
			if !tcp.VerifyChecksum(ip.Src, ip.Dst) {
				t.Fatalf("segment %d: TCP checksum does not verify", i)
			}
			wantFlags := wire.ACK
			if i == 0 {
				wantFlags |= wire.CWR
			}
			if i == len(rx.out)-1 {
				wantFlags |= s.flags & (wire.PSH | wire.FIN)
			}
			if tcp.Flags() != wantFlags {
				t.Fatalf("segment %d: flags %v, want %v", i, tcp.Flags(), wantFlags)
			}
			if got := uint32(tcp.Seq()); got != s.seq+uint32(len(data)) {
				t.Fatalf("segment %d: seq %d, want %d", i, got, s.seq+uint32(len(data)))
			}
			data = append(data, tcp.Payload()...)
		}
		ipHL, tcpHL, _ := tcpSegHeaders(p)
		if !bytes.Equal(data, p[ipHL+tcpHL:]) {
			t.Fatal("the segments' payloads are not the super-packet's")
		}
		if ctr.gsoIn.Load() != 1 || ctr.gsoSegsIn.Load() != 4 {
			t.Fatalf("counted %d GSO packets of %d segments, want 1 of 4", ctr.gsoIn.Load(), ctr.gsoSegsIn.Load())
		}
	}
}

// Whole delivery: the super-packet goes up as one segment with its
// checksum completed.
func TestWholeGSODelivery(t *testing.T) {
	h, p := gsoRead(t, segSpec{seq: 1000, n: 60000, flags: wire.ACK | wire.PSH}, 1448)
	var ctr offloadCounters
	rx := newRxOffload(false, &ctr)
	rx.add(read(h, p))
	if len(rx.out) != 1 {
		t.Fatalf("%d packets delivered, want the super-packet whole", len(rx.out))
	}
	ip, err := wire.ParseIP(rx.out[0])
	if err != nil || !wire.TCP(ip.Payload).VerifyChecksum(ip.Src, ip.Dst) || len(ip.Payload) != len(p)-20 {
		t.Fatalf("delivered packet: %v, checksum or length wrong", err)
	}
	if ctr.gsoIn.Load() != 1 || ctr.gsoSegsIn.Load() != (60000+1447)/1448 {
		t.Fatalf("counted %d GSO packets of %d segments", ctr.gsoIn.Load(), ctr.gsoSegsIn.Load())
	}
}

// When the split arena is full, add refuses (for the caller to deliver
// and reset) and then accepts.
func TestSplitArenaFull(t *testing.T) {
	var ctr offloadCounters
	rx := newRxOffload(true, &ctr)
	h, p := gsoRead(t, segSpec{seq: 1000, n: 60000}, 1448)
	b := read(h, p)
	n := 0
	for rx.add(b) {
		n++
		if n > 100 {
			t.Fatal("the arena never fills")
		}
	}
	if n < 1 || rx.used+gsoSplitLen(p, 52, 1448) <= len(rx.arena) {
		t.Fatalf("refused after %d packets with %d of %d bytes used", n, rx.used, len(rx.arena))
	}
	before := len(rx.out)
	rx.reset()
	if !rx.add(b) || len(rx.out) != before/n {
		t.Fatalf("after reset: %d segments, want %d", len(rx.out), before/n)
	}
}

// Malformed vnet headers and GSO packets that are not TCP are counted
// and dropped.
func TestMalformedReadsDropped(t *testing.T) {
	good := seg(t, segSpec{seq: 1, n: 3000})
	udp := udpPacket(v4a, v4b, make([]byte, 3000))
	cases := []struct {
		name    string
		b       []byte
		bad     bool // counted as a bad vnet header (else a bad GSO packet)
		wantErr error
	}{
		{"truncated header", []byte{0, 0, 0}, true, vnethdr.ErrTruncated},
		{"RSC_INFO flag", read(vnethdr.Header{Flags: vnethdr.RSCInfo}, good), true, vnethdr.ErrFlags},
		{"UDP GSO", read(vnethdr.Header{GSOType: vnethdr.GSOUDP, GSOSize: 1000}, udp), true, vnethdr.ErrGSOType},
		{"UDP_L4 GSO", read(vnethdr.Header{GSOType: vnethdr.GSOUDPL4, GSOSize: 1000}, udp), true, vnethdr.ErrGSOType},
		{"ECN without GSO", read(vnethdr.Header{GSOType: vnethdr.GSOECN}, good), true, vnethdr.ErrGSOType},
		{"gso_size 0", read(vnethdr.Header{GSOType: vnethdr.GSOTCPv4}, good), true, vnethdr.ErrGSOSize},
		{"checksum field past the end", read(vnethdr.Header{Flags: vnethdr.NeedsCsum, CsumStart: uint16(len(good) - 1)}, good), true, vnethdr.ErrCsum},
		{"checksum offset past the end", read(vnethdr.Header{Flags: vnethdr.NeedsCsum, CsumStart: 20, CsumOffset: 0xffff}, good), true, vnethdr.ErrCsum},
		{"TCPv4 GSO carrying UDP", read(vnethdr.Header{GSOType: vnethdr.GSOTCPv4, GSOSize: 1000}, udp), false, nil},
		{"TCPv6 GSO carrying IPv4", read(vnethdr.Header{GSOType: vnethdr.GSOTCPv6, GSOSize: 1000}, good), false, nil},
		{"TCPv4 GSO cut short", read(vnethdr.Header{GSOType: vnethdr.GSOTCPv4, GSOSize: 1000}, good[:30]), false, nil},
	}
	for _, split := range []bool{false, true} {
		for _, c := range cases {
			var ctr offloadCounters
			rx := newRxOffload(split, &ctr)
			rx.add(c.b)
			if len(rx.out) != 0 {
				t.Errorf("%s: delivered %d packets", c.name, len(rx.out))
			}
			if got := ctr.badVnet.Load(); got != map[bool]uint64{true: 1}[c.bad] {
				t.Errorf("%s: %d bad vnet headers counted", c.name, got)
			}
			if got := ctr.badGSO.Load(); got != map[bool]uint64{false: 1}[c.bad] {
				t.Errorf("%s: %d bad GSO packets counted", c.name, got)
			}
			if c.wantErr != nil && len(c.b) >= vnethdr.Len {
				h, _ := vnethdr.Parse(c.b) // Len bytes at least
				if err := h.Check(len(c.b) - vnethdr.Len); !errors.Is(err, c.wantErr) {
					t.Errorf("%s: Check = %v, want %v", c.name, err, c.wantErr)
				}
			}
		}
	}
}

// recorder is a link.VerifiedReceiver that notes each call: "v" and the
// packet count for DeliverVerifiedPackets, "p" for DeliverPackets.
type recorder struct{ calls []string }

func (r *recorder) DeliverPackets(p [][]byte) { r.calls = append(r.calls, fmt.Sprintf("p%d", len(p))) }
func (r *recorder) DeliverVerifiedPackets(p [][]byte) {
	r.calls = append(r.calls, fmt.Sprintf("v%d", len(p)))
}

type plainRecorder = recorder

// Packets whose checksum the kernel offloaded (NEEDS_CSUM) or verified
// (DATA_VALID) reach a link.VerifiedReceiver as vouched for, those with a
// checksum nobody checked (no flag) as plain packets, in their order; a
// receiver that is only a link.Receiver (the pcap tap) gets them all plain.
func TestVouchedChecksumsDeliveredInRuns(t *testing.T) {
	var reads [][]byte
	for i, flags := range []uint8{vnethdr.NeedsCsum, vnethdr.DataValid, 0, 0, vnethdr.NeedsCsum} {
		p := seg(t, segSpec{seq: uint32(1 + 100*i), n: 100})
		h := vnethdr.Header{Flags: flags}
		if flags == vnethdr.NeedsCsum {
			h = partial(t, p)
		}
		reads = append(reads, read(h, p))
	}
	var ctr offloadCounters
	rx := newRxOffload(false, &ctr)
	var v recorder
	deliverOffload(&v, rx, reads)
	if got := fmt.Sprint(v.calls); got != "[v2 p2 v1]" {
		t.Errorf("verified receiver got %s, want [v2 p2 v1]", got)
	}
	var pl plainRecorder
	deliverOffload(plainOnly{&pl}, rx, reads)
	if got := fmt.Sprint(pl.calls); got != "[p5]" {
		t.Errorf("plain receiver got %s, want [p5]", got)
	}
}

// plainOnly hides every method but DeliverPackets.
type plainOnly struct{ r *plainRecorder }

func (p plainOnly) DeliverPackets(b [][]byte) { p.r.DeliverPackets(b) }
