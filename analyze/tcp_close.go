package analyze

import (
	"fmt"

	"github.com/teardown-lab/teardown/internal/wire"
)

// onRST handles a reset from side d. The first RST ends the connection;
// what the packets said up to that moment decides the findings.
func (c *tcpConn) onRST(p *pkt, d int, seg wire.TCP) {
	s, peer := &c.s[d], &c.s[1-d]
	if c.rst != nil {
		c.rst.more = addPkt(c.rst.more, p.num)
		return
	}
	if c.onSynRST(p, d, seg) {
		return
	}
	s.rstPkt = p.num
	c.rst = &tcpRST{pkt: p.num, t: p.t, by: d, state: c.stateOf(d)}
	if c.c.Packets == 1 && !c.first.Has(wire.SYN) {
		c.rst.state = "unknown" // the RST is all the capture has of it
	}
	ack, haveAck := s.ack, s.haveAck
	if seg.Flags().Has(wire.ACK) && (!haveAck || ack.LessThan(seg.Ack())) {
		ack, haveAck = seg.Ack(), true
	}
	var unacked int64
	if peer.haveData && (!haveAck || ack.LessThan(peer.dataEnd)) {
		unacked = peer.newData
		if haveAck && peer.dataEnd.Sub(ack) < int32(min(peer.newData, 1<<30)) {
			unacked = int64(peer.dataEnd.Sub(ack))
		}
	}
	c.rst.unacked = unacked
	me, them := c.name(d), c.name(1-d)
	if s.fin {
		c.find(FindingRSTAfterFIN, p, fmt.Sprintf("%s sent RST %s after its own FIN %s: it shut down "+
			"sending, then closed with data unread or got data after close", me, pkts(p.num), pkts(s.finPkt)),
			s.finPkt, p.num)
	}
	afterClose := s.fin && len(peer.dataAfterPeerFIN) > 0
	if afterClose {
		c.find(FindingRSTToDataAfterClose, p, fmt.Sprintf("%s sent data after %s's FIN %s, and %s "+
			"answered with RST %s: data reaching an application that has closed is refused (RFC 2525 §2.17)",
			them, me, pkts(s.finPkt), me, pkts(p.num)), append(append([]int{s.finPkt}, peer.dataAfterPeerFIN...), p.num)...)
	}
	received := peer.newData
	if s.fin {
		received = s.peerDataAtFIN // data after our FIN is the case above
	}
	if received > 0 || unacked > 0 && !afterClose {
		c.find(FindingRSTUnreadData, p, c.unreadSummary(d, received, unacked, p.num),
			append(append([]int(nil), peer.dataPkts...), p.num)...)
	}
	if d == c.client && s.fin && !peer.fin {
		c.find(FindingClientClosedEarly, p, fmt.Sprintf("client sent FIN %s and then RST %s without "+
			"waiting for the server's FIN: it cannot know whether its data was delivered and read",
			pkts(s.finPkt), pkts(p.num)), s.finPkt, p.num)
	}
}

// unreadSummary words the RFC 2525 §2.17 finding for an RST from side d.
func (c *tcpConn) unreadSummary(d int, received, unacked int64, rst int) string {
	me, them := c.name(d), c.name(1-d)
	if unacked > 0 {
		return fmt.Sprintf("RST from %s %s with %s of %s's data still unacknowledged: "+
			"close with unread data (RFC 2525 §2.17); the data is discarded and %s's reads fail "+
			"with \"connection reset\"", me, pkts(rst), plural(int(unacked), "byte"), them, them)
	}
	return fmt.Sprintf("RST from %s %s after it had acknowledged %s of %s's data, instead of "+
		"a FIN: the signature of a close with unread data (RFC 2525 §2.17), or an abortive "+
		"close (SO_LINGER 0); %s's pending reads fail with \"connection reset\"", me, pkts(rst), plural(int(received), "byte"), them, them)
}

