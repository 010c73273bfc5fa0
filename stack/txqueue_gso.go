package stack

import (
	"encoding/binary"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// TCP segmentation offload on the sending side. On a link that takes
// super-segments (link.GSOEndpoint: a TUN device with offloads), the
// core hands out runs of full segments as one Segment (GSOSize set,
// tcp.Config.GSOMaxPayload), whose headers are encoded once and payload
// copied behind; and a run of segments handed out one after the other is
// built as one packet too: the first is encoded as usual into a buffer
// large enough for the whole run, and each next one that continues it —
// the next sequence number, the same headers in every byte the cutter
// copies (ports, acknowledgment, window, options: so equal timestamps), a
// plain ACK, segments no longer than the first's — only has its payload
// copied behind. When the run ends (a segment that does not continue it, a
// short one or one with PSH, which it still takes, the size limit, or
// the queue being written out), its IP header gets the total length and
// its TCP checksum the pseudo-header sum only (link.GSOEndpoint). So a
// run of 45 segments costs one header, one checksum of the first
// segment, and the copies, instead of 45 encodings and checksums and the
// link's coalescing.
//
// A run never takes a segment whose flags are other than ACK or ACK|PSH
// (no SYN, FIN, RST, URG, CWR, ECE: these are not copied to every piece
// faithfully, RFC 3168 §6.1.2 for CWR), and the link's cutting gives back
// exactly the segments the core handed out: the headers of the first with
// sequence numbers advanced, PSH on the last.

// gsoMaxSegs bounds the segments of one run (the link refuses more).
const gsoMaxSegs = 64

// txRun is the open run: the last packet of outq, while it may grow.
type txRun struct {
	idx      int        // its index in outq
	src, dst netip.Addr // for the pseudo-header
	ipHL, hl int        // IP header, IP+TCP headers
	seg      int        // payload bytes of each segment but the last
	segs     int        // segments so far
	next     seqnum.V32 // the sequence number that continues it
	// What every segment of the run repeats. The IP header's fields are
	// the connection's (addresses, TTL, DF); the TCP header's are these
	// and the ports.
	ack     seqnum.V32
	window  uint16
	options wire.TCPOptions
}

// gsoPayload is tcp.Config.GSOMaxPayload for IP headers of ipHdr bytes:
// what a super-segment holds behind the largest TCP header, or 0 when
// the link takes none.
func (s *Stack) gsoPayload(ipHdr int) int {
	if s.gsoMax == 0 {
		return 0
	}
	return s.gsoMax - ipHdr - wire.TCPMaxHeaderLen
}

// gsoCandidate says whether seg may start or join a run.
func gsoCandidate(seg *tcp.Segment) bool {
	return len(seg.Payload) > 0 && seg.Flags&^wire.PSH == wire.ACK
}

// queueTCPGSO is queueTCP on a link that takes super-segments.
func (q *txQueue) queueTCPGSO(s *Stack, tuple fourTuple, seg *tcp.Segment) bool {
	if !gsoCandidate(seg) {
		q.closeRun()
		return q.queueTCPAlone(s, tuple, seg)
	}
	if q.extendRun(s, seg) {
		return true
	}
	q.closeRun()
	if seg.GSOSize > 0 && !q.fitsOneSuper(s, seg) {
		return q.queueSplitRun(s, tuple, seg)
	}
	b := q.take(s.gsoMax)
	var pkt []byte
	var err error
	size, segs := len(seg.Payload), 1
	if seg.GSOSize > 0 {
		// The core's own run: the headers alone (their checksum is
		// replaced when the run closes), then the payload.
		size, segs = int(seg.GSOSize), (len(seg.Payload)+int(seg.GSOSize)-1)/int(seg.GSOSize)
		hdr := *seg
		hdr.Payload = nil
		if pkt, err = tcpPacket(b.B[:s.gsoMax], tuple, &hdr); err == nil {
			pkt = append(pkt, seg.Payload...)
		}
	} else {
		pkt, err = tcpPacket(b.B[:s.mtu], tuple, seg)
	}
	if !q.pushEncoded(s, b, pkt, err) {
		return false
	}
	ipHL := wire.IPv6HeaderLen
	if pkt[0]>>4 == 4 {
		ipHL = wire.IPv4MinLen
	}
	if q.run == nil {
		q.run = new(txRun)
	}
	*q.run = txRun{
		idx: len(q.outq) - 1, src: tuple.local.Addr().Unmap(), dst: tuple.remote.Addr().Unmap(),
		ipHL: ipHL, hl: len(pkt) - len(seg.Payload), seg: size, segs: segs, next: seg.Seq.Add(seqnum.Size32(len(seg.Payload))),
		ack: seg.Ack, window: seg.Window, options: seg.Options,
	}
	q.runOpen = true
	if seg.Flags&wire.PSH != 0 || len(seg.Payload)%size != 0 {
		q.closeRun() // ends where it starts; a run of the core's is finished
	}
	return true
}

// fitsOneSuper says whether the core's run seg fits one super-segment:
// at most gsoMaxSegs segments and s.gsoMax bytes with the largest headers.
func (q *txQueue) fitsOneSuper(s *Stack, seg *tcp.Segment) bool {
	g := int(seg.GSOSize)
	return (len(seg.Payload)+g-1)/g <= gsoMaxSegs &&
		len(seg.Payload)+wire.IPv6HeaderLen+wire.TCPMaxHeaderLen <= s.gsoMax
}

// queueSplitRun queues the core's run seg, too long for one
// super-segment (small segments: more than gsoMaxSegs of them), as
// several, cut at segment boundaries; PSH stays with the last.
func (q *txQueue) queueSplitRun(s *Stack, tuple fourTuple, seg *tcp.Segment) bool {
	g := int(seg.GSOSize)
	per := min(gsoMaxSegs, (s.gsoMax-wire.IPv6HeaderLen-wire.TCPMaxHeaderLen)/g) * g
	ok := true
	for off := 0; off < len(seg.Payload); off += per {
		part := *seg
		part.Seq = seg.Seq.Add(seqnum.Size32(off))
		part.Payload = seg.Payload[off:min(off+per, len(seg.Payload))]
		if off+per < len(seg.Payload) {
			part.Flags &^= wire.PSH
		}
		if len(part.Payload) <= g {
			part.GSOSize = 0
		}
		q.closeRun()
		ok = q.queueTCPGSO(s, tuple, &part) && ok
	}
	return ok
}

// queueTCPAlone encodes seg into a buffer of its own, as queueTCP does
// on other links.
func (q *txQueue) queueTCPAlone(s *Stack, tuple fourTuple, seg *tcp.Segment) bool {
	b := q.take(s.mtu)
	pkt, err := tcpPacket(b.B[:s.mtu], tuple, seg)
	return q.pushEncoded(s, b, pkt, err)
}

// extendRun appends seg to the open run if it continues it, and reports
// whether it did.
func (q *txQueue) extendRun(s *Stack, seg *tcp.Segment) bool {
	r := q.run
	if !q.runOpen || r.idx != len(q.outq)-1 {
		return false
	}
	last := &q.outq[r.idx]
	n := len(seg.Payload)
	pieces := 1
	if seg.GSOSize > 0 {
		if int(seg.GSOSize) != r.seg {
			return false
		}
		pieces = (n + r.seg - 1) / r.seg
	}
	if seg.Seq != r.next || (n > r.seg && seg.GSOSize == 0) || r.segs+pieces > gsoMaxSegs || last.n+n > s.gsoMax ||
		seg.Ack != r.ack || seg.Window != r.window || seg.Options != r.options {
		return false
	}
	copy(last.blk.B[last.n:], seg.Payload)
	last.n += n
	r.segs += pieces
	r.next = r.next.Add(seqnum.Size32(n))
	if seg.Flags&wire.PSH != 0 {
		last.blk.B[r.ipHL+13] |= byte(wire.PSH)
	}
	if n%r.seg != 0 || seg.Flags&wire.PSH != 0 {
		q.closeRun()
	}
	return true
}

// closeRun ends the open run, if any: a run of one segment stays the
// packet it was encoded as; a longer one becomes a super-segment.
func (q *txQueue) closeRun() {
	if !q.runOpen {
		return
	}
	q.runOpen = false
	r := q.run
	if r.segs < 2 || r.idx >= len(q.outq) {
		return
	}
	p := &q.outq[r.idx]
	finishSuper(p.blk.B[:p.n], r.ipHL, r.src, r.dst)
	p.gso = uint16(r.seg)
}

// finishSuper gives super-segment p its IP length (and IPv4 header
// checksum) and the partial TCP checksum link.GSOEndpoint asks for.
func finishSuper(p []byte, ipHL int, src, dst netip.Addr) {
	if ipHL == wire.IPv4MinLen {
		binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
		p[10], p[11] = 0, 0
		binary.BigEndian.PutUint16(p[10:], wire.Checksum(p[:ipHL]))
	} else {
		binary.BigEndian.PutUint16(p[4:], uint16(len(p)-ipHL))
	}
	ph := wire.PseudoHeaderSum(src, dst, wire.IPProtoTCP, len(p)-ipHL)
	binary.BigEndian.PutUint16(p[ipHL+16:], ^wire.Fold(ph))
}

// releaseRun drops the run's state with the buffers (releaseBufs).
func (q *txQueue) releaseRun() {
	if !q.runOpen {
		q.run = nil
	}
}
