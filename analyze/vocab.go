package analyze

import (
	"fmt"

	"github.com/teardown-lab/teardown/internal/wire"
)

// Wireshark's tcp.completeness bits (epan/dissectors/packet-tcp.c): what
// the conversation was seen to contain.
const (
	CompleteSYN    = 1  // a SYN
	CompleteSYNACK = 2  // a SYN-ACK
	CompleteACK    = 4  // an ACK after the SYN-ACK
	CompleteData   = 8  // payload
	CompleteFIN    = 16 // a FIN
	CompleteRST    = 32 // an RST
)

// completeness updates Wireshark's bitmask with one segment: SYN and
// SYN-ACK by their flags, ACK for any segment with ACK but not SYN (as
// tshark 4.0 sets it: a SYN then a pure ACK gives 5), data for payload,
// RST by its flag, FIN only on a segment that also carries ACK (tshark
// gives 1, not 17, for a SYN answered by a bare FIN). The rules were read
// off tshark 4.0's answers on the flag corpus (docs/analyze.md).
func completeness(bits int, f wire.TCPFlags, n int) int {
	switch {
	case f.Has(wire.SYN | wire.ACK):
		bits |= CompleteSYNACK
	case f.Has(wire.SYN):
		bits |= CompleteSYN
	case f.Has(wire.ACK):
		bits |= CompleteACK
	}
	if n > 0 {
		bits |= CompleteData
	}
	if f.Has(wire.FIN | wire.ACK) {
		bits |= CompleteFIN
	}
	if f.Has(wire.RST) {
		bits |= CompleteRST
	}
	return bits
}

// Verdict kinds: our own reading of how a TCP connection ended, named only
// as far as the capture shows it.
const (
	VerdictGraceful          = "graceful"            // FIN both ways, both acknowledged
	VerdictFINUnacked        = "fin_unacknowledged"  // FIN both ways, not both acknowledged in the capture
	VerdictHalfClosed        = "half_closed"         // one FIN, the other way still open at the end of the capture
	VerdictOpen              = "open"                // no FIN or RST
	VerdictRefused           = "refused"             // SYN answered by RST
	VerdictUnanswered        = "unanswered"          // SYN never answered
	VerdictAnsweredByACK     = "answered_by_ack"     // SYN answered only by a stale connection's ACK (the peer's TIME-WAIT)
	VerdictRSTUnread         = "rst_unread_data"     // RST while the peer's bytes were unacknowledged: proven unread (RFC 2525 §2.17)
	VerdictRSTAfterPeerData  = "rst_after_peer_data" // RST after the peer's data, all acknowledged: unread, or linger 0; the capture cannot tell
	VerdictRSTAfterFIN       = "rst_after_fin"       // RST after the sender's own FIN with the peer's data unread or arriving after it
	VerdictRSTAfterOwnFIN    = "rst_after_own_fin"   // RST after the sender's own FIN, no data of the peer involved
	VerdictAbortiveClose     = "abortive_close"      // RST without FIN, the peer sent no data: nothing could be unread
	VerdictResetBeforeAccept = "reset_before_accept" // the server reset a completed handshake before either side sent anything
	VerdictStateUnknown      = "state_unknown"       // the handshake was not captured
)

// closedFirst returns who sent the first FIN or RST ("client", "server"),
// or "" when neither did.
func (c *tcpConn) closedFirst() string {
	first, by := 0, -1
	for d := range c.s {
		for _, n := range []int{c.s[d].finPkt, c.s[d].rstPkt} {
			if n != 0 && (first == 0 || n < first) {
				first, by = n, d
			}
		}
	}
	if by < 0 {
		return ""
	}
	return c.name(by)
}

// verdict says how the connection ended, in our words.
func (c *tcpConn) verdict(e Ending) (kind, text string) {
	if !c.first.Has(wire.SYN) {
		return VerdictStateUnknown, "state unknown: the handshake was not captured (" + e.Summary + ")"
	}
	switch e.Kind {
	case EndNeverEstablished:
		switch {
		case c.refused:
			return VerdictRefused, "refused: SYN answered by RST"
		case c.s[1-c.client].staleAckPkt != 0:
			return VerdictAnsweredByACK, "SYN " + c.staleSummary()
		case c.gaveUp():
			return VerdictUnanswered, "SYN never answered; the client gave up with RST " + pkts(c.rst.pkt)
		}
		return VerdictUnanswered, "SYN never answered"
	case EndFIN:
		if e.Clean {
			return VerdictGraceful, "graceful close: FIN both ways, both acknowledged; " + e.By + " closed first"
		}
		return VerdictFINUnacked, "FIN both ways, not both acknowledged in the capture; " + e.By + " closed first"
	case EndHalfClosed:
		return VerdictHalfClosed, "half-closed by " + e.By + ": the other way still open at the end of the capture"
	case EndOpen:
		return VerdictOpen, "no FIN or RST: open, or silently gone, when the capture ended"
	}
	return c.rstVerdict()
}

// rstVerdict reads the RST that ended the connection.
func (c *tcpConn) rstVerdict() (kind, text string) {
	r := c.rst
	s, peer := &c.s[r.by], &c.s[1-r.by]
	me, them := c.name(r.by), c.name(1-r.by)
	switch {
	case s.fin && (r.unacked > 0 || len(peer.dataAfterPeerFIN) > 0):
		return VerdictRSTAfterFIN, fmt.Sprintf("RST after FIN: shutdown then close with unread data "+
			"(%s sent FIN %s, then RST %s with %s's data unread or arriving after its FIN)", me, pkts(s.finPkt), pkts(r.pkt), them)
	case s.fin:
		return VerdictRSTAfterOwnFIN, fmt.Sprintf("RST after FIN: %s sent FIN %s, then RST %s; no data of %s's "+
			"was pending in the capture", me, pkts(s.finPkt), pkts(r.pkt), them)
	case r.unacked > 0:
		return VerdictRSTUnread, fmt.Sprintf("RST with %s unread (RFC 2525 §2.17): %s reset %s "+
			"while %s's bytes were unacknowledged", plural(int(r.unacked), "byte"), me, pkts(r.pkt), them)
	case peer.newData > 0:
		return VerdictRSTAfterPeerData, fmt.Sprintf("rst_after_peer_data: %s reset %s after acknowledging %s "+
			"of %s's: unread data or an abortive close (linger 0), the capture cannot tell", me, pkts(r.pkt), plural(int(peer.newData), "byte"), them)
	case r.by != c.client && s.newData == 0 && c.rst.state == "ESTABLISHED" || r.state == "SYN-RECEIVED" && r.by != c.client:
		return VerdictResetBeforeAccept, fmt.Sprintf("reset before accept: the server reset %s having sent "+
			"nothing after its SYN-ACK, and the client had sent no data", pkts(r.pkt))
	}
	return VerdictAbortiveClose, fmt.Sprintf("abortive close (linger 0): %s reset %s with no FIN, and %s "+
		"had sent no data that could be unread", me, pkts(r.pkt), them)
}
