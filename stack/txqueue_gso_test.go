package stack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
)

// gsoRecorder is a link.GSOEndpoint that keeps copies of what it is given.
type gsoRecorder struct {
	pkts [][]byte
	gso  []uint16
}

func (r *gsoRecorder) MTU() int             { return 1500 }
func (r *gsoRecorder) Attach(link.Receiver) {}
func (r *gsoRecorder) Close() error         { return nil }
func (r *gsoRecorder) GSOMaxSize() int      { return 65535 }
func (r *gsoRecorder) WritePackets(pkts [][]byte) (int, error) {
	return r.WritePacketsGSO(pkts, make([]uint16, len(pkts)))
}
func (r *gsoRecorder) WritePacketsGSO(pkts [][]byte, gso []uint16) (int, error) {
	for i, p := range pkts {
		r.pkts = append(r.pkts, bytes.Clone(p))
		r.gso = append(r.gso, gso[i])
	}
	return len(pkts), nil
}

// cutSuper cuts super-segment p into segments of gso payload bytes as
// the kernel's TCP segmentation does (tcp_gso_segment): every piece gets
// the first header with the sequence number advanced and its own length;
// PSH stays on the last piece only; each piece's checksums are completed.
// (The kernel also numbers the IPv4 IDs; ours are 0 and stay so here.)
func cutSuper(t *testing.T, p []byte, gso int, src, dst netip.Addr) [][]byte {
	t.Helper()
	ipHL := wire.IPv6HeaderLen
	if p[0]>>4 == 4 {
		ipHL = wire.IPv4MinLen
	}
	hl := ipHL + int(p[ipHL+12]>>4)*4
	ph := wire.PseudoHeaderSum(src, dst, wire.IPProtoTCP, len(p)-ipHL)
	if got := binary.BigEndian.Uint16(p[ipHL+16:]); got != ^wire.Fold(ph) {
		t.Fatalf("super-segment's TCP checksum field %#04x, want the pseudo-header sum %#04x", got, ^wire.Fold(ph))
	}
	if ipHL == wire.IPv4MinLen && wire.Checksum(p[:ipHL]) != 0 {
		t.Fatal("super-segment's IPv4 header checksum is wrong")
	}
	seq := binary.BigEndian.Uint32(p[ipHL+4:])
	var out [][]byte
	for off := hl; off < len(p); off += gso {
		end := min(off+gso, len(p))
		c := append(bytes.Clone(p[:hl]), p[off:end]...)
		binary.BigEndian.PutUint32(c[ipHL+4:], seq+uint32(off-hl))
		if end < len(p) {
			c[ipHL+13] &^= byte(wire.PSH)
		}
		if ipHL == wire.IPv4MinLen {
			binary.BigEndian.PutUint16(c[2:], uint16(len(c)))
			c[10], c[11] = 0, 0
			binary.BigEndian.PutUint16(c[10:], wire.Checksum(c[:ipHL]))
		} else {
			binary.BigEndian.PutUint16(c[4:], uint16(len(c)-ipHL))
		}
		wire.TCP(c[ipHL:]).SetChecksum(src, dst)
		out = append(out, c)
	}
	if len(p) > 65535 || len(out) > gsoMaxSegs {
		t.Fatalf("super-segment of %d bytes, %d segments: more than a link takes", len(p), len(out))
	}
	return out
}

// queueAll runs segs through a GSO stack's queue and returns the
// recorder, and the packets each segment encodes to on its own.
func queueAll(t *testing.T, tuple fourTuple, segs []tcp.Segment) (*gsoRecorder, [][]byte) {
	t.Helper()
	rec := &gsoRecorder{}
	s := &Stack{link: rec, mtu: rec.MTU(), gsoLink: rec, gsoMax: rec.GSOMaxSize()}
	var q txQueue
	var mu sync.Mutex
	var want [][]byte
	for i := range segs {
		if !q.queueTCP(s, tuple, &segs[i]) {
			t.Fatalf("segment %d refused", i)
		}
		for _, piece := range pieces(segs[i]) {
			p, err := tcpPacket(nil, tuple, &piece)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, p)
		}
	}
	mu.Lock()
	q.writeOut(s, &mu)
	mu.Unlock()
	return rec, want
}