// stateOf infers side d's TCP state (RFC 9293 §3.3.2 names) from the
// packets seen so far.
func (c *tcpConn) stateOf(d int) string {
	s, peer := &c.s[d], &c.s[1-d]
	switch {
	case s.synCount > 0 && peer.synAckPkt == 0 && peer.synCount == 0:
		return "SYN-SENT"
	case s.synAckPkt > 0 && peer.ackedSYNPkt == 0:
		return "SYN-RECEIVED"
	case s.fin && peer.fin && s.finPkt < peer.finPkt:
		if s.finAckPkt != 0 {
			return "TIME-WAIT"
		}
		return "CLOSING"
	case s.fin && peer.fin:
		if s.finAckPkt != 0 {
			return "CLOSED"
		}
		return "LAST-ACK"
	case s.fin && s.finAckPkt != 0:
		return "FIN-WAIT-2"
	case s.fin:
		return "FIN-WAIT-1"
	case peer.fin:
		return "CLOSE-WAIT"
	}
	return "ESTABLISHED"
}

// finish classifies setup and ending and collects the findings.
func (c *tcpConn) finish() *Connection {
	out := c.c
	out.Setup = c.setup()
	out.Ending = c.ending()
	cs := &c.s[c.client]
	out.ConnState = c.zeek.connState(cs.newData, c.s[1-c.client].newData)
	out.History = string(c.zeek.history)
	out.Completeness = new(int)
	*out.Completeness = c.complete
	out.ClosedFirst = c.closedFirst()
	out.Verdict, out.VerdictText = c.verdict(out.Ending)
	out.Findings = append([]Finding(nil), c.findings...)
	for d := range c.s {
		s := &c.s[d]
		if s.zwStart != 0 {
			out.Findings = append(out.Findings, Finding{Kind: FindingZeroWindow, Packets: []int{s.zwStart},
				Summary: c.name(d) + " advertised a zero window from " + pkts(s.zwStart) +
					" to the end of the capture: " + c.name(1-d) + " could not send"})
		}
		if s.fin && s.finAckPkt == 0 && c.rst == nil {
			out.Findings = append(out.Findings, Finding{Kind: FindingFINUnacked, Packets: []int{s.finPkt},
				Summary: "the FIN of " + c.name(d) + " " + pkts(s.finPkt) + " was never acknowledged"})
		}
	}
	ss := &c.s[1-c.client]
	if n := cs.dir.Retransmissions + ss.dir.Retransmissions; n > 0 {
		list := append(append([]int(nil), cs.retransPkts...), ss.retransPkts...)
		if len(list) > maxListed {
			list = list[:maxListed]
		}
		out.Findings = append(out.Findings, Finding{Kind: FindingRetransmissions, Packets: list,
			Summary: fmt.Sprintf("%s (client %d, server %d)", plural(n, "retransmission"), cs.dir.Retransmissions, ss.dir.Retransmissions)})
	}
	if out.Findings == nil {
		out.Findings = []Finding{}
	}
	return &out
}

// setup classifies how the connection started.
func (c *tcpConn) setup() Setup {
	cs, ss := &c.s[c.client], &c.s[1-c.client]
	st := Setup{Retries: max(cs.synCount-1, 0), Packets: append([]int(nil), cs.synPkts...)}
	switch {
	case !c.first.Has(wire.SYN):
		st.Kind, st.Retries = SetupMidStream, 0
		st.Summary = "no handshake: the capture started after it (client and server guessed from the ports)"
	case cs.synCount > 0 && ss.synCount > 0:
		st.Kind = SetupSimultaneousOpen
		st.Packets = append(st.Packets, ss.synPkts...)
		st.Summary = "simultaneous open: both sides sent SYN " + pkts(st.Packets...)
	case c.refused:
		st.Kind = SetupRefused
		st.Packets = append(st.Packets, c.rst.pkt)
		st.Summary = "SYN answered by RST " + pkts(c.rst.pkt) + " (nothing listening on " + c.c.Server + ")"
	case ss.synAckPkt == 0 && ss.staleAckPkt != 0:
		st.Kind = SetupAnsweredByACK
		st.Packets = append(st.Packets, ss.staleAckPkt)
		if cs.staleRSTPkt != 0 {
			st.Packets = append(st.Packets, cs.staleRSTPkt)
		}
		st.Summary = "SYN " + c.staleSummary()
	case ss.synAckPkt == 0:
		st.Kind = SetupUnanswered
		st.Summary = "SYN never answered (" + plural(st.Retries, "retransmission") + ")"
	case cs.ackedSYNPkt == 0:
		st.Kind = SetupIncomplete
		st.Packets = append(st.Packets, ss.synAckPkt)
		st.Summary = "SYN-ACK " + pkts(ss.synAckPkt) + " never acknowledged by the client"
	default:
		st.Kind = SetupHandshake
		st.Packets = append(st.Packets, ss.synAckPkt, cs.ackedSYNPkt)
		st.Summary = "three-way handshake " + pkts(st.Packets...) + ", client " + c.c.Client
		if cs.synCount == 0 {
			st.Summary += " (its SYN was not captured)"
		}
	}
	switch {
	case st.Retries > 0 && st.Kind == SetupAnsweredByACK:
		st.Summary += "; " + plural(st.Retries, "SYN retransmission") + " unanswered"
	case st.Retries > 0 && st.Kind != SetupUnanswered:
		st.Summary += " after " + plural(st.Retries, "SYN retransmission")
	}
	if st.Kind == SetupHandshake && ss.staleAckPkt != 0 {
		st.Summary += "; the SYN was first " + c.staleSummary()
	}
	return st
}

