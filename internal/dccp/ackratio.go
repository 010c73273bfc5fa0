package dccp

import (
	"math"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// ackCC is the CCID 2 sender's congestion control of the acknowledgement
// path (RFC 4341 §6.1): the peer's acknowledgements are packets too, and
// when some are lost the sender asks for fewer of them. For each window of
// data in which acknowledgements were lost the Ack Ratio R doubles (the
// acknowledgement rate halves, like a TCP window on loss); after
// cwnd/(R² − R) windows in a row without loss it falls by one (§6.1.2).
// floor is the R this rule asks for; adaptAckRatio never goes below it.
type ackCC struct {
	floor   uint64
	recover seqnum.V48 // losses up to here belong to the last doubling
	clean   float64    // data packets sent since the last loss or decrease
	lost    uint64     // the peer's packets seen missing (Counters.AcksLost)
}

// notePeerGap counts the packets of the peer missing before seq, the
// packet just received (§6.1.1: the sender detects lost acknowledgements
// from the gaps in the peer's sequence numbers; the peer of a CCID 2
// sender sends acknowledgements). A gap is taken as loss at once.
func (c *Conn) notePeerGap(seq seqnum.V48) {
	w, ok := c.tx.(windowedTx)
	if !ok || c.avRx.n == 0 || !c.avRx.head.LessThan(seq) {
		return
	}
	gap := uint64(seq.Sub(c.avRx.head)) - 1
	if gap == 0 || gap > ackVecLen {
		return
	}
	c.ackCC.lost += gap
	c.counters.AcksLost += gap
	c.ackCC.clean = 0
	if c.ackCC.recover.LessThan(c.gss) || c.ackCC.floor == 0 {
		// once per window of data: the losses of packets that answered
		// data sent before the last doubling belong to it
		cur := max(c.feat.local[slot(wire.DCCPFeatAckRatio)], 1)
		c.ackCC.floor = min(2*cur, uint64(math.Ceil(w.Window()/2)), maxAckRatio)
		c.ackCC.recover = c.gss.Add(int64(math.Ceil(w.Window())))
	}
}

// noteDataSent counts a data packet towards the windows without lost
// acknowledgements; after cwnd/(R² − R) such windows the floor falls by
// one (§6.1.2).
func (c *Conn) noteDataSent() {
	w, ok := c.tx.(windowedTx)
	if !ok || c.ackCC.floor <= 1 {
		return
	}
	c.ackCC.clean++
	r := float64(c.ackCC.floor)
	cwnd := max(w.Window(), 1)
	if c.ackCC.clean >= cwnd*max(cwnd/(r*r-r), 1) {
		c.ackCC.floor--
		c.ackCC.clean = 0
	}
}