// pieces returns the segments a run of the core's stands for (itself if
// it is none).
func pieces(s tcp.Segment) []tcp.Segment {
	g := int(s.GSOSize)
	if g == 0 {
		return []tcp.Segment{s}
	}
	var out []tcp.Segment
	for off := 0; off < len(s.Payload); off += g {
		p := s
		p.GSOSize = 0
		p.Seq = s.Seq.Add(seqnum.Size32(off))
		p.Payload = s.Payload[off:min(off+g, len(s.Payload))]
		if off+g < len(s.Payload) {
			p.Flags &^= wire.PSH
		}
		out = append(out, p)
	}
	return out
}

// coreRuns joins segs, as bulk makes them, into runs of k segments
// (GSOSize set), as the core hands them out under GSOMaxPayload.
func coreRuns(segs []tcp.Segment, k int) []tcp.Segment {
	var out []tcp.Segment
	for i := 0; i < len(segs); i += k {
		r := segs[i]
		j := min(i+k, len(segs))
		if j-i > 1 {
			r.GSOSize = uint16(len(r.Payload))
			r.Payload = nil
			for _, s := range segs[i:j] {
				r.Payload = append(r.Payload, s.Payload...)
			}
			r.Flags = segs[j-1].Flags
		}
		out = append(out, r)
	}
	return out
}

// bulk returns n segments of size bytes from seq, ACK only, the last one
// with PSH; the payloads differ.
func bulk(seq seqnum.V32, n, size int) []tcp.Segment {
	opts := wire.TCPOptions{HasTimestamp: true, TSVal: 77, TSEcr: 99}
	var segs []tcp.Segment
	for i := range n {
		p := make([]byte, size)
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		segs = append(segs, tcp.Segment{Seq: seq.Add(seqnum.Size32(i * size)), Ack: 1000, Flags: wire.ACK, Window: 500, Options: opts, Payload: p})
	}
	segs[n-1].Flags |= wire.PSH
	return segs
}

