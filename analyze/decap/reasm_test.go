package decap

import (
	"bytes"
	"encoding/binary"
	"maps"
	"slices"
	"testing"
)

// feed decodes fragments at the given times (ns) and returns what came
// back whole.
func feed(d *Decoder, frags [][]byte, at ...int64) [][]byte {
	var out [][]byte
	for i, f := range frags {
		var t int64
		if i < len(at) {
			t = at[i]
		}
		if got := d.Decode(LinkRaw, t, f); got != nil {
			out = append(out, bytes.Clone(got))
		}
	}
	return out
}

// Fragments in any order, with duplicates, give back the original packet
// once, for IPv4 and IPv6, and nothing stays pending.
func TestReasm_AnyOrder(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		p := tcpPacket(t, v6, 100)
		var frags [][]byte
		if v6 {
			frags = frag6(p, 24, 99)
		} else {
			frags = frag4(p, 24)
		}
		orders := map[string][][]byte{
			"in order":        frags,
			"reversed":        reversed(frags),
			"with duplicates": append([][]byte{frags[1], frags[0], frags[1]}, frags[1:]...),
		}
		for name, fs := range orders {
			d := New(Limits{})
			got := feed(d, fs)
			if len(got) != 1 || !bytes.Equal(got[0], p) {
				t.Errorf("v6 %v %s: got %d packets, want the original once\n%x\n%x", v6, name, len(got), got, p)
			}
			if n, b := d.Pending(); n != 0 || b != 0 {
				t.Errorf("v6 %v %s: %d datagrams, %d bytes still pending", v6, name, n, b)
			}
			if f, r := d.Fragments(); f != len(fs) || r != 1 || len(d.Skipped()) != 0 {
				t.Errorf("v6 %v %s: %d fragments, %d reassembled", v6, name, f, r)
			}
		}
	}
}

// A tunnel inside a fragmented packet is opened after reassembly.
func TestReasm_TunnelInside(t *testing.T) {
	inner := tcpPacket(t, true, 64)
	outer := ipv4(41, inner)
	got := feed(New(Limits{}), frag4(outer, 32))
	if len(got) != 1 || !bytes.Equal(got[0], inner) {
		t.Fatalf("got %x, want the inner IPv6 packet", got)
	}
}

// Fragments that disagree where they overlap drop their datagram (RFC
// 5722); a datagram whose last fragment never comes times out in capture
// time, or is counted incomplete at the end.
func TestReasm_DroppedAndCounted(t *testing.T) {
	p := tcpPacket(t, false, 100)
	frags := frag4(p, 24)
	bad := bytes.Clone(frags[1])
	bad[len(bad)-1] ^= 0xff
	d := New(Limits{})
	if got := feed(d, append([][]byte{bad}, frags...)); len(got) != 0 {
		t.Errorf("overlapping fragments that disagree gave a packet")
	}
	if s := d.Skipped(); s[WhyFragOverlap] == 0 {
		t.Errorf("skipped %v, want %s", s, WhyFragOverlap)
	}

	d = New(Limits{})
	feed(d, frags[:2], 0, 0)
	feed(d, [][]byte{tcpPacket(t, false, 10)}, 31e9) // any packet 31 s later
	if s := d.Skipped(); s[WhyFragTimeout] != 2 {
		t.Errorf("skipped %v, want 2 %s", s, WhyFragTimeout)
	}

	d = New(Limits{})
	feed(d, frags[:3])
	d.Flush()
	if s := d.Skipped(); !maps.Equal(s, map[string]int{"fragment_incomplete": 3}) {
		t.Errorf("skipped %v, want 3 fragment_incomplete", s)
	}
}

// Memory stays within the limits however many datagrams never complete:
// the oldest are dropped and counted, and a later datagram still
// reassembles.
func TestReasm_Bounded(t *testing.T) {
	lim := Limits{Datagrams: 8, Bytes: 4096}
	d := New(lim)
	p := tcpPacket(t, false, 1000)
	for id := range 1000 {
		q := bytes.Clone(p)
		q[4], q[5] = byte(id>>8), byte(id)
		fixSum4(q)
		fs := frag4(q, 512)
		feed(d, fs[:1]) // the first half only
		if n, b := d.Pending(); n > lim.Datagrams || b > lim.Bytes {
			t.Fatalf("after %d datagrams: %d pending, %d bytes", id+1, n, b)
		}
	}
	if got := d.Skipped()[WhyFragLimit]; got < 990 {
		t.Errorf("%d fragments dropped for the limit, want nearly all 1000", got)
	}
	if got := feed(d, frag4(p, 512)); len(got) != 1 || !bytes.Equal(got[0], p) {
		t.Errorf("a whole datagram after the flood did not reassemble")
	}
	big := New(Limits{Bytes: 100})
	if got := feed(big, frag4(p, 512)); len(got) != 0 || big.Skipped()[WhyFragLimit] == 0 {
		t.Errorf("a datagram larger than the byte limit: %d packets, skipped %v", len(got), big.Skipped())
	}
}

func reversed(s [][]byte) [][]byte {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}

// fragAt is an IPv4 fragment of n zero bytes at offset off.
func fragAt(off int, more bool, n int) []byte {
	f := ipv4(6, make([]byte, n))
	v := uint16(off / 8)
	if more {
		v |= 0x2000
	}
	binary.BigEndian.PutUint16(f[6:], v)
	fixSum4(f)
	return f
}

// A datagram that never completes holds at most maxPieces fragments: one
// small fragment repeated (well within the byte limit) drops it, counted,
// instead of growing it by a fragment per frame.
func TestReasm_PiecesBounded(t *testing.T) {
	d := New(Limits{})
	frags := [][]byte{fragAt(0, true, 8), fragAt(64000, false, 8)}
	dup := fragAt(8, true, 8)
	for len(frags) <= maxPieces {
		frags = append(frags, dup)
	}
	if got := feed(d, frags); len(got) != 0 {
		t.Fatalf("got %d packets from a datagram with a hole", len(got))
	}
	if n, b := d.Pending(); n != 0 || b != 0 {
		t.Errorf("%d datagrams, %d bytes pending; want the datagram dropped at %d fragments", n, b, maxPieces)
	}
	if got := d.Skipped()[WhyFragLimit]; got != len(frags) {
		t.Errorf("%s counted %d fragments, want all %d", WhyFragLimit, got, len(frags))
	}
}

// Pieces stay in offset order, equal offsets in arrival order, however
// the fragments arrive: the datagram comes back whole.
func TestReasm_PiecesOrdered(t *testing.T) {
	p := tcpPacket(t, false, 200)
	frags := frag4(p, 24)
	mixed := [][]byte{frags[3], frags[0], frags[5], frags[3], frags[1], frags[7], frags[2], frags[6], frags[4]}
	mixed = append(mixed, frags[8:]...)
	got := feed(New(Limits{}), mixed)
	if len(got) != 1 || !bytes.Equal(got[0], p) {
		t.Fatalf("got %d packets, want the original once", len(got))
	}
}
