package decap

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Fragment reassembly (RFC 791 §3.2 for IPv4, RFC 8200 §4.5 for IPv6),
// with the limits a tool reading untrusted captures needs: a bound on the
// datagrams waiting and on the bytes they hold (the oldest is dropped
// first), a timeout in capture time, and overlapping fragments that
// disagree dropping their datagram (RFC 5722). Every fragment that does
// not end in a whole datagram is counted by reason.

// WhyFragTruncated: a fragment cut short by the snapshot length.
const WhyFragTruncated = "fragment_truncated"

const (
	defaultDatagrams = 256
	defaultBytes     = 4 << 20
	timeout4         = 30e9
	timeout6         = 60e9
	maxDatagram      = 65535
	// maxPieces bounds the fragments one datagram may hold: as many as
	// 8-byte fragments take to fill the largest datagram. Without it a
	// capture repeating one small fragment of a datagram that never
	// completes grew it by a piece per frame, and every frame re-checked
	// all of them: time quadratic in the capture's length.
	maxPieces = maxDatagram/8 + 1
)

// fragKey identifies a datagram: addresses, identification and (IPv4)
// protocol.
type fragKey struct {
	src, dst [16]byte
	id       uint32
	proto    uint8
	v6       bool
}

// fragment is one fragment as the IP readers hand it over. head is the
// IPv4 header, or IPv6's header and extension headers before the Fragment
// header (whose Next Header byte is at nhAt, and whose own is nh).
type fragment struct {
	head []byte
	nhAt int
	nh   byte
	off  int
	more bool
	data []byte
}

type piece struct {
	off  int
	data []byte
}

// datagram is one datagram waiting for its fragments.
type datagram struct {
	key    fragKey
	first  int64 // capture time of its first fragment
	head   []byte
	nhAt   int
	nh     byte
	pieces []piece
	total  int // payload length, -1 until the last fragment arrives
	bytes  int
}

type reasm struct {
	datagrams, maxBytes int
	timeoutNs           int64
	list                []*datagram // oldest first
	bytes               int
	done                int
}

func (r *reasm) init(l Limits) {
	r.datagrams, r.maxBytes, r.timeoutNs = l.Datagrams, l.Bytes, l.TimeoutNs
	if r.datagrams <= 0 {
		r.datagrams = defaultDatagrams
	}
	if r.maxBytes <= 0 {
		r.maxBytes = defaultBytes
	}
}

// add takes a fragment in and returns the whole datagram when this
// fragment completes it (a fresh buffer), or nil and the reason the
// fragment was dropped ("" when it waits).
func (r *reasm) add(d *Decoder, k fragKey, f fragment) ([]byte, string) {
	end := f.off + len(f.data)
	if end+len(f.head) > maxDatagram || f.more && len(f.data)%8 != 0 || f.more && len(f.data) == 0 {
		return nil, WhyBadFragment
	}
	i := slices.IndexFunc(r.list, func(g *datagram) bool { return g.key == k })
	if i < 0 {
		for len(r.list) >= r.datagrams {
			r.drop(d, 0, WhyFragLimit)
		}
		r.list = append(r.list, &datagram{key: k, first: d.now, total: -1})
		i = len(r.list) - 1
	}
	for r.bytes+len(f.data) > r.maxBytes && i > 0 {
		r.drop(d, 0, WhyFragLimit)
		i--
	}
	g := r.list[i]
	if r.bytes+len(f.data) > r.maxBytes || len(g.pieces) >= maxPieces {
		r.drop(d, i, WhyFragLimit)
		return nil, WhyFragLimit
	}
	if !f.more {
		if g.total >= 0 && g.total != end {
			r.drop(d, i, WhyBadFragment)
			return nil, WhyBadFragment
		}
		g.total = end
	}
	if f.off == 0 && g.head == nil {
		g.head, g.nhAt, g.nh = bytes.Clone(f.head), f.nhAt, f.nh
	}
	// Kept sorted by offset, a fragment after those of equal offset that
	// came before it.
	at, _ := slices.BinarySearchFunc(g.pieces, f.off+1, func(p piece, off int) int { return p.off - off })
	g.pieces = slices.Insert(g.pieces, at, piece{f.off, bytes.Clone(f.data)})
	g.bytes += len(f.data)
	r.bytes += len(f.data)
	if g.total < 0 || g.head == nil {
		return nil, ""
	}
	whole, why := g.assemble()
	if why != "" {
		r.drop(d, i, why) // counts this fragment with the others
		return nil, ""
	}
	if whole == nil {
		return nil, ""
	}
	r.remove(i)
	r.done++
	return whole, ""
}

// assemble returns the datagram if its fragments cover it, nil if some
// are missing, or a reason to drop it. The pieces are in offset order.
func (g *datagram) assemble() ([]byte, string) {
	covered := 0
	for _, p := range g.pieces {
		if p.off > covered {
			return nil, "" // a hole
		}
		covered = max(covered, p.off+len(p.data))
	}
	if covered < g.total {
		return nil, ""
	}
	if covered > g.total {
		return nil, WhyBadFragment // data beyond the last fragment
	}
	out := make([]byte, len(g.head)+g.total)
	copy(out, g.head)
	pay := out[len(g.head):]
	covered = 0
	for _, p := range g.pieces {
		if p.off < covered { // an overlap must repeat the same bytes
			n := min(covered, p.off+len(p.data)) - p.off
			if !bytes.Equal(pay[p.off:p.off+n], p.data[:n]) {
				return nil, WhyFragOverlap
			}
		}
		copy(pay[p.off:], p.data)
		covered = max(covered, p.off+len(p.data))
	}
	if g.key.v6 {
		out[g.nhAt] = g.nh
		binary.BigEndian.PutUint16(out[4:], uint16(len(out)-40))
		return out, ""
	}
	binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
	out[6] &= 0x40 // keep DF; clear MF and the offset
	out[7] = 0
	out[10], out[11] = 0, 0
	binary.BigEndian.PutUint16(out[10:], checksum(out[:len(g.head)]))
	return out, ""
}

// expire drops the datagrams that waited longer than the timeout.
func (r *reasm) expire(d *Decoder, now int64) {
	for i := 0; i < len(r.list); {
		g := r.list[i]
		limit := r.timeoutNs
		if limit <= 0 {
			limit = timeout4
			if g.key.v6 {
				limit = timeout6
			}
		}
		if now-g.first > limit {
			r.drop(d, i, WhyFragTimeout)
			continue
		}
		i++
	}
}

// dropAll drops every waiting datagram.
func (r *reasm) dropAll(d *Decoder, why string) {
	for len(r.list) > 0 {
		r.drop(d, 0, why)
	}
}

// drop removes datagram i and counts its fragments under why.
func (r *reasm) drop(d *Decoder, i int, why string) {
	d.skip(why, len(r.list[i].pieces))
	r.remove(i)
}

func (r *reasm) remove(i int) {
	r.bytes -= r.list[i].bytes
	r.list[i] = nil
	r.list = slices.Delete(r.list, i, i+1)
}

// checksum is the Internet checksum (RFC 1071) of b.
func checksum(b []byte) uint16 {
	var sum uint32
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
