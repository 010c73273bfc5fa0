package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// processText is step seven (RFC 9293 §3.10.7.4 "seventh, process the
// segment text"): in-order data is queued for the reader, out-of-order
// data is kept at its place in the receive ring.
func (c *Conn) processText(now clock.Instant, s *Segment) {
	if len(s.Payload) == 0 {
		return
	}
	switch c.state {
	case Established, FinWait1, FinWait2:
	default:
		// CLOSE-WAIT, CLOSING, LAST-ACK, TIME-WAIT: the peer's FIN came
		// first, so this cannot be new data. Ignore it.
		c.stats.Drops[DropAfterClose]++
		return
	}
	if c.appClosed && c.cfg.Profile.RSTOnDataAfterClose {
		// RFC 2525 §2.17 and RFC 9293 §3.10.7.4: new data after the
		// application closed cannot be delivered; tell the peer at once.
		c.summary.UnreadDiscarded += len(s.Payload)
		c.abortRST(now, "data arrived after close: RFC 2525 §2.17")
		// Linux answers as to a segment for no connection (tcp_rcv_state_process
		// returns 1 and tcp_v4_send_reset replies): <SEQ=SEG.ACK><CTL=RST>, no
		// ACK bit (RFC 9293 §3.10.7.1), which drill/testdata/
		// tcp_data_after_close.pkt shows on Linux 6.18.
		if r, ok := RSTFor(s); ok {
			c.queueRST(r.Seq, r.Ack, r.Flags&wire.ACK != 0)
		}
		return
	}
	if s.Seq == c.rcvNxt {
		c.appendInOrder(now, s)
		return
	}
	// Out of order: keep it if the reassembly queue has room, and ACK at
	// once so the sender sees the gap (RFC 5681 §4.2, RFC 2018 §4).
	c.ackNow = true
	end := s.Seq.Add(seqnum.Size32(len(s.Payload)))
	if c.ooo == nil {
		c.ooo = newReassembly()
	}
	if c.ooo.covers(s.Seq, end) {
		// A duplicate of data held out of order: a D-SACK block, then
		// the SACK block that holds it (RFC 2883 §4.1.2; Linux likewise).
		c.noteDSACK(s.Seq, end)
	}
	off := c.rcv.len() + int(s.Seq.Sub(c.rcvNxt))
	if c.oooTooSparse(off, len(s.Payload), end) || !c.ooo.add(s.Seq, end, c.oooLimit()) {
		c.stats.Drops[DropOutOfOrderFull]++
		return
	}
	c.rcv.writeAt(off, s.Payload)
	if c.rt != nil {
		c.tuneOnOutOfOrder()
	}
}

// sparseRingFloor is the ring memory out-of-order data may make a
// connection take however little of it there is.
const sparseRingFloor = 64 << 10

// oooTooSparse says whether an out-of-order segment of n bytes at offset
// off of the ring, ending at end, should be dropped to spare memory: the
// ring holds its bytes at their final places, so a byte far beyond
// RCV.NXT makes it take memory for the whole way there (a peer's single
// byte at the edge of a 1 MiB window, 1 MiB). Such a segment is kept if
// the ring has that memory, or had it when it last gave it back (the
// queue of a bulk transfer empties between reads, and the first segments
// after a burst of drops at a full bottleneck queue are few against the
// span they reach: refusing them cost bulk-rtt-10ms a fifth of its rate),
// or if what would then be held out of order is at least an eighth of the
// span from RCV.NXT to its end. A sender retransmits what was dropped.
// Linux charges each segment's memory (truesize) to the receive buffer
// instead, and prunes the out-of-order queue under pressure
// (tcp_prune_ofo_queue).
func (c *Conn) oooTooSparse(off, n int, end seqnum.V32) bool {
	need := off + n
	if need <= max(len(c.rcv.buf), int(c.rcv.hint), sparseRingFloor) {
		return false
	}
	return (c.ooo.held()+n)*8 < int(end.Sub(c.rcvNxt))
}

// appendInOrder queues data that starts at RCV.NXT, pulls in whatever
// out-of-order data it joins, and schedules the ACK (scheduleACK; at once
// when a gap was filled, RFC 5681 §4.2).
func (c *Conn) appendInOrder(now clock.Instant, s *Segment) {
	n := len(s.Payload)
	c.rcv.writeAt(c.rcv.len(), s.Payload)
	c.rcv.grow(n)
	c.rcvNxt = c.rcvNxt.Add(seqnum.Size32(n))
	if !c.ooo.empty() {
		next := c.ooo.advance(c.rcvNxt)
		c.rcv.grow(int(next.Sub(c.rcvNxt)))
		c.rcvNxt = next
		c.ackNow = true
	}
	if c.rt != nil {
		c.tuneOnData(now, s)
	}
	if c.readClosed && c.cfg.Profile.DiscardAfterShutdownRead {
		c.summary.UnreadDiscarded += c.rcv.len()
		c.rcv.discard(c.rcv.len())
	} else {
		c.events |= EventReadable
	}
	c.scheduleACK(now, n, s.Flags&wire.FIN != 0)
	if c.hasRcvFin && c.rcvFin == c.rcvNxt {
		c.hasRcvFin = false
		c.consumeFIN(now)
	}
}

// checkFIN is step eight (RFC 9293 §3.10.7.4 "eighth, check the FIN
// bit"). A FIN beyond RCV.NXT (after a gap) is remembered and consumed
// when the gap fills.
func (c *Conn) checkFIN(now clock.Instant, s *Segment) {
	if s.Flags&wire.FIN == 0 || c.state == Closed {
		return
	}
	at := s.Seq.Add(seqnum.Size32(len(s.Payload)))
	switch {
	case at == c.rcvNxt && !c.finRcvd:
		c.consumeFIN(now)
	case c.rcvNxt.LessThan(at):
		c.rcvFin, c.hasRcvFin = at, true
		c.ackNow = true
	default: // a FIN already consumed
		c.ackNow = true
	}
}

// consumeFIN advances over the peer's FIN and makes the state change of
// step eight. Under HoldFINWhileUnread it waits until the reader has
// drained the queue (Read calls it again).
func (c *Conn) consumeFIN(now clock.Instant) {
	if c.cfg.Profile.HoldFINWhileUnread && c.rcv.len() > 0 {
		c.rcvFin, c.hasRcvFin = c.rcvNxt, true
		c.ackNow = true
		return
	}
	c.ackFIN(now, c.finACKWaits())
	c.rcvNxt = c.rcvNxt.Add(1)
	c.finRcvd = true
	c.summary.FINReceived = true
	c.events |= EventPeerFIN | EventReadable
	switch c.state {
	case SynReceived, Established:
		c.setState(now, CloseWait, "rcvd FIN")
	case FinWait1:
		if c.finAcked() {
			c.setState(now, TimeWait, "rcvd FIN, our FIN acked")
		} else {
			c.setState(now, Closing, "rcvd FIN in FIN-WAIT-1 (simultaneous close)")
		}
	case FinWait2:
		c.setState(now, TimeWait, "rcvd FIN in FIN-WAIT-2")
	case TimeWait:
		c.restartTimeWait(now)
	}
}
