package dccp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// This file holds what a receiver tells its sender beyond plain
// acknowledgements, and what the sender does with it: Data Dropped for
// datagrams that reached the connection but not the application (RFC
// 4340 §11.7), Slow Receiver while the receive queue runs full (§11.6),
// and acknowledgements of acknowledgements, which let the receiver stop
// repeating old Ack Vector and Data Dropped state (§11.4.2; RFC 4341 §6.2
// asks a CCID 2 sender to acknowledge acknowledgements about once per
// window).

// dropTx is a sending CCID that reacts to the peer's Data Dropped reports.
type dropTx interface {
	// onDataDropped is told, once per packet, that the peer received seq
	// but dropped its data for the reason st (§11.7.2).
	onDataDropped(now clock.Instant, seq seqnum.V48, st wire.DCCPDropState)
}

// slowReceiverTx is a sending CCID that honours Slow Receiver (§11.6).
type slowReceiverTx interface{ onSlowReceiver(now clock.Instant) }

// dropRx is a receiving CCID told of datagrams the receive queue dropped.
type dropRx interface {
	onDropped(now clock.Instant, p *Packet)
}

// avSentLen is how many of our acknowledgements are remembered with the
// head of the Ack Vector state they reported, one every avSentEvery
// packets, so that they span the acknowledgements in flight of a large
// window (avSentLen × avSentEvery packets) in little memory.
const (
	avSentLen   = 32
	avSentEvery = 8
)

// avSent is one acknowledgement we sent: its sequence number and the
// newest number its Ack Vector (or Data Dropped) described.
type avSent struct {
	seq, head seqnum.V48
	ok        bool
}

// dropRecv records that the data of the received packet p did not reach
// the application for the reason st. The packet stays acknowledged as
// received in the Ack Vector (its header was processed, §11.4); the Data
// Dropped option of our acknowledgements tells the sender what became of
// its data. The drops ride on the acknowledgements the CCID sends anyway,
// unless the runs of drops since the last one fill a quarter of the
// option's blocks (dropBlocksAck; a run takes a drop block and the normal
// block before it): then one goes out at once, so that no drop is pushed
// out of the option unreported. Not one per drop: every acknowledgement
// takes a sequence number, and a burst of them pushes the sender's
// acknowledgements of them below our acknowledgement window (§7.5.1),
// so that its data packets are dropped as invalid (§8.5 step 6).
func (c *Conn) dropRecv(now clock.Instant, p *Packet, st wire.DCCPDropState) {
	if c.dropRuns == 0 || c.avRx.dropStateAt(p.Seq.Add(-1)) == 0 {
		c.dropRuns++ // a new run, or the rest of one partly reported
	}
	c.avRx.markDropped(p.Seq, st)
	if 2*c.dropRuns >= dropBlocksAck/4 {
		c.out.ack = true
	}
	if r, ok := c.rx.(dropRx); ok && st == wire.DCCPDropReceiveBuffer {
		r.onDropped(now, p)
	}
}

// slowReceiver reports whether our acknowledgements should carry Slow
// Receiver: the receive queue is three quarters full, so the application
// is not keeping up and more data would soon be dropped (§11.6).
func (c *Conn) slowReceiver() bool {
	q := len(c.recvQ.bufs)
	return q >= 4 && c.recvQ.len() >= q-q/4
}

// appendAckState adds the Ack Vector (when this end sends one), Data
// Dropped and Slow Receiver to the acknowledgement p, and remembers what
// p reported so that an acknowledgement of p can trim the state.
func (c *Conn) appendAckState(p *Packet) {
	o := &p.Options
	cover := c.avRx.reach()
	vector := c.sendsAckVector()
	if vector {
		o.AckVector, cover = c.avRx.encode(c.avBuf[:0], ackVecCells)
	}
	blocks := dropBlocks
	if len(p.Payload) == 0 {
		blocks = dropBlocksAck
	}
	o.DataDropped = c.avRx.encodeDropped(c.ddBuf[:0], p.Ack, cover, blocks)
	if vector && len(o.DataDropped) > 0 && len(p.Payload) > 0 {
		// Both options must fit the header room: the vector gives up
		// the cells the drop blocks take, and the blocks stay within
		// what the shorter vector covers.
		o.AckVector, cover = c.avRx.encode(c.avBuf[:0], ackVecCells-dropBlocks-2)
		o.DataDropped = c.avRx.encodeDropped(c.ddBuf[:0], p.Ack, cover, dropBlocks)
	}
	if len(o.DataDropped) > 0 {
		c.counters.DataDroppedSent++
	}
	c.dropRuns = 0
	if c.slowReceiver() {
		o.SlowReceiver = true
		c.counters.SlowReceiverSent++
	}
	if len(o.AckVector) > 0 || len(o.DataDropped) > 0 {
		last := &c.avSent[(c.avSentN+avSentLen-1)%avSentLen]
		if !last.ok || p.Seq.Sub(last.seq) >= avSentEvery {
			c.avSent[c.avSentN%avSentLen] = avSent{seq: p.Seq, head: c.avRx.head, ok: true}
			c.avSentN++
		}
	}
}

