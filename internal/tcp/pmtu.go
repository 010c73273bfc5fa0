package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// What the network says about a connection through ICMP reaches the core
// here, already parsed and matched to the connection by the host: the
// host knows the IP version, so it turns a reported MTU into a segment
// size, and it maps ICMP codes to errors. The core checks what only it can
// check — that the quoted segment is one it has in flight (RFC 5927 §4.1:
// an attacker who cannot see the connection's sequence space cannot forge
// a quote that passes) — and acts on it.

// InFlight reports whether seq, the sequence number of a segment an ICMP
// error quotes, lies in what this end has sent and not yet seen
// acknowledged: SND.UNA <= seq < SND.MAX (RFC 5927 §4.1; SND.MAX rather
// than SND.NXT, which goes back after a timeout while the later segments
// are still on the path). A connection with nothing in flight accepts no
// quote.
func (c *Conn) InFlight(seq seqnum.V32) bool {
	switch c.state {
	case Closed, Listen, TimeWait:
		return false
	}
	return seq.InRange(c.sndUna, c.sndMax)
}

// HandlePathMTU takes a Packet Too Big (ICMPv6, RFC 8201 §4) or a
// Fragmentation Needed (ICMP, RFC 1191 §3) for the segment beginning at
// quoted: the path carries segments of at most pathMSS bytes (the reported
// MTU less the IP and TCP fixed headers). It reports whether the send MSS
// went down.
//
// A quote outside the flight is ignored (the host counts it), as is an
// MSS no smaller than the current one (RFC 8201 §4: a PMTU is only
// lowered by a PTB) or below Config.MinSendMSS: an IPv4 path of 68 bytes
// (RFC 791's minimum MTU, which RFC 1191 §3 says a host must accept)
// leaves 28 bytes of segment, too few to be worth it, and Linux refuses to
// go below tcp_min_snd_mss, 48, as the peer's MSS option does. Otherwise
// the MSS shrinks and what is in flight is sent again at the new size at
// once, without taking the loss as congestion: the segments were dropped
// for their size, not by a queue (Linux: tcp_simple_retransmit).
func (c *Conn) HandlePathMTU(now clock.Instant, pathMSS int, quoted seqnum.V32) bool {
	if !c.InFlight(quoted) || pathMSS < c.cfg.MinSendMSS || c.state == SynSent {
		return false // in SYN-SENT only the SYN is out, and the SYN-ACK sets the MSS anew
	}
	mss := pathMSS
	if c.tsOK {
		mss -= wire.TCPTimestampRoom
	}
	if mss >= c.sndMSS {
		return false
	}
	c.sndMSS = mss
	c.cc.SetMSS(mss)
	if c.lr != nil {
		c.lr.sb.SetSMSS(mss)
	}
	if c.state == SynReceived || c.sndUna == c.sndMax {
		return true // a SYN is small: nothing to resend at the new size
	}
	c.rttTiming = false // Karn's rule: what follows is a retransmission
	if c.sackOK {
		c.recovery()
		c.lr.sb.Update(c.sndUna, c.sndMax, nil)
		c.lr.sb.OnRetransmitTimeout(true)
		c.dupAcks = 0
		c.lr.rack.reset()
		c.tlpActive, c.tlpPending = false, false
	} else {
		c.inRecovery = false
		c.recover = c.sndMax
		c.dupAcks = 0
		c.sndNxt = c.sndUna
	}
	c.armRTO(now)
	return true
}

// HandleHardError takes an ICMP error the host judged hard for an opening
// connection (port or protocol unreachable, administratively prohibited:
// RFC 1122 §4.2.3.9; which codes are hard is Linux's icmp_err_convert)
// quoting the segment at quoted. In SYN-SENT it ends the connection with
// err, which Read, Write and the dial then return; in every other state
// it reports false and the host keeps the error as a soft one (RFC 1122
// §4.2.3.9: a hard error must not abort an established connection on its
// own; Linux does so only under IP_RECVERR). A quote outside the flight is
// ignored.
func (c *Conn) HandleHardError(now clock.Instant, err error, quoted seqnum.V32) bool {
	if c.state != SynSent || !c.InFlight(quoted) {
		return false
	}
	c.err = err
	c.end(now, EndRefused, "ICMP: destination unreachable")
	c.setState(now, Closed, "ICMP destination unreachable")
	return true
}
