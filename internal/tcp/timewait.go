package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// pawsIdle is RFC 7323 §5.5's limit: a TS.Recent older than 24 days is no
// longer valid for PAWS.
const pawsIdle = 24 * 24 * 3600 * 1e9

// AcceptsNewSYN reports whether seg, a segment for this connection's
// 4-tuple, is a SYN that may open a new incarnation while this one is in
// TIME-WAIT (RFC 9293 §3.10.7.4's note, RFC 1122 §4.2.2.13, RFC 6191). The
// host asks before it hands the segment to the Conn: on true it drops this
// Conn and opens the new one passively (NewPassive, with an ISS above this
// incarnation's, see NextIncarnationISS); on false it hands the segment to
// this Conn, which answers it with a challenge ACK (RFC 5961 §4).
//
// The rule is Linux's: a SYN without ACK or RST whose timestamp does not
// fail PAWS against TS.Recent (RFC 7323 §5), and whose sequence number lies
// beyond RCV.NXT or whose timestamp is newer than TS.Recent. RFC 6191 §2
// differs in one corner: after an incarnation that did not use timestamps
// it accepts any SYN that carries one, where Linux (and this) still asks
// for a sequence number beyond RCV.NXT. AcceptsNewSYN changes nothing.
func (c *Conn) AcceptsNewSYN(now clock.Instant, seg *Segment) bool {
	if c.state != TimeWait || seg.Flags&(wire.SYN|wire.ACK|wire.RST) != wire.SYN {
		return false
	}
	o := &seg.Options
	hasTS := c.tsOK && o.HasTimestamp
	if hasTS && int32(o.TSVal-c.tsRecent) < 0 && now.Sub(c.tsRecentAt) <= pawsIdle {
		return false // an old duplicate by PAWS (RFC 7323 §5.3, §5.5)
	}
	if c.rcvNxt.LessThan(seg.Seq) {
		return true // beyond this incarnation's sequence space (RFC 1122 §4.2.2.13)
	}
	return hasTS && int32(o.TSVal-c.tsRecent) > 0 // a newer clock (RFC 6191 §2)
}

// NextIncarnationISS returns an ISS for a new incarnation of this
// connection's 4-tuple that lies beyond every sequence number this one
// used, by more than a maximal unscaled window, as Linux chooses it
// (SND.NXT + 65535 + 2, never 0): RFC 1122 §4.2.2.13's first condition for
// reopening from TIME-WAIT. A host whose ISNGenerator already gives a
// larger ISS may use that instead.
func (c *Conn) NextIncarnationISS() seqnum.V32 {
	iss := c.sndMax.Add(wire.TCPMaxWindow + 2)
	if iss == 0 {
		iss++
	}
	return iss
}