// Whatever the queue builds, cutting its super-segments as the kernel
// does gives back, byte for byte, the packets the core's segments encode
// to one by one: the kernel receives exactly what it would have.
func TestTxQueueGSO_CutGivesTheSegmentsBack(t *testing.T) {
	tuples := map[string]fourTuple{
		"v4": {netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:80")},
		"v6": {netip.MustParseAddrPort("[fd00::2]:40000"), netip.MustParseAddrPort("[fd00::1]:80")},
	}
	cases := map[string]func() []tcp.Segment{
		"one run ending in PSH": func() []tcp.Segment { return bulk(5, 10, 1400) },
		"past 64 KiB":           func() []tcp.Segment { return bulk(5, 100, 1400) },
		"short tail":            func() []tcp.Segment { s := bulk(5, 6, 1400); s[5].Payload = s[5].Payload[:100]; return s },
		"sequence wraps":        func() []tcp.Segment { return bulk(1<<32-3000, 10, 1400) },
		"window moves": func() []tcp.Segment {
			s := bulk(5, 8, 1000)
			for i := 4; i < 8; i++ {
				s[i].Window = 600
			}
			return s
		},
		"timestamp moves": func() []tcp.Segment { s := bulk(5, 8, 1000); s[3].Options.TSVal++; return s },
		"a gap (retransmission)": func() []tcp.Segment {
			s := bulk(5, 8, 1000)
			s[4].Seq += 5000
			return s
		},
		"FIN ends it": func() []tcp.Segment { s := bulk(5, 5, 1000); s[4].Flags = wire.ACK | wire.FIN; return s },
		"CWR alone": func() []tcp.Segment {
			s := bulk(5, 6, 1000)
			s[2].Flags |= wire.CWR
			return s
		},
		"a longer one after": func() []tcp.Segment {
			s := bulk(5, 3, 1000)
			s[1].Payload = s[1].Payload[:500]
			s[2].Seq = s[1].Seq.Add(500)
			return s
		},
		"core runs":             func() []tcp.Segment { return coreRuns(bulk(5, 100, 1400), 20) },
		"core runs then single": func() []tcp.Segment { return coreRuns(bulk(5, 47, 1400), 10) },
		"core runs past 64 KiB": func() []tcp.Segment { return coreRuns(bulk(5, 100, 1400), 40) },
		"core run, short tail": func() []tcp.Segment {
			s := bulk(5, 6, 1400)
			s[5].Payload = s[5].Payload[:100]
			return coreRuns(s, 6)
		},
		"core run of small segments": func() []tcp.Segment {
			return coreRuns(bulk(5, 150, 100), 150) // 150 segments: more than one super-segment takes
		},
		"pure ACKs": func() []tcp.Segment {
			s := bulk(5, 3, 1)
			for i := range s {
				s[i].Payload = nil
			}
			return s
		},
	}
	for tn, tuple := range tuples {
		for cn, mk := range cases {
			t.Run(tn+"/"+cn, func(t *testing.T) {
				rec, want := queueAll(t, tuple, mk())
				var got [][]byte
				for i, p := range rec.pkts {
					if rec.gso[i] == 0 {
						if len(p) > rec.MTU() {
							t.Fatalf("packet %d: %d bytes without a GSO size", i, len(p))
						}
						got = append(got, p)
						continue
					}
					got = append(got, cutSuper(t, p, int(rec.gso[i]), tuple.local.Addr(), tuple.remote.Addr())...)
				}
				if len(got) != len(want) {
					t.Fatalf("%d segments after cutting, want %d", len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("segment %d differs:\n got % x\nwant % x", i, got[i][:60], want[i][:60])
					}
				}
			})
		}
	}
}

// A run of full segments becomes one super-segment (the point of it);
// past 64 KiB it continues in the next.
func TestTxQueueGSO_BulkBecomesSuperSegments(t *testing.T) {
	tuple := fourTuple{netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:80")}
	rec, _ := queueAll(t, tuple, bulk(5, 100, 1448))
	// 45 segments of 1448 bytes fit under 65535 with the 52 header bytes.
	if len(rec.pkts) != 3 || rec.gso[0] != 1448 || rec.gso[1] != 1448 || rec.gso[2] != 1448 {
		t.Fatalf("%d packets with GSO sizes %v, want 3 super-segments (45+45+10) of 1448", len(rec.pkts), rec.gso)
	}
	if n := len(rec.pkts[0]); n != 52+45*1448 {
		t.Fatalf("first super-segment %d bytes, want %d", n, 52+45*1448)
	}
}

// discardGSO is a link.GSOEndpoint that keeps nothing.
type discardGSO struct{ gsoRecorder }

func (d *discardGSO) WritePacketsGSO(pkts [][]byte, _ []uint16) (int, error) { return len(pkts), nil }

// Building super-segments allocates nothing once the queue has its
// buffers: per segment, per run and per write.
func TestTxQueueGSO_AllocFree(t *testing.T) {
	if gsoRaceEnabled {
		t.Skip("allocation counts mean nothing under -race (sync.Pool drops items)")
	}
	tuple := fourTuple{netip.MustParseAddrPort("10.0.0.2:40000"), netip.MustParseAddrPort("10.0.0.1:80")}
	d := &discardGSO{}
	s := &Stack{link: d, mtu: d.MTU(), gsoLink: d, gsoMax: d.GSOMaxSize()}
	var q txQueue
	var mu sync.Mutex
	segs := append(bulk(5, 90, 1448), coreRuns(bulk(5+90*1448, 90, 1448), 30)...)
	run := func() {
		for i := range segs {
			q.queueTCP(s, tuple, &segs[i])
		}
		mu.Lock()
		q.writeOut(s, &mu)
		mu.Unlock()
	}
	run()
	if a := testing.AllocsPerRun(50, run); a != 0 {
		t.Fatalf("%v allocations per 180 segments, want 0", a)
	}
}
