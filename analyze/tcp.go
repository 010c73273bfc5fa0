package analyze

import (
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// tcpSide is what one endpoint of a TCP connection was seen to do. Sequence
// numbers are the endpoint's own (what it sent); ack is what it
// acknowledged of the peer's.
type tcpSide struct {
	addr netip.AddrPort
	dir  *Direction

	synPkts   []int // SYNs without ACK
	synCount  int
	synAckPkt int // first SYN-ACK
	haveISN   bool
	isn       seqnum.V32

	haveNxt bool
	nxt     seqnum.V32 // highest sequence number sent, plus one

	newData  int64 // payload bytes sent for the first time
	haveData bool
	dataEnd  seqnum.V32 // end of the highest payload byte sent
	dataPkts []int      // packets that carried new data

	fin           bool
	finSeq        seqnum.V32 // sequence number of the FIN
	finPkt        int
	finAckPkt     int   // packet of the peer that acknowledged the FIN
	peerDataAtFIN int64 // the peer's new bytes when this side sent FIN

	haveAck     bool
	ack         seqnum.V32 // highest acknowledgement sent
	ackedSYNPkt int        // first packet acknowledging the peer's SYN

	rstPkt int

	staleAckPkt int        // first ACK answering the peer's SYN with an unacceptable number
	staleAck    seqnum.V32 // what it acknowledged
	staleRSTPkt int        // this side's RST answering the peer's stale ACK

	dataAfterFINPkt  int   // first data beyond this side's own FIN
	dataAfterPeerFIN []int // data this side sent after the peer's FIN
	retransPkts      []int
	zwStart          int // first packet of a zero-window stall in progress
}

// tcpConn tracks one TCP connection through its packets.
type tcpConn struct {
	c        Connection
	s        [2]tcpSide // [0] sent the first packet
	client   int        // index of the client in s
	first    wire.TCPFlags
	refused  bool
	rst      *tcpRST
	findings []Finding
	zeek     *zeekConn
	complete int // Wireshark's tcp.completeness bits
}

// tcpRST is the RST that ended a connection, with the facts of that moment.
type tcpRST struct {
	pkt     int
	t       int64
	by      int
	state   string
	more    []int // later RSTs
	unacked int64 // the peer's bytes this RST left unacknowledged
}

func newTCPConn(p *pkt, f wire.TCPFlags) *tcpConn {
	if f.Has(wire.RST) {
		// Read as the RST it carries: RFC 9293 §3.10.7 checks RST
		// before SYN in every state a SYN could start from.
		f &^= wire.SYN | wire.FIN
	}
	c := &tcpConn{first: f}
	c.s[0].addr, c.s[1].addr = p.src, p.dst
	switch {
	case f.Has(wire.SYN) && !f.Has(wire.ACK):
		c.client, c.c.RolesFrom = 0, "handshake"
	case f.Has(wire.SYN | wire.ACK):
		c.client, c.c.RolesFrom = 1, "handshake"
	default:
		c.client, c.c.RolesFrom = guessClient(p.src, p.dst), "port_guess"
	}
	c.c.Proto = "tcp"
	c.c.Client, c.c.Server = c.s[c.client].addr.String(), c.s[1-c.client].addr.String()
	c.s[c.client].dir, c.s[1-c.client].dir = &c.c.ClientToServer, &c.c.ServerToClient
	c.c.FirstPacket, c.c.StartNs = p.num, p.t
	c.zeek = newZeekConn(c.client, 0)
	return c
}

// name returns "client" or "server" for side i.
func (c *tcpConn) name(i int) string {
	if i == c.client {
		return "client"
	}
	return "server"
}

// ended reports whether the connection is over: reset, or FIN both ways.
func (c *tcpConn) ended() bool { return c.rst != nil || c.s[0].fin && c.s[1].fin }

// startsNew reports whether a SYN (without ACK) from src with sequence
// number seq begins a new connection on the same 4-tuple (port reuse):
// the old one ended, was seen only mid-stream, or the SYN carries another
// initial sequence number than the one this side used.
func (c *tcpConn) startsNew(src netip.AddrPort, seq seqnum.V32) bool {
	s := &c.s[side(c.s[0].addr, src)]
	return c.ended() || !c.first.Has(wire.SYN) || s.haveISN && s.isn != seq
}

func (a *Analyzer) tcpPacket(p *pkt, ipp wire.IPPacket) {
	seg, err := wire.ParseTCP(ipp.Payload)
	if err != nil {
		a.rep.Counts.BadTCP++
		return
	}
	if !p.cut && !seg.VerifyChecksum(ipp.Src, ipp.Dst) {
		a.rep.Counts.BadChecksum++
		if a.opts.DropBadChecksums {
			a.rep.Counts.DroppedBadChecksum++
			return
		}
		p.badSum = true
	}
	p.src = netip.AddrPortFrom(ipp.Src, seg.SrcPort())
	p.dst = netip.AddrPortFrom(ipp.Dst, seg.DstPort())
	k := keyOf(wire.IPProtoTCP, p.src, p.dst)
	c := a.tcp[k]
	f := seg.Flags()
	if c != nil && f.Has(wire.SYN) && !f.Has(wire.ACK) && c.startsNew(p.src, seg.Seq()) {
		c = nil
	}
	if c == nil {
		c = newTCPConn(p, f)
		a.tcp[k] = c
		a.flows = append(a.flows, c)
	}
	c.packet(p, seg)
}

// packet updates the connection with one segment.
func (c *tcpConn) packet(p *pkt, seg wire.TCP) {
	d := side(c.s[0].addr, p.src)
	s := &c.s[d]
	c.c.Packets++
	c.c.LastPacket, c.c.EndNs = p.num, p.t
	s.dir.Packets++
	s.dir.DataBytes += int64(len(seg.Payload()))
	if p.badSum {
		s.dir.BadChecksums++
	}
	f := seg.Flags()
	c.zeek.packet(d, seg)
	c.complete = completeness(c.complete, f, len(seg.Payload()))
	if f.Has(wire.SYN) && f&(wire.RST|wire.FIN) != 0 {
		c.find(FindingInvalidFlags, p, fmt.Sprintf("%s sent %s with flags %v: SYN together with %s is not a "+
			"segment any TCP sends (a scan, or a corrupted packet); read as %s", c.name(d), pkts(p.num), f,
			contradicting(f), readAs(f)), p.num)
	}
	if f.Has(wire.RST) {
		c.onRST(p, d, seg)
		return
	}
	if f.Has(wire.ACK) && !f.Has(wire.SYN) && c.inSynSent(1-d) && !c.acksSYN(1-d, seg.Ack()) {
		c.onStaleACK(p, d, seg)
		return
	}
	if f.Has(wire.SYN) {
		c.onSYN(p, d, seg)
	}
	c.onSeq(p, d, seg)
	if f.Has(wire.ACK) {
		c.onACK(p, d, seg.Ack())
	}
	c.onWindow(p, d, seg)
}

func (c *tcpConn) onSYN(p *pkt, d int, seg wire.TCP) {
	s := &c.s[d]
	if seg.Flags().Has(wire.ACK) {
		if s.synAckPkt == 0 {
			s.synAckPkt = p.num
		}
	} else {
		s.synCount++
		s.synPkts = addPkt(s.synPkts, p.num)
	}
	if !s.haveISN {
		s.haveISN, s.isn = true, seg.Seq()
	}
}

// onSeq follows the sequence space the segment occupies (RFC 9293 §3.4):
// retransmissions, new data, data after FIN and the FIN itself.
func (c *tcpConn) onSeq(p *pkt, d int, seg wire.TCP) {
	s, peer := &c.s[d], &c.s[1-d]
	f, seq, n := seg.Flags(), seg.Seq(), len(seg.Payload())
	segLen := seg.SegLen()
	if segLen == 0 {
		return
	}
	end := seq.Add(segLen)
	if s.haveNxt && end.LessThanEq(s.nxt) {
		if !f.Has(wire.SYN) { // SYN retries are counted as setup retries
			s.dir.Retransmissions++
			s.retransPkts = addPkt(s.retransPkts, p.num)
		}
	} else {
		s.haveNxt, s.nxt = true, end
	}
	dataStart := seq
	if f.Has(wire.SYN) {
		dataStart = seq.Add(1)
	}
	if n > 0 {
		dataEnd := dataStart.Add(seqnum.Size32(n))
		if !s.haveData || s.dataEnd.LessThan(dataEnd) {
			fresh := int64(dataEnd.Sub(dataStart))
			if s.haveData && dataStart.LessThan(s.dataEnd) {
				fresh = int64(dataEnd.Sub(s.dataEnd))
			}
			s.newData += fresh
			s.haveData, s.dataEnd = true, dataEnd
			s.dataPkts = addPkt(s.dataPkts, p.num)
			if peer.fin {
				s.dataAfterPeerFIN = addPkt(s.dataAfterPeerFIN, p.num)
			}
		}
		if s.fin && s.finSeq.LessThan(dataEnd) && s.dataAfterFINPkt == 0 {
			s.dataAfterFINPkt = p.num
			c.find(FindingDataAfterFIN, p, c.name(d)+" sent data beyond its own FIN ("+pkts(s.finPkt)+
				"): a FIN ends the sender's byte stream for good (RFC 9293 §3.6)", s.finPkt, p.num)
		}
	}
	if f.Has(wire.FIN) && !s.fin {
		s.fin, s.finSeq, s.finPkt = true, dataStart.Add(seqnum.Size32(n)), p.num
		s.peerDataAtFIN = peer.newData
	}
}

// onACK records what side d acknowledged, including the peer's FIN.
func (c *tcpConn) onACK(p *pkt, d int, ack seqnum.V32) {
	s, peer := &c.s[d], &c.s[1-d]
	if !s.haveAck || s.ack.LessThan(ack) {
		s.haveAck, s.ack = true, ack
	}
	if peer.haveISN && s.ackedSYNPkt == 0 && peer.isn.LessThan(ack) {
		s.ackedSYNPkt = p.num
	}
	if peer.fin && peer.finAckPkt == 0 && peer.finSeq.LessThan(ack) {
		peer.finAckPkt = p.num
	}
}

// onWindow notices zero-window stalls: a receiver whose buffer is full
// advertises a zero window and the sender must probe (RFC 9293 §3.8.6.1).
func (c *tcpConn) onWindow(p *pkt, d int, seg wire.TCP) {
	s := &c.s[d]
	if seg.Flags().Has(wire.SYN) {
		return
	}
	if seg.Window() == 0 {
		s.dir.ZeroWindows++
		if s.zwStart == 0 {
			s.zwStart = p.num
		}
		return
	}
	if s.zwStart != 0 {
		c.find(FindingZeroWindow, p, c.name(d)+" advertised a zero window from "+pkts(s.zwStart)+
			" until "+pkts(p.num)+": "+c.name(1-d)+" could not send", s.zwStart, p.num)
		s.zwStart = 0
	}
}

// find records a finding triggered by packet p.
func (c *tcpConn) find(kind string, p *pkt, summary string, list ...int) {
	if len(list) > maxListed {
		list = list[:maxListed]
	}
	c.findings = append(c.findings, Finding{Kind: kind, Summary: summary, Packets: list, TimeNs: p.t})
}