// takeAckOfAck trims the Ack Vector state when p acknowledges one of our
// acknowledgements that carried it: the peer knows everything up to the
// head that acknowledgement reported (§11.4.2). The newest remembered
// acknowledgement at or before p's Acknowledgement Number reported no
// more than the one acknowledged (heads only grow), so trimming to its
// head is safe.
func (c *Conn) takeAckOfAck(p *Packet) {
	var best *avSent
	for i := range c.avSent {
		s := &c.avSent[i]
		if s.ok && s.seq.LessThanEq(p.Ack) && p.Ack.Sub(s.seq) < 1<<20 && (best == nil || best.seq.LessThan(s.seq)) {
			best = s
		}
	}
	if best != nil {
		c.avRx.trim(best.head)
	}
}

// ackOfAckDue reports whether the next data packet should acknowledge
// the peer's acknowledgements: a CCID 2 sender whose peer keeps Ack
// Vector state for it, once per quarter window of data packets (RFC 4341
// §6.2 asks for at least one per window; with acknowledgements in flight
// the receiver's state spans the window and a round trip, so more often
// keeps it shorter). Only a windowed sender: its Ack Ratio keeps the peer's
// acknowledgements per window within our acknowledgement window
// (adaptAckRatio), so the acknowledgement number such a data packet
// carries stays valid when it arrives. A rate-based sender (CCID 3) with
// hundreds of packets queued ahead of it saw the peer send more than its
// Sequence Window of packets meanwhile, and the data packet was dropped
// for an acknowledgement number out of window (§8.5 step 6).
func (c *Conn) ackOfAckDue() bool {
	const ackOfAckMin = 8 // small windows: not every other data packet an acknowledgement
	t, ok := c.tx.(windowedTx)
	return ok && c.peerKeepsState && float64(c.dataSinceAck) >= max(t.Window()/4, ackOfAckMin)
}

// takeDropReports handles the Data Dropped and Slow Receiver options of
// an acknowledgement from the peer: each dropped packet is counted once
// however often it is repeated, and the sending CCID hears of it.
func (c *Conn) takeDropReports(now clock.Instant, p *Packet) {
	o := &p.Options
	if len(o.AckVector) > 0 {
		c.peerKeepsState = true
	}
	if o.SlowReceiver {
		c.counters.SlowReceiverIn++
		if t, ok := c.tx.(slowReceiverTx); ok {
			t.onSlowReceiver(now)
		}
	}
	dd := wire.DCCPDataDropped(o.DataDropped)
	seq := p.Ack
	for i := range dd.Len() {
		drop, st, run := dd.Block(i)
		for range run + 1 {
			if drop && seq.LessThanEq(c.gss) {
				c.peerDropped(now, seq, st)
			}
			seq = seq.Add(-1)
		}
	}
}

// peerDropped counts a packet the peer reported dropped, once.
func (c *Conn) peerDropped(now clock.Instant, seq seqnum.V48, st wire.DCCPDropState) {
	if c.dropSeen == nil {
		c.dropSeen = new([ackVecLen]uint64)
	}
	slot := &c.dropSeen[uint64(seq)%ackVecLen]
	if *slot == uint64(seq)+1 {
		return
	}
	*slot = uint64(seq) + 1
	c.counters.PeerDrops++
	if t, ok := c.tx.(dropTx); ok {
		t.onDataDropped(now, seq, st)
	}
}
