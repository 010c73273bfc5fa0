package analyze

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// maxPending bounds the unacknowledged data packets remembered per side.
const maxPending = 1024

// dccpData is a data-carrying packet not yet acknowledged by the peer.
type dccpData struct {
	num int
	seq seqnum.V48
}

// dccpSide is what one endpoint of a DCCP connection was seen to do.
type dccpSide struct {
	addr netip.AddrPort
	dir  *Direction

	haveSeq bool
	gss     seqnum.V48 // greatest sequence number sent (RFC 4340 §7.1)
	haveAck bool
	gar     seqnum.V48 // greatest acknowledgement sent

	reqPkts     []int
	reqCount    int
	service     uint32
	respPkt     int
	ackedResp   int // the client's first Ack or DataAck after the Response
	pending     []dccpData
	closePkts   []int // Close and CloseReq, in order
	closeCount  int
	closeReqPkt int // first CloseReq
}

// dccpConn tracks one DCCP connection through its packets.
type dccpConn struct {
	c         Connection
	s         [2]dccpSide
	client    int
	first     wire.DCCPType
	lastClose int // side that sent the latest Close or CloseReq, -1 if none
	refused   bool
	reset     *dccpReset
	findings  []Finding
	ct        *ctTracker
}

// dccpReset is the Reset that ended a connection.
type dccpReset struct {
	pkt      int
	by       int
	code     wire.DCCPResetCode
	answered int // packet of the peer's Close or CloseReq it answered, 0 if none
}

func newDCCPConn(p *pkt, t wire.DCCPType) *dccpConn {
	c := &dccpConn{first: t, lastClose: -1, ct: newCTTracker()}
	c.s[0].addr, c.s[1].addr = p.src, p.dst
	switch t {
	case wire.DCCPRequest:
		c.client, c.c.RolesFrom = 0, "handshake"
	case wire.DCCPResponse:
		c.client, c.c.RolesFrom = 1, "handshake"
	default:
		c.client, c.c.RolesFrom = guessClient(p.src, p.dst), "port_guess"
	}
	c.c.Proto = "dccp"
	c.c.Client, c.c.Server = c.s[c.client].addr.String(), c.s[1-c.client].addr.String()
	c.s[c.client].dir, c.s[1-c.client].dir = &c.c.ClientToServer, &c.c.ServerToClient
	c.c.FirstPacket, c.c.StartNs = p.num, p.t
	return c
}

func (c *dccpConn) name(i int) string {
	if i == c.client {
		return "client"
	}
	return "server"
}

// startsNew reports whether a Request begins a new connection on the same
// 4-tuple: the old one was reset, answered, or seen only mid-stream. A
// Request before any answer is a retransmission (RFC 4340 §8.1.1).
func (c *dccpConn) startsNew() bool {
	return c.reset != nil || c.first != wire.DCCPRequest || c.s[1-c.client].respPkt != 0
}

func (a *Analyzer) dccpPacket(p *pkt, ipp wire.IPPacket) {
	d, err := wire.ParseDCCP(ipp.Payload)
	if err != nil {
		a.rep.Counts.BadDCCP++
		return
	}
	if !p.cut && d.VerifyChecksum(ipp.Src, ipp.Dst) != nil {
		a.rep.Counts.BadChecksum++
		if a.opts.DropBadChecksums {
			a.rep.Counts.DroppedBadChecksum++
			return
		}
		p.badSum = true
	}
	p.src = netip.AddrPortFrom(ipp.Src, d.SrcPort())
	p.dst = netip.AddrPortFrom(ipp.Dst, d.DstPort())
	k := keyOf(wire.IPProtoDCCP, p.src, p.dst)
	c := a.dccp[k]
	if c != nil && d.Type() == wire.DCCPRequest && c.startsNew() {
		c = nil
	}
	if c == nil {
		c = newDCCPConn(p, d.Type())
		a.dccp[k] = c
		a.flows = append(a.flows, c)
	}
	c.packet(p, d)
}

