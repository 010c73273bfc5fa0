package tcp

import (
	"math"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file is the receiver's choice between an immediate and a delayed
// ACK for in-order data. RFC 9293 §3.8.6.3 (and RFC 5681 §4.2) asks for an
// ACK for at least every second full-sized segment and within 0.5 s;
// within that, we follow Linux (tcp_event_data_recv, __tcp_ack_snd_check,
// tcp_cleanup_rbuf), whose senders expect it: their tail loss probe fires
// after 2*SRTT (RFC 8985 §7.2), far sooner than a 40 ms delayed ACK.
//
//   - Quick ACK mode: at the first data of a connection and after the peer
//     was idle for longer than the RTO, the next ACKs go out at once (up
//     to 16, or half the receive buffer in segments), so that a sender in
//     slow start is not held back.
//   - More than one full-sized segment unacknowledged: ACK at once (Linux
//     counts bytes, rcv_nxt - rcv_wup > rcv_mss; the segment size is never
//     taken larger than the MSS we announced, so a super-packet that a
//     link coalesced from the peer's segments is ACKed on its own, and
//     falls to two shorter full segments of the same length in a row).
//   - A segment shorter than the peer's usual size marks the end of a
//     burst ("pushed"): once the application has read the queue empty, the
//     ACK goes out (afterRead), instead of waiting for the timer.
//   - A full-sized segment that arrives after everything before it was
//     acknowledged and after a silence of about a probe timeout (three
//     quarters of 2*SRTT + ptoSlack, RFC 8985 §7.2: our SRTT is not the
//     sender's, and gVisor's timeout is 2*SRTT alone) is ACKed at
//     once: it is most likely a tail loss probe sent because our last
//     ACK was lost, and the sender, its window full, sends nothing more
//     until it hears from us. Linux quick-ACKs only after a silence
//     longer than its RTO (at least 200 ms), so a probe waits out the
//     40 ms delayed ACK; where a whole window arrives at once and draws
//     one ACK (two stacks in one process, microseconds apart), every
//     lost ACK cost the sender its probe timeout plus that 40 ms.
//   - Otherwise the ACK waits up to Config.DelayedACK.

// probeMinSize is the least segment the probe rule above counts as
// full-sized: RFC 9293 §3.7.1's default MSS. rcvMSS alone is the largest
// segment seen so far, one byte on an interactive connection, whose
// one-byte messages after a pause are no probes (their ACK waits to ride
// on the answer).
const probeMinSize = 536

// maxQuickAcks is Linux's TCP_MAX_QUICKACKS.
const maxQuickAcks = 16

// scheduleACK decides when to ACK n in-order bytes just received; fin
// says the segment also carries a FIN whose ACK may wait (finACKWaits).
func (c *Conn) scheduleACK(now clock.Instant, n int, fin bool) {
	lss := c.lastSegSize
	c.lastSegSize = 0
	switch {
	case n > int(c.rcvMSS):
		// Linux tcp_measure_rcv_mss: no larger than the segment the
		// peer can send in full (advMSS). A longer one is most often
		// several of the peer's, coalesced on the way in (a TUN
		// device's GRO super-packet, which Linux measures by its
		// gso_size), and is ACKed at once as more than one full-sized
		// segment.
		c.rcvMSS = uint16(min(n, c.advMSS(), math.MaxUint16))
	case n < int(c.rcvMSS):
		// Linux tcp_measure_rcv_mss: two shorter segments in a row of
		// the same length, and long enough to be full ones (at least
		// RFC 9293's default MSS), are the peer's full size now: its
		// path MTU fell, or its MSS is below the estimate. Linux lowers
		// rcv_mss to them, and they do not mark the end of a burst.
		if n >= probeMinSize {
			c.lastSegSize = uint16(n) // below rcvMSS, a uint16
			if n == int(lss) {
				c.rcvMSS = uint16(n)
				break
			}
		}
		c.pushed = true
	}
	if c.lastDataRcvd == 0 || now.Sub(c.lastDataRcvd) > c.rto.rto {
		segs := c.rcvBuf() / (2 * max(int(c.rcvMSS), 1))
		c.quickAcks = uint8(max(2, min(segs, maxQuickAcks)))
	}
	probe := n >= int(c.rcvMSS) && n >= probeMinSize && c.rto.hasSample && c.lastDataRcvd != 0 &&
		int(c.rcvNxt.Sub(c.lastAckSent)) == n && now.Sub(c.lastDataRcvd) > (2*c.rto.srtt+ptoSlack)*3/4
	c.lastDataRcvd = now
	if fin && c.finACKWaits() {
		// Linux's tcp_fin enters "pingpong" mode: no quick ACK, and a
		// short segment no longer draws the ACK when it is read.
		c.quickAcks, c.pushed = 0, false
	}
	if probe || c.quickAcks > 0 || int(c.rcvNxt.Sub(c.lastAckSent)) > int(c.rcvMSS) {
		c.ackNow = true
	} else if c.timers.delack == 0 {
		c.timers.delack = now.Add(c.cfg.DelayedACK)
	}
}

// advMSS is the payload of the peer's full-sized segment as far as we
// know it: the MSS we announced, less the timestamp option the peer puts
// on every segment once timestamps are agreed (Linux lowers its advmss by
// TCPOLEN_TSTAMP_ALIGNED, 12 bytes, for the same reason; RFC 6691 §2: the
// MSS does not count options).
func (c *Conn) advMSS() int {
	if c.tsOK {
		return c.cfg.MSS - wire.TCPTimestampRoom
	}
	return c.cfg.MSS
}

// finACKWaits says whether the ACK of a FIN that takes ESTABLISHED to
// CLOSE-WAIT waits for the delayed-ACK timer (Profile.DelayFINACK), as on
// Linux, in case the application answers at once with data or its own
// FIN. Before any data arrived Linux's delayed-ACK time (icsk_ack.ato) is
// still zero, so the ACK of a lone FIN leaves at once there too. RFC 9293
// §3.10.7.4 step eight sends the ACK for the FIN without a delay.
func (c *Conn) finACKWaits() bool {
	return c.cfg.Profile.DelayFINACK && c.state == Established && c.lastDataRcvd != 0
}

// ackFIN schedules the ACK of the FIN just consumed.
func (c *Conn) ackFIN(now clock.Instant, waits bool) {
	switch {
	case !waits:
		c.ackNow = true
	case c.timers.delack == 0:
		c.timers.delack = now.Add(c.cfg.DelayedACK)
	}
}

// ackSent updates the ACK policy for an ACK about to leave: it uses up a
// quick ACK when it acknowledges new data.
func (c *Conn) ackSent() {
	if c.rcvNxt != c.lastAckSent && c.quickAcks > 0 {
		c.quickAcks--
	}
	c.pushed = false
}

// noteDSACK records that the duplicate data [l, r) arrived, to report it
// in a D-SACK block (RFC 2883 §4) on the ACK sent at once: the sender
// learns that its retransmission was spurious, and RACK widens its
// reordering window (RFC 8985 §6.2 step 4). Only the latest duplicate is
// reported.
func (c *Conn) noteDSACK(l, r seqnum.V32) {
	if !c.sackOK {
		return
	}
	c.hasDSACK, c.dsackL, c.dsackR = true, l, r
	c.ackNow = true
}

// duplicateTS takes the timestamp of a duplicate that ends exactly at
// Last.ACK.sent, under Profile.TSRecentFromDuplicate: Linux's window test
// (tcp_sequence) accepts a segment ending at rcv_wup, and it then updates
// ts_recent, so the ACK that answers the duplicate echoes its TSval. RFC
// 7323 §4.3 takes TS.Recent only from a segment that covers Last.ACK.sent.
func (c *Conn) duplicateTS(now clock.Instant, s *Segment) {
	if c.tsOK && c.cfg.Profile.TSRecentFromDuplicate && s.Options.HasTimestamp &&
		s.Seq.Add(s.Len()) == c.lastAckSent && int32(s.Options.TSVal-c.tsRecent) >= 0 {
		c.tsRecent, c.tsRecentAt = s.Options.TSVal, now
	}
}

// sackOption fills the SACK option: the D-SACK block first when one is
// due (RFC 2883 §4: "the first SACK block"), then the out-of-order ranges,
// most recent first (RFC 2018 §4), at most max blocks in all.
func (c *Conn) sackOption(o *wire.TCPOptions, max int) {
	o.NumSACK = 0
	if c.hasDSACK {
		max--
	}
	if !c.ooo.empty() {
		c.ooo.sackBlocks(o, max)
	}
	if c.hasDSACK {
		copy(o.SACK[1:], o.SACK[:o.NumSACK])
		o.SACK[0] = wire.SACKBlock{Left: c.dsackL, Right: c.dsackR}
		o.NumSACK++
		c.hasDSACK = false
	}
}

// ReceiveGap reports RCV.NXT and whether data beyond a gap in the sequence
// space is held. A host that runs a batch of segments through HandleSegment
// and takes the output once compares it before and after a segment: when
// the segment filled all or part of a gap, RFC 5681 §4.2 asks for an ACK
// at once (Linux sends it before the next packet), so the host takes the
// output right there rather than at the end of the batch.
func (c *Conn) ReceiveGap() (rcvNxt seqnum.V32, gap bool) {
	return c.rcvNxt, !c.ooo.empty()
}

// ClosesWindow reports whether the segment [seq, seq+n) ends within one
// segment of the right edge of the window last advertised. Once it has
// arrived the sender has no room for another full-sized segment (and
// sender SWS avoidance, RFC 9293 §3.8.6.2.1, keeps it from sending a
// smaller one): it can send nothing more until it hears an ACK. A host
// that holds segments for a later goroutine to process asks, so that the
// ACK the sender waits for is not left waiting with them. The sender
// sees the edge through the scaled window field (RFC 7323 §2.3), up to
// one scale unit short of RCV.ADV: that unit counts as spent. The
// sender's segment size is the larger of the peer's largest segment seen
// and this one (a host may ask before it processed the earlier ones).
func (c *Conn) ClosesWindow(seq seqnum.V32, n seqnum.Size32) bool {
	slack := max(seqnum.Size32(c.rcvMSS), n, 1) + 1<<c.rcvShift
	return c.rcvAdv.LessThan(seq.Add(n + slack))
}

// ACKNow has the next output carry an ACK at once rather than at the
// delayed-ACK timer (RFC 5681 §4.2 lets a receiver ACK any segment
// without delay). A host asks when it knows the sender waits for it
// (ClosesWindow): on a busy host the timer's own run may be late.
func (c *Conn) ACKNow() {
	if c.state != Listen && c.state != SynSent && c.state != Closed {
		c.ackNow = true
	}
}
