package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// TIME-WAIT, all of its policy in this file: how long it lasts and what
// restarts it, what an RST does to it (RFC 1337), and when a SYN may end
// it early by opening a new incarnation of the 4-tuple (RFC 6191). The
// rest of the core only calls these methods; the host asks Reincarnate.

// pawsIdle is RFC 7323 §5.5's limit: a TS.Recent older than 24 days is no
// longer valid for PAWS.
const pawsIdle = 24 * 24 * 3600 * 1e9

// enterTimeWait is setState's entry action for TIME-WAIT: every timer but
// 2*MSL's is dropped (RFC 9293 §3.10.7.4: the connection only waits and
// acknowledges), and the connection ended gracefully.
func (c *Conn) enterTimeWait(now clock.Instant) {
	c.timers = timers{}
	c.restartTimeWait(now)
	c.rtxPending, c.probePending, c.keepalivePending = false, false, false
	c.events |= EventTimeWait | EventReadable | EventWritable
	c.end(now, EndGraceful, "FIN exchanged both ways; TIME-WAIT")
}

// restartTimeWait (re)arms TIME-WAIT's one timer: 2*MSL from now (RFC 9293
// §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN restarts it).
func (c *Conn) restartTimeWait(now clock.Instant) {
	c.timers.timeWait = now.Add(2 * c.cfg.MSL)
}

// endTimeWait runs when the timer expires (HandleTimer): the connection is
// CLOSED and the host forgets it.
func (c *Conn) endTimeWait(now clock.Instant) {
	c.setState(now, Closed, "2*MSL elapsed in TIME-WAIT")
}

// timeWaitFIN handles an unacceptable segment s in TIME-WAIT: a
// retransmission of the peer's FIN, which an ACK answers (already queued
// by the caller), restarts 2*MSL.
func (c *Conn) timeWaitFIN(now clock.Instant, s *Segment, n seqnum.Size32) {
	if s.Flags&wire.FIN != 0 && s.Seq.Add(n) == c.rcvNxt {
		c.restartTimeWait(now)
	}
}

// timeWaitRST handles an acceptable RST in TIME-WAIT. Linux (and RFC 9293)
// let it close the connection at once; a profile with IgnoreRSTInTimeWait
// refuses this "TIME-WAIT assassination" (RFC 1337 §3, fix R1) and keeps
// waiting.
func (c *Conn) timeWaitRST(now clock.Instant) {
	if c.cfg.Profile.IgnoreRSTInTimeWait {
		return
	}
	c.setState(now, Closed, "rcvd RST in TIME-WAIT")
}

// Reincarnate decides whether seg, a segment for this connection's 4-tuple
// that reached a listening port, opens a new incarnation while this one is
// in TIME-WAIT (RFC 9293 §3.10.7.4's note, RFC 1122 §4.2.2.13, RFC 6191).
// On true the host forgets this Conn and opens the new one passively
// (NewPassive) with the returned ISS: beyond every sequence number this
// incarnation used (nextIncarnationISS), or fresh, the host's own choice
// (ISNGenerator), when that is larger. On false the host hands seg to this
// Conn, which answers it with a challenge ACK (RFC 5961 §4). Reincarnate
// changes nothing.
func (c *Conn) Reincarnate(now clock.Instant, seg *Segment, fresh seqnum.V32) (iss seqnum.V32, ok bool) {
	if !c.acceptsNewSYN(now, seg) {
		return 0, false
	}
	iss = c.nextIncarnationISS()
	if iss.LessThan(fresh) {
		iss = fresh
	}
	return iss, true
}

// acceptsNewSYN is Reincarnate's rule, Linux's: a SYN without ACK or RST
// whose timestamp does not fail PAWS against TS.Recent (RFC 7323 §5), and
// whose sequence number lies beyond RCV.NXT or whose timestamp is newer
// than TS.Recent. RFC 6191 §2 differs in one corner: after an incarnation
// that did not use timestamps it accepts any SYN that carries one, where
// Linux (and this) still asks for a sequence number beyond RCV.NXT.
func (c *Conn) acceptsNewSYN(now clock.Instant, seg *Segment) bool {
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

// nextIncarnationISS returns an ISS for a new incarnation of this
// connection's 4-tuple that lies beyond every sequence number this one
// used, by more than a maximal unscaled window, as Linux chooses it
// (SND.NXT + 65535 + 2, never 0): RFC 1122 §4.2.2.13's first condition for
// reopening from TIME-WAIT.
func (c *Conn) nextIncarnationISS() seqnum.V32 {
	iss := c.sndMax.Add(wire.TCPMaxWindow + 2)
	if iss == 0 {
		iss++
	}
	return iss
}