// packet updates the connection with one DCCP packet.
func (c *dccpConn) packet(p *pkt, pk wire.DCCP) {
	d := side(c.s[0].addr, p.src)
	s, peer := &c.s[d], &c.s[1-d]
	c.c.Packets++
	c.c.LastPacket, c.c.EndNs = p.num, p.t
	s.dir.Packets++
	n := len(pk.Payload())
	s.dir.DataBytes += int64(n)
	if p.badSum {
		s.dir.BadChecksums++
	}
	seq := pk.Seq()
	if s.haveSeq {
		seq = pk.SeqExtended(s.gss)
	}
	if !s.haveSeq || s.gss.LessThan(seq) {
		s.haveSeq, s.gss = true, seq
	}
	if pk.HasAck() {
		ack := pk.Ack()
		if peer.haveSeq {
			ack = pk.AckExtended(peer.gss)
		}
		if !s.haveAck || s.gar.LessThan(ack) {
			s.haveAck, s.gar = true, ack
		}
		// §7.5.1: the Acknowledgement Number is the greatest sequence
		// number received, so everything up to it has arrived.
		kept := peer.pending[:0]
		for _, x := range peer.pending {
			if ack.LessThan(x.seq) {
				kept = append(kept, x)
			}
		}
		peer.pending = kept
	}
	c.ct.packet(p.num, d, pk.Type())
	c.onType(p, d, pk, seq, n)
}

// onType handles what the packet type means for setup and teardown.
func (c *dccpConn) onType(p *pkt, d int, pk wire.DCCP, seq seqnum.V48, n int) {
	s, peer := &c.s[d], &c.s[1-d]
	switch t := pk.Type(); t {
	case wire.DCCPRequest:
		s.reqCount++
		s.reqPkts = addPkt(s.reqPkts, p.num)
		s.service = pk.ServiceCode()
	case wire.DCCPResponse:
		if s.respPkt == 0 {
			s.respPkt = p.num
		}
	case wire.DCCPData, wire.DCCPDataAck, wire.DCCPAck:
		if t != wire.DCCPData && peer.respPkt != 0 && s.ackedResp == 0 {
			s.ackedResp = p.num
		}
		if n > 0 && len(s.pending) < maxPending {
			s.pending = append(s.pending, dccpData{p.num, seq})
		}
	case wire.DCCPClose, wire.DCCPCloseReq:
		s.closeCount++
		s.closePkts = addPkt(s.closePkts, p.num)
		if t == wire.DCCPCloseReq && s.closeReqPkt == 0 {
			s.closeReqPkt = p.num
		}
		c.lastClose = d
	case wire.DCCPReset:
		c.onReset(p, d, pk)
	}
}

// onReset records the Reset that ends the connection and checks what was
// still in flight when a Close was answered (RFC 4340 §8.3: the receiver
// of a Close answers with Reset; anything unacknowledged then is lost).
func (c *dccpConn) onReset(p *pkt, d int, pk wire.DCCP) {
	if c.reset != nil {
		return
	}
	s, peer := &c.s[d], &c.s[1-d]
	r := &dccpReset{pkt: p.num, by: d, code: pk.ResetCode()}
	c.reset = r
	if s.respPkt == 0 && s.reqCount == 0 && peer.reqCount > 0 && peer.respPkt == 0 {
		c.refused = true
		return
	}
	if c.lastClose != 1-d {
		return
	}
	r.answered = peer.closePkts[len(peer.closePkts)-1]
	var list []int
	for _, x := range s.pending {
		list = addPkt(list, x.num)
	}
	for _, x := range peer.pending {
		list = addPkt(list, x.num)
	}
	if len(list) == 0 {
		return
	}
	list = append(list, r.answered, p.num)
	c.findings = append(c.findings, Finding{Kind: FindingDCCPCloseDataInFlight, TimeNs: p.t, Packets: list,
		Summary: c.name(d) + " answered " + c.name(1-d) + "'s Close " + pkts(r.answered) + " with Reset " +
			pkts(p.num) + " while data packets " + pkts(list[:len(list)-2]...) + " were unacknowledged: " +
			"they are lost (RFC 4340 §8.3)"})
}
