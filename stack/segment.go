package stack

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/bufpool"
	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file is where the cores' segments and packets meet the wire: the
// one place a tcp.Segment or a dccp.Packet becomes an IP packet, and a
// received TCP segment or DCCP packet becomes the core's value.
// Connections, listeners and the answers for no connection all encode
// here.

// tcpPacket encodes seg from tuple.local to tuple.remote as an IP packet
// into buf and returns the packet. With a nil buf the packet gets a buffer
// of its own, of the exact size.
func tcpPacket(buf []byte, tuple fourTuple, seg *tcp.Segment) ([]byte, error) {
	h := wire.TCPHeader{
		SrcPort: tuple.local.Port(), DstPort: tuple.remote.Port(),
		Seq: seg.Seq, Ack: seg.Ack, Flags: seg.Flags, Window: seg.Window, Options: seg.Options,
	}
	if buf == nil {
		buf = make([]byte, wire.TCPPacketLen(tuple.local.Addr(), &h, len(seg.Payload)))
	}
	n, err := wire.EncodeTCPPacket(buf, tuple.local.Addr(), tuple.remote.Addr(), &h, seg.Payload)
	return buf[:n], err
}

// dccpPacket encodes p from tuple.local to tuple.remote as an IP packet
// into buf and returns the packet, as tcpPacket does. The options are
// built in *opts (reused from call to call); with nil opts they are
// allocated.
func dccpPacket(buf []byte, tuple fourTuple, p *dccp.Packet, opts *[]byte) ([]byte, error) {
	h := p.Header(tuple.local.Port(), tuple.remote.Port())
	if opts != nil {
		h.Options = p.AppendOptions((*opts)[:0])
		*opts = h.Options[:0]
	} else {
		h.Options = p.AppendOptions(nil)
	}
	if buf == nil {
		buf = make([]byte, wire.DCCPPacketLen(tuple.local.Addr(), &h, len(p.Payload)))
	}
	n, err := wire.EncodeDCCPPacket(buf, tuple.local.Addr(), tuple.remote.Addr(), &h, p.Payload)
	return buf[:n], err
}

// queueTCP encodes seg into a buffer of q and queues it. The caller holds
// the lock that guards q.
func (q *txQueue) queueTCP(s *Stack, tuple fourTuple, seg *tcp.Segment) bool {
	if s.gsoMax > 0 {
		return q.queueTCPGSO(s, tuple, seg)
	}
	b := q.take(s.mtu)
	pkt, err := tcpPacket(b.B[:s.mtu], tuple, seg)
	return q.pushEncoded(s, b, pkt, err)
}

// queueDCCP encodes p into a buffer of q and queues it, as queueTCP does.
func (q *txQueue) queueDCCP(s *Stack, tuple fourTuple, p *dccp.Packet, opts *[]byte) bool {
	b := q.take(s.mtu)
	pkt, err := dccpPacket(b.B[:s.mtu], tuple, p, opts)
	return q.pushEncoded(s, b, pkt, err)
}

// pushEncoded queues pkt, encoded into b, or gives b back if encoding
// failed: the core produced a packet larger than the link MTU, a bug to
// see in the counters rather than a silent loss.
func (q *txQueue) pushEncoded(s *Stack, b *bufpool.Block, pkt []byte, err error) bool {
	if err != nil {
		s.txEncodeFailed.Add(1)
		q.giveBack(b)
		return false
	}
	q.push(b, len(pkt))
	return true
}

// sendSegment encodes and writes one segment outside any connection (RSTs
// for no connection). It allocates its buffer: this is not the data path.
func (s *Stack) sendSegment(tuple fourTuple, seg *tcp.Segment) {
	pkt, err := tcpPacket(nil, tuple, seg)
	s.sendAlone(pkt, err)
}

// sendDCCPPacket encodes and writes one packet outside any connection, as
// sendSegment does.
func (s *Stack) sendDCCPPacket(tuple fourTuple, p *dccp.Packet) {
	pkt, err := dccpPacket(nil, tuple, p, nil)
	s.sendAlone(pkt, err)
}

// sendAlone writes one packet that belongs to no queue.
func (s *Stack) sendAlone(pkt []byte, err error) {
	if err != nil {
		s.txEncodeFailed.Add(1)
		return
	}
	s.pktsOut.Add(1)
	s.link.WritePackets([][]byte{pkt}) //nolint:errcheck // a lost answer is like a lost packet
}

// tcpChecksumOK verifies the checksum of t, counting a bad one.
func (s *Stack) tcpChecksumOK(src, dst netip.Addr, t wire.TCP) bool {
	if !t.VerifyChecksum(src, dst) {
		s.drop(dropBadChecksum)
		return false
	}
	return true
}

// decodeTCP decodes t, whose checksum is known good, into seg.
func (s *Stack) decodeTCP(t wire.TCP, seg *tcp.Segment) bool {
	seg.Seq, seg.Ack, seg.Flags, seg.Window = t.Seq(), t.Ack(), t.Flags(), t.Window()
	if err := wire.ParseTCPOptions(t.Options(), &seg.Options); err != nil {
		s.drop(dropBadOptions)
		return false
	}
	seg.Payload = t.Payload()
	return true
}

// decodeDCCP checks DCCP packet raw (from src to dst: header, then
// checksum, RFC 4340 §8.5 step 1) and decodes it into p, counting what it
// drops.
func (s *Stack) decodeDCCP(src, dst netip.Addr, raw []byte, p *dccp.Packet) (wire.DCCP, bool) {
	d, err := wire.ParseDCCP(raw)
	if err != nil {
		s.dccp.count(&s.dccp.badHeader)
		return nil, false
	}
	if d.VerifyChecksum(src, dst) != nil {
		s.dccp.count(&s.dccp.badChecksum)
		return nil, false
	}
	p.Decode(d)
	return d, true
}
