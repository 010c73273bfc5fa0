package analyze

import (
	"fmt"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file reads what answers a SYN as RFC 9293 §3.10.7.3 (SYN-SENT)
// says the SYN's sender reads it: only an ACK of the SYN counts, so an RST
// that does not acknowledge it is ignored, and an ACK of something else
// (an earlier connection on the same ports, still held by the peer in
// TIME-WAIT) is answered by RST and the SYN tried again.

// inSynSent reports whether side d is, as far as the capture shows, in
// SYN-SENT: it sent a SYN and the peer has answered with neither a SYN nor
// an acceptable ACK.
func (c *tcpConn) inSynSent(d int) bool {
	s, peer := &c.s[d], &c.s[1-d]
	return s.synCount > 0 && s.synAckPkt == 0 && peer.synCount == 0 && peer.synAckPkt == 0 && !peer.haveAck
}

// acksSYN reports whether ack is acceptable for side d's SYN: ISS <
// SEG.ACK =< SND.NXT (RFC 9293 §3.10.7.3).
func (c *tcpConn) acksSYN(d int, ack seqnum.V32) bool {
	s := &c.s[d]
	return s.haveISN && s.isn.LessThan(ack) && ack.LessThanEq(s.nxt)
}

// onStaleACK handles an ACK from side d that does not acknowledge the
// peer's SYN. Its numbers belong to another connection, so they are kept
// apart from this one's.
func (c *tcpConn) onStaleACK(p *pkt, d int, seg wire.TCP) {
	s := &c.s[d]
	if s.staleAckPkt == 0 {
		s.staleAckPkt, s.staleAck = p.num, seg.Ack()
	}
}

// onSynRST handles an RST while one side is in SYN-SENT and reports
// whether it did: an RST to the SYN that does not acknowledge it is
// ignored, one that does refuses the connection (RFC 9293 §3.10.7.1 and
// §3.10.7.3); an RST from the SYN's sender answering a stale ACK keeps the
// attempt alive, any other from it gives the attempt up.
func (c *tcpConn) onSynRST(p *pkt, d int, seg wire.TCP) bool {
	s, peer := &c.s[d], &c.s[1-d]
	switch {
	case c.inSynSent(1 - d):
		if f := seg.Flags(); !f.Has(wire.ACK) || !c.acksSYN(1-d, seg.Ack()) {
			why := "carries no ACK"
			if f.Has(wire.ACK) {
				why = fmt.Sprintf("acknowledges %d where the SYN needs %d", uint32(seg.Ack()), uint32(peer.isn.Add(1)))
			}
			c.find(FindingRSTNotAcceptable, p, fmt.Sprintf("RST %s from %s %s: %s in SYN-SENT ignores it "+
				"(RFC 9293 §3.10.7.3), so it refused nothing; an injected RST, or one meant for an earlier connection",
				pkts(p.num), c.name(d), why, c.name(1-d)), append(append([]int(nil), peer.synPkts...), p.num)...)
			return true
		}
		s.rstPkt = p.num
		c.refused = true
		c.rst = &tcpRST{pkt: p.num, t: p.t, by: d, state: "CLOSED"}
		return true
	case c.inSynSent(d):
		if peer.staleAckPkt != 0 && seg.Seq() == peer.staleAck && s.staleRSTPkt == 0 {
			s.staleRSTPkt = p.num // §3.10.7.3: <SEQ=SEG.ACK><CTL=RST>, then retry
			return true
		}
		s.rstPkt = p.num
		c.rst = &tcpRST{pkt: p.num, t: p.t, by: d, state: "SYN-SENT"}
		return true
	}
	return false
}

// staleSummary says how a stale ACK answered the client's SYN.
func (c *tcpConn) staleSummary() string {
	cs, ss := &c.s[c.client], &c.s[1-c.client]
	s := fmt.Sprintf("answered by ACK %s (stale TIME-WAIT): it acknowledges %d, not the SYN's %d, so the server "+
		"still held an earlier connection on these ports", pkts(ss.staleAckPkt), uint32(ss.staleAck), uint32(cs.isn.Add(1)))
	if cs.staleRSTPkt != 0 {
		s += "; the client reset it " + pkts(cs.staleRSTPkt) + " (RFC 9293 §3.10.7.3)"
	}
	return s
}

// contradicting names what a SYN was sent with: "RST", "FIN" or "RST and FIN".
func contradicting(f wire.TCPFlags) string {
	switch {
	case f.Has(wire.RST | wire.FIN):
		return "RST and FIN"
	case f.Has(wire.RST):
		return "RST"
	}
	return "FIN"
}

// readAs says how analyze reads a segment with contradicting flags.
func readAs(f wire.TCPFlags) string {
	if f.Has(wire.RST) {
		return "an RST (RFC 9293 §3.10.7 checks RST before SYN)"
	}
	return "a SYN carrying a FIN"
}
