package stack

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// IPv4 reassembly (RFC 791 §3.2, RFC 1122 §3.3.2) with bounded memory.
// teardown itself never fragments (DF is always set), but a peer's
// datagram may be cut by a router on the way when the peer did not set
// DF. A few datagrams are put together at a time, each within a time
// limit, in a fixed amount of memory; whatever would exceed a limit is
// dropped and counted, never queued. Fragments that overlap make the
// whole datagram be dropped, as Linux does for IPv4 and RFC 5722 requires
// for IPv6: overlaps have no honest use and serve to evade inspection.
// IPv6 fragments are still dropped (counted as "fragment").

// The limits of reassembly.
const (
	// reasmMaxDatagrams is the most datagrams in reassembly at once.
	reasmMaxDatagrams = 16
	// reasmMaxBytes bounds the payload bytes held across them; a datagram
	// holds room for its highest fragment so far.
	reasmMaxBytes = 256 << 10
	// reasmTimeout is how long a datagram may take to arrive whole:
	// Linux's ipfrag_time. RFC 1122 §3.3.2 suggests 60 to 120 s; shorter
	// bounds the memory a trickle of fragments can hold.
	reasmTimeout = 30 * time.Second
)

// FragmentCounters count IPv4 reassembly.
type FragmentCounters struct {
	// Reassembled counts datagrams put together and delivered.
	Reassembled uint64
	// Fragments counts the fragments taken into reassembly.
	Fragments uint64
	// Overlaps counts datagrams dropped for overlapping fragments;
	// TimedOut those that did not arrive whole in time; OverLimit the
	// fragments dropped because the limits of memory or datagrams were
	// reached; Malformed fragments with impossible offsets or lengths.
	Overlaps, TimedOut, OverLimit, Malformed uint64
}

// errFragmentHeld says a fragment was kept (or dropped and counted) and
// nothing is to be delivered yet.
var errFragmentHeld = errors.New("stack: fragment held for reassembly")

type fragKey struct {
	src, dst [4]byte
	id       uint16
	proto    uint8
}

// fragSpan is a received byte range [lo, hi) of a datagram's payload.
type fragSpan struct{ lo, hi int }

type fragDatagram struct {
	key   fragKey
	start clock.Instant
	hdr   [wire.IPv4MinLen]byte // the first fragment's fixed header, once seen
	first bool
	data  []byte
	spans []fragSpan
	total int // payload length once the last fragment was seen, else -1
}

type reassembler struct {
	mu    sync.Mutex
	dgs   []*fragDatagram
	bytes int
	c     struct{ done, frags, overlaps, timedOut, overLimit, malformed atomic.Uint64 }
}

func (r *reassembler) counters() FragmentCounters {
	return FragmentCounters{
		Reassembled: r.c.done.Load(), Fragments: r.c.frags.Load(), Overlaps: r.c.overlaps.Load(),
		TimedOut: r.c.timedOut.Load(), OverLimit: r.c.overLimit.Load(), Malformed: r.c.malformed.Load(),
	}
}

// reassemble takes packet p that ParseIP found to be a fragment. It
// returns the whole datagram once its last missing piece arrived, or
// errFragmentHeld; wire.ErrFragment for an IPv6 fragment (not
// reassembled).
func (s *Stack) reassemble(p []byte) (wire.IPPacket, error) {
	if p[0]>>4 != 4 {
		return wire.IPPacket{}, wire.ErrFragment
	}
	v := wire.IPv4(p[:binary.BigEndian.Uint16(p[2:])]) // ParseIPv4 checked the lengths and checksum
	whole := s.reasm.add(s.clk.Now(), v)
	if whole == nil {
		return wire.IPPacket{}, errFragmentHeld
	}
	return wire.ParseIP(whole)
}

func (r *reassembler) add(now clock.Instant, v wire.IPv4) []byte {
	off := int(v.FragmentOffset()) * 8
	pay := v.Payload()
	more := v.Flags()&wire.IPv4FlagMF != 0
	end := off + len(pay)
	if len(pay) == 0 || more && len(pay)%8 != 0 || end > wire.IPv4MaxLen-wire.IPv4MinLen {
		r.c.malformed.Add(1)
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire(now)
	key := fragKey{src: v.Src().As4(), dst: v.Dst().As4(), id: v.ID(), proto: v.Protocol()}
	d := r.find(key)
	if d == nil {
		if len(r.dgs) >= reasmMaxDatagrams {
			r.c.overLimit.Add(1)
			return nil
		}
		d = &fragDatagram{key: key, start: now, total: -1}
		r.dgs = append(r.dgs, d)
	}
	for _, sp := range d.spans {
		if off < sp.hi && sp.lo < end {
			r.c.overlaps.Add(1)
			r.remove(d)
			return nil
		}
	}
	if !more {
		if d.total >= 0 || end < d.highest() {
			r.c.malformed.Add(1) // a second last fragment, or data past the end
			r.remove(d)
			return nil
		}
		d.total = end
	} else if d.total >= 0 && end > d.total {
		r.c.malformed.Add(1)
		r.remove(d)
		return nil
	}
	if grow := end - len(d.data); grow > 0 {
		if r.bytes+grow > reasmMaxBytes {
			r.c.overLimit.Add(1)
			return nil
		}
		r.bytes += grow
		d.data = append(d.data, make([]byte, grow)...)
	}
	copy(d.data[off:end], pay)
	d.spans = append(d.spans, fragSpan{off, end})
	if off == 0 {
		d.first = true
		copy(d.hdr[:], v[:wire.IPv4MinLen])
	}
	r.c.frags.Add(1)
	if d.total < 0 || !d.first || d.covered() != d.total {
		return nil
	}
	r.remove(d)
	r.c.done.Add(1)
	return d.datagram()
}

// highest is the end of the highest fragment received.
func (d *fragDatagram) highest() int { return len(d.data) }

// covered is the number of payload bytes received (spans never overlap).
func (d *fragDatagram) covered() int {
	n := 0
	for _, sp := range d.spans {
		n += sp.hi - sp.lo
	}
	return n
}

// datagram builds the reassembled datagram: the first fragment's fixed
// header (its options are dropped: teardown reads none) with the
// fragment fields cleared, the total length and checksum redone.
func (d *fragDatagram) datagram() []byte {
	b := make([]byte, wire.IPv4MinLen+d.total)
	copy(b, d.hdr[:])
	b[0] = 4<<4 | wire.IPv4MinLen/4
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], uint16(d.hdr[6]>>5&wire.IPv4FlagDF)<<13)
	b[10], b[11] = 0, 0
	binary.BigEndian.PutUint16(b[10:], wire.Checksum(b[:wire.IPv4MinLen]))
	copy(b[wire.IPv4MinLen:], d.data[:d.total])
	return b
}

func (r *reassembler) find(k fragKey) *fragDatagram {
	for _, d := range r.dgs {
		if d.key == k {
			return d
		}
	}
	return nil
}

func (r *reassembler) remove(d *fragDatagram) {
	for i, x := range r.dgs {
		if x == d {
			r.dgs = append(r.dgs[:i], r.dgs[i+1:]...)
			r.bytes -= len(d.data)
			return
		}
	}
}

// expire drops the datagrams older than the timeout. RFC 1122 §3.3.2
// lets a host send Time Exceeded then; teardown sends no ICMP errors.
func (r *reassembler) expire(now clock.Instant) {
	for i := 0; i < len(r.dgs); {
		if d := r.dgs[i]; now.Sub(d.start) > reasmTimeout {
			r.c.timedOut.Add(1)
			r.remove(d)
			continue
		}
		i++
	}
}