// gaveUp reports whether the connection ended by an RST from the side
// whose SYN was never answered.
func (c *tcpConn) gaveUp() bool { return c.rst != nil && !c.refused && c.rst.state == "SYN-SENT" }

// ending classifies how the connection ended.
func (c *tcpConn) ending() Ending {
	cs, ss := &c.s[c.client], &c.s[1-c.client]
	switch {
	case c.refused || c.gaveUp() || (c.rst == nil && cs.synCount > 0 && ss.synAckPkt == 0 && ss.synCount == 0):
		e := Ending{Kind: EndNeverEstablished, Packets: []int{}, Summary: "never established"}
		switch {
		case c.refused:
			e.By, e.Packets = c.name(c.rst.by), []int{c.rst.pkt}
			e.Summary = "never established: refused by RST from " + e.By + " " + pkts(c.rst.pkt)
		case c.rst != nil:
			e.By, e.Packets = c.name(c.rst.by), []int{c.rst.pkt}
			e.Summary = "never established: the " + e.By + " gave up with RST " + pkts(c.rst.pkt) + " in SYN-SENT"
		case cs.staleRSTPkt != 0:
			e.Packets = []int{cs.staleRSTPkt}
			e.Summary = "never established: the SYN was answered by a stale ACK, reset, and not seen answered again"
		}
		return e
	case c.rst != nil:
		by := c.name(c.rst.by)
		e := Ending{Kind: EndRST, By: by, State: c.rst.state, Packets: append([]int{c.rst.pkt}, c.rst.more...)}
		e.Summary = fmt.Sprintf("RST from %s %s in %s", by, pkts(c.rst.pkt), c.rst.state)
		peer := &c.s[1-c.rst.by]
		if u := c.rst.unacked; u > 0 {
			e.Summary += fmt.Sprintf(" while %s's data (%s) was unacknowledged", c.name(1-c.rst.by), plural(int(u), "byte"))
		} else if peer.newData > 0 {
			e.Summary += fmt.Sprintf(" after %s had sent it %s", c.name(1-c.rst.by), plural(int(peer.newData), "byte"))
		}
		return e
	case cs.fin && ss.fin:
		first, second := cs, ss
		if ss.finPkt < cs.finPkt {
			first, second = ss, cs
		}
		e := Ending{Kind: EndFIN, By: c.name(side(c.s[0].addr, first.addr)), Clean: cs.finAckPkt != 0 && ss.finAckPkt != 0}
		e.Packets = []int{first.finPkt, second.finPkt}
		e.Summary = fmt.Sprintf("FIN both ways: %s first %s, then %s %s", e.By, pkts(first.finPkt),
			c.name(side(c.s[0].addr, second.addr)), pkts(second.finPkt))
		if e.Clean {
			e.Summary += ", both acknowledged"
		} else {
			e.Summary += ", not both acknowledged"
		}
		return e
	case cs.fin || ss.fin:
		s := cs
		if ss.fin {
			s = ss
		}
		by := c.name(side(c.s[0].addr, s.addr))
		return Ending{Kind: EndHalfClosed, By: by, Packets: []int{s.finPkt},
			Summary: "half-closed: only " + by + " sent FIN " + pkts(s.finPkt) + "; still open the other way when the capture ended"}
	}
	return Ending{Kind: EndOpen, Packets: []int{},
		Summary: "no FIN or RST: still open (or silently timed out) when the capture ended, last packet " + pkts(c.c.LastPacket)}
}
