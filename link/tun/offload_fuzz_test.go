package tun

import (
	"bytes"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// fuzzReads are FuzzRxOffload's seeds: a plain segment, a partial
// checksum, TSO super-packets v4/v6 with PSH/FIN/CWR, and malformed ones.
// They are small: the fuzzer minimizes what it finds, slowly for long inputs.
func fuzzReads(t testing.TB) [][]byte {
	good := seg(t, segSpec{seq: 1, n: 100})
	var out [][]byte
	out = append(out, read(vnethdr.Header{}, good))
	for _, s := range []segSpec{
		{seq: 1000, n: 300, flags: wire.ACK | wire.PSH | wire.FIN | wire.CWR},
		{src: v6a, dst: v6b, seq: 1000, n: 250, flags: wire.ACK},
	} {
		p := seg(t, s)
		ipHL, tcpHL, _ := tcpSegHeaders(p)
		h := vnethdr.Header{Flags: vnethdr.NeedsCsum, GSOType: vnethdr.GSOTCPv4, GSOSize: 100,
			HdrLen: uint16(ipHL + tcpHL), CsumStart: uint16(ipHL), CsumOffset: 16}
		if ipHL == wire.IPv6HeaderLen {
			h.GSOType = vnethdr.GSOTCPv6
		}
		out = append(out, read(h, p))
	}
	out = append(out,
		read(vnethdr.Header{Flags: vnethdr.NeedsCsum, CsumStart: 20, CsumOffset: 16}, good),
		read(vnethdr.Header{GSOType: vnethdr.GSOUDP, GSOSize: 1000}, udpPacket(v4a, v4b, make([]byte, 50))),
		[]byte{1, 2, 3},
	)
	return out
}

// FuzzRxOffload: whatever the device hands over, the read path delivers
// or counts it, never both, never panics; split segments are valid TCP
// segments whose payloads are the super-packet's.
func FuzzRxOffload(f *testing.F) {
	for _, b := range fuzzReads(f) {
		f.Add(b, false)
		f.Add(b, true)
	}
	// One reader per mode, reused: a new split arena per input would
	// make the fuzzer measure the allocator.
	var ctr offloadCounters
	rxs := map[bool]*rxOffload{false: newRxOffload(false, &ctr), true: newRxOffload(true, &ctr)}
	f.Fuzz(func(t *testing.T, b []byte, split bool) {
		ctr = offloadCounters{}
		rx := rxs[split]
		rx.reset()
		orig := bytes.Clone(b)
		if !rx.add(b) {
			t.Fatal("an empty arena refused a packet")
		}
		bad := ctr.badVnet.Load() + ctr.badGSO.Load()
		if (len(rx.out) > 0) == (bad > 0) || bad > 1 {
			t.Fatalf("%d packets delivered and %d counted bad", len(rx.out), bad)
		}
		if bad > 0 || ctr.gsoIn.Load() == 0 || !split {
			return
		}
		p := orig[vnethdr.Len:]
		vh, _ := vnethdr.Parse(orig) // it was delivered: Len bytes at least
		ipHL, tcpHL, err := gsoTCPHeaders(p, &vh)
		if err != nil {
			t.Fatalf("delivered a GSO packet gsoTCPHeaders refuses: %v", err)
		}
		var data []byte
		for i, o := range rx.out {
			ip, err := wire.ParseIP(o)
			if err != nil {
				t.Fatalf("segment %d of %d: %v", i, len(rx.out), err)
			}
			tcp, err := wire.ParseTCP(ip.Payload)
			if err != nil || !tcp.VerifyChecksum(ip.Src, ip.Dst) {
				t.Fatalf("segment %d: %v or bad checksum", i, err)
			}
			data = append(data, tcp.Payload()...)
		}
		if !bytes.Equal(data, p[ipHL+tcpHL:]) {
			t.Fatal("split payloads differ from the super-packet's")
		}
	})
}

// FuzzGSORun: packets cut from arbitrary bytes never make gsoRun or
// gsoHeader panic, and a run it accepts comes back from gsoSplit as the
// same packets (but the IPv4 ID and header checksum).
func FuzzGSORun(f *testing.F) {
	tr := train(f, 3, 40, nil)
	f.Add(bytes.Join(tr, nil), uint16(len(tr[0])), uint16(2*len(tr[0])))
	v6 := train(f, 2, 30, func(_ int, s *segSpec) { s.src, s.dst = v6a, v6b })
	f.Add(bytes.Join(v6, nil), uint16(len(v6[0])), uint16(len(v6[0])+len(v6[1])))
	f.Fuzz(func(t *testing.T, b []byte, cut1, cut2 uint16) {
		c1 := min(int(cut1), len(b))
		c2 := min(max(int(cut2), c1), len(b))
		pkts := [][]byte{b[:c1], b[c1:c2], b[c2:]}
		n := gsoRun(pkts)
		if n < 1 || n > len(pkts) {
			t.Fatalf("run of %d of %d packets", n, len(pkts))
		}
		if n == 1 {
			return
		}
		var hdr [gsoHdrMax]byte
		h := gsoHeader(hdr[:], pkts[:n])
		vh, err := vnethdr.Parse(hdr[:h])
		if err != nil {
			t.Fatal(err)
		}
		hl := h - vnethdr.Len
		p := bytes.Clone(hdr[vnethdr.Len:h])
		for _, s := range pkts[:n] {
			p = append(p, s[hl:]...)
		}
		if err := vh.Check(len(p)); err != nil {
			t.Fatalf("our vnet header fails Check: %v", err)
		}
		ipHL := int(vh.CsumStart)
		segs := gsoSplit(nil, make([]byte, gsoSplitLen(p, hl, int(vh.GSOSize))), p, ipHL, hl-ipHL, int(vh.GSOSize))
		if len(segs) != n {
			t.Fatalf("split into %d, coalesced %d", len(segs), n)
		}
		for i, s := range segs {
			want := pkts[i]
			if ipHL == wire.IPv4MinLen {
				s = bytes.Clone(s)
				copy(s[4:6], want[4:6])
				copy(s[10:12], want[10:12])
			}
			// The TCP checksum is recomputed: compare it only if the
			// original's was right.
			ip, _ := wire.ParseIP(want)
			if !wire.TCP(ip.Payload).VerifyChecksum(ip.Src, ip.Dst) {
				s = bytes.Clone(s)
				copy(s[ipHL+16:ipHL+18], want[ipHL+16:ipHL+18])
			}
			if !bytes.Equal(s, want) {
				t.Fatalf("packet %d:\n got %x\nwant %x", i, s, want)
			}
		}
	})
}
