package stack

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// fragment builds an IPv4 fragment of datagram id carrying payload at
// byte offset off (a multiple of 8), with MF set when more.
func fragment(t *testing.T, id uint16, off int, more bool, payload []byte) wire.IPv4 {
	t.Helper()
	b := make([]byte, wire.IPv4MinLen+len(payload))
	h := wire.IPv4Header{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Protocol: wire.IPProtoTCP, TTL: 9, ID: id}
	if _, err := h.Encode(b, len(payload)); err != nil {
		t.Fatal(err)
	}
	frag := uint16(off / 8)
	if more {
		frag |= wire.IPv4FlagMF << 13
	}
	binary.BigEndian.PutUint16(b[6:], frag)
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], wire.Checksum(b[:wire.IPv4MinLen]))
	copy(b[wire.IPv4MinLen:], payload)
	return wire.IPv4(b)
}

const t0 clock.Instant = 1_700_000_000_000_000_000

func TestReassembly_OutOfOrderGivesTheDatagram(t *testing.T) {
	var r reassembler
	data := bytes.Repeat([]byte("0123456789abcdef"), 100) // 1600 bytes
	// Last first, then the middle, then the first.
	if r.add(t0, fragment(t, 7, 1200, false, data[1200:])) != nil || r.add(t0, fragment(t, 7, 600, true, data[600:1200])) != nil {
		t.Fatal("a datagram delivered before its first fragment")
	}
	whole := r.add(t0, fragment(t, 7, 0, true, data[:600]))
	ip, err := wire.ParseIP(whole)
	if err != nil {
		t.Fatalf("reassembled datagram does not parse: %v", err)
	}
	if !bytes.Equal(ip.Payload, data) || ip.TTL != 9 || ip.Protocol != wire.IPProtoTCP {
		t.Fatalf("payload %d bytes (equal %v), ttl %d", len(ip.Payload), bytes.Equal(ip.Payload, data), ip.TTL)
	}
	if c := r.counters(); c.Reassembled != 1 || c.Fragments != 3 || r.bytes != 0 || len(r.dgs) != 0 {
		t.Fatalf("counters %+v, %d bytes and %d datagrams left", c, r.bytes, len(r.dgs))
	}
}

// Overlapping fragments drop the whole datagram (RFC 5722's rule, Linux's
// for IPv4): the rest of it never completes.
func TestReassembly_OverlapDropsTheDatagram(t *testing.T) {
	var r reassembler
	data := make([]byte, 64)
	r.add(t0, fragment(t, 1, 0, true, data[:32]))
	r.add(t0, fragment(t, 1, 24, true, data[24:48])) // overlaps [24, 32)
	if r.add(t0, fragment(t, 1, 32, false, data[32:])) != nil {
		t.Fatal("a datagram with overlapping fragments was delivered")
	}
	if c := r.counters(); c.Overlaps != 1 || c.Reassembled != 0 {
		t.Fatalf("counters %+v", c)
	}
}

// A datagram that does not complete within the timeout is dropped, and its
// memory given back.
func TestReassembly_TimeoutFreesMemory(t *testing.T) {
	var r reassembler
	r.add(t0, fragment(t, 2, 0, true, make([]byte, 800)))
	if r.bytes != 800 {
		t.Fatalf("%d bytes held, want 800", r.bytes)
	}
	later := t0.Add(reasmTimeout + time.Second)
	if r.add(later, fragment(t, 2, 800, false, make([]byte, 8))) != nil {
		t.Fatal("a datagram completed from a fragment that had timed out")
	}
	// A datagram holds room up to its highest fragment: 808 bytes now.
	if c := r.counters(); c.TimedOut != 1 || r.bytes != 808 || len(r.dgs) != 1 {
		t.Fatalf("counters %+v, %d bytes in %d datagrams held (want only the new one's 808)", c, r.bytes, len(r.dgs))
	}
}

// The limits hold against a flood of fragments that never complete.
func TestReassembly_Bounded(t *testing.T) {
	var r reassembler
	for id := range uint16(1000) {
		r.add(t0, fragment(t, id, 60000, true, make([]byte, 1480)))
	}
	if len(r.dgs) > reasmMaxDatagrams || r.bytes > reasmMaxBytes {
		t.Fatalf("%d datagrams, %d bytes held: past the limits %d, %d", len(r.dgs), r.bytes, reasmMaxDatagrams, reasmMaxBytes)
	}
	if c := r.counters(); c.OverLimit == 0 {
		t.Fatalf("counters %+v: no fragment counted over the limit", c)
	}
}

func TestReassembly_Malformed(t *testing.T) {
	var r reassembler
	r.add(t0, fragment(t, 3, 0, true, make([]byte, 10)))      // MF with a length not a multiple of 8
	r.add(t0, fragment(t, 4, 65528, false, make([]byte, 16))) // past 65535
	r.add(t0, fragment(t, 5, 16, false, make([]byte, 16)))
	r.add(t0, fragment(t, 5, 40, false, make([]byte, 8))) // a second last fragment
	if c := r.counters(); c.Malformed != 3 {
		t.Fatalf("counters %+v, want 3 malformed", c)
	}
}
