package dccp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// ackVecLen bounds how many sequence numbers the Ack Vector state covers
// (it also serves duplicate detection, so it stays wider than the
// sequence window's backward reach, W/4).
const ackVecLen = 1024

// ackVecCells bounds the cells of an emitted Ack Vector, and dropBlocks
// the blocks of a Data Dropped option on a data packet, so that both
// always fit the header room of a full-sized data packet (HeaderRoom)
// next to the timestamps. A packet without data has room to spare:
// there Data Dropped takes up to dropBlocksAck blocks. How far back the
// vector reaches is decided by acknowledgements of acknowledgements
// (takeAckOfAck), not by a fixed span.
const (
	ackVecCells   = 32
	dropBlocks    = 8
	dropBlocksAck = 64
)

// ackVecRx is the receiver's Ack Vector state (RFC 4340 §11.4): one state
// per sequence number, from head (the greatest received) backwards over n
// numbers, kept in a ring. Encoding runs-length-compresses it into cells.
// drop holds, per sequence number, 0 or 1 + the Drop State of a packet
// whose data did not reach the application (§11.7). low is the oldest
// number still reported: the peer acknowledged an acknowledgement whose
// vector reached there (§11.4.2), so older state is not sent again. The
// state below low stays for duplicate detection.
type ackVecRx struct {
	st   [ackVecLen]wire.DCCPAckState
	drop [ackVecLen]uint8
	head seqnum.V48
	low  seqnum.V48
	n    int
}

// idx returns the ring slot of a sequence number within the state.
func (a *ackVecRx) idx(s seqnum.V48) int { return int(uint64(s) % ackVecLen) }

// record marks seq as received (§11.4.1: every acknowledgeable packet).
// Numbers after head extend the state, the gap marked Not Yet Received;
// numbers older than the state's reach are ignored.
func (a *ackVecRx) record(seq seqnum.V48) {
	if a.n == 0 {
		a.head, a.low, a.n = seq, seq, 1
		a.set(seq, wire.DCCPAckReceived)
		return
	}
	d := seq.Sub(a.head)
	switch {
	case d > 0:
		if d > ackVecLen {
			d, a.n = ackVecLen, 0
		}
		for i := int64(1); i < d; i++ {
			a.set(a.head.Add(i), wire.DCCPAckNotReceived)
		}
		a.head = seq
		a.set(seq, wire.DCCPAckReceived)
		a.n = min(a.n+int(d), ackVecLen)
	case -d < int64(a.n):
		a.st[a.idx(seq)] = wire.DCCPAckReceived
	}
}

func (a *ackVecRx) set(s seqnum.V48, st wire.DCCPAckState) {
	a.st[a.idx(s)], a.drop[a.idx(s)] = st, 0
}

// received reports whether seq is recorded as received: a duplicate.
func (a *ackVecRx) received(seq seqnum.V48) bool {
	if a.n == 0 {
		return false
	}
	back := a.head.Sub(seq)
	return back >= 0 && back < int64(a.n) && a.st[a.idx(seq)] == wire.DCCPAckReceived
}

// markDropped records that the data of the received packet seq did not
// reach the application, for the reason st (§11.7.1).
func (a *ackVecRx) markDropped(seq seqnum.V48, st wire.DCCPDropState) {
	if a.received(seq) {
		a.drop[a.idx(seq)] = 1 + uint8(st)
	}
}

// trim stops reporting the state at and before seq: the peer
// acknowledged an acknowledgement whose Ack Vector covered it (§11.4.2).
func (a *ackVecRx) trim(seq seqnum.V48) {
	if a.n != 0 && a.low.LessThanEq(seq) && seq.LessThanEq(a.head) {
		a.low = seq.Add(1)
	}
}

// reach is how many numbers from head backwards are still reported.
func (a *ackVecRx) reach() int {
	if a.n == 0 || a.head.LessThan(a.low) {
		return 0
	}
	return min(a.n, int(a.head.Sub(a.low))+1)
}

// encode appends the cells describing the state from head backwards,
// newest first, and returns them. It stops before maxCells, and reports
// how many sequence numbers the cells cover.
func (a *ackVecRx) encode(dst []byte, maxCells int) ([]byte, int) {
	i, n := 0, a.reach()
	maxCells = min(maxCells, ackVecCells)
	for i < n && len(dst) < maxCells {
		s := a.st[a.idx(a.head.Add(-int64(i)))]
		run := 1
		for i+run < n && run < wire.DCCPMaxRunLength+1 && a.st[a.idx(a.head.Add(-int64(i+run)))] == s {
			run++
		}
		dst = wire.AppendDCCPAckRun(dst, s, run)
		i += run
	}
	return dst, i
}

// dropStateAt returns 1 + the Drop State of seq, or 0 if its data was not
// dropped (or it is not in the state).
func (a *ackVecRx) dropStateAt(seq seqnum.V48) uint8 {
	back := a.head.Sub(seq)
	if a.n == 0 || back < 0 || back >= int64(a.n) {
		return 0
	}
	return a.drop[a.idx(seq)]
}

// encodeDropped appends the blocks of a Data Dropped option (§11.7) for
// an acknowledgement numbered ackno whose Ack Vector covers cover numbers
// from head backwards: normal blocks for packets delivered (or not
// received), drop blocks with their Drop State. Blocks are aligned with
// the Acknowledgement Number like the Ack Vector's cells; the option ends
// at the oldest dropped packet it reports, so packets beyond it count as
// not dropped. It returns nil when nothing in reach was dropped.
func (a *ackVecRx) encodeDropped(dst []byte, ackno seqnum.V48, cover, maxBlocks int) []byte {
	if a.n == 0 || ackno.LessThan(a.head) {
		return nil
	}
	total := int(ackno.Sub(a.head)) + min(cover, a.reach())
	start, last := len(dst), len(dst)
	for i := 0; i < total && len(dst)-start < maxBlocks; {
		d := a.dropStateAt(ackno.Add(-int64(i)))
		limit := 128 // a normal block covers up to 128 packets
		if d != 0 {
			limit = 16 // a drop block up to 16
		}
		run := 1
		for i+run < total && run < limit && a.dropStateAt(ackno.Add(-int64(i+run))) == d {
			run++
		}
		b, _ := wire.DCCPDropBlock(d != 0, wire.DCCPDropState(max(d, 1)-1), run-1)
		dst = append(dst, b)
		if d != 0 {
			last = len(dst)
		}
		i += run
	}
	if last == start {
		return nil
	}
	return dst[:last]
}
