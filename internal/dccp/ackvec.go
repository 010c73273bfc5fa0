package dccp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// ackVecLen bounds how many sequence numbers the Ack Vector state covers
// (it also serves duplicate detection, so it stays wider than the
// sequence window's backward reach, W/4).
const ackVecLen = 1024

// Limits of an emitted Ack Vector. §11.4.2 lets the receiver forget state
// the sender no longer needs; rather than tracking acknowledgements of
// acknowledgements, the vector reports at most ackVecSpan packets back
// from its head in at most ackVecCells cells, so that it always fits the
// header room of a full-sized data packet (HeaderRoom).
const (
	ackVecSpan  = 256
	ackVecCells = 32
)

// ackVecRx is the receiver's Ack Vector state (RFC 4340 §11.4): one state
// per sequence number, from head (the greatest received) backwards over n
// numbers, kept in a ring. Encoding runs-length-compresses it into cells.
type ackVecRx struct {
	st   [ackVecLen]wire.DCCPAckState
	head seqnum.V48
	n    int
}

// idx returns the ring slot of a sequence number within the state.
func (a *ackVecRx) idx(s seqnum.V48) int { return int(uint64(s) % ackVecLen) }

// record marks seq as received (§11.4.1: every acknowledgeable packet).
// Numbers after head extend the state, the gap marked Not Yet Received;
// numbers older than the state's reach are ignored.
func (a *ackVecRx) record(seq seqnum.V48) {
	if a.n == 0 {
		a.head, a.n = seq, 1
		a.st[a.idx(seq)] = wire.DCCPAckReceived
		return
	}
	d := seq.Sub(a.head)
	switch {
	case d > 0:
		if d > ackVecLen {
			d, a.n = ackVecLen, 0
		}
		for i := int64(1); i < d; i++ {
			a.st[a.idx(a.head.Add(i))] = wire.DCCPAckNotReceived
		}
		a.head = seq
		a.st[a.idx(seq)] = wire.DCCPAckReceived
		a.n = min(a.n+int(d), ackVecLen)
	case -d < int64(a.n):
		a.st[a.idx(seq)] = wire.DCCPAckReceived
	}
}

// received reports whether seq is recorded as received: a duplicate.
func (a *ackVecRx) received(seq seqnum.V48) bool {
	if a.n == 0 {
		return false
	}
	back := a.head.Sub(seq)
	return back >= 0 && back < int64(a.n) && a.st[a.idx(seq)] == wire.DCCPAckReceived
}

// trim forgets the state at and before seq: the peer acknowledged an Ack
// Vector that covered it (§11.4.2).
func (a *ackVecRx) trim(seq seqnum.V48) {
	if a.n == 0 {
		return
	}
	keep := a.head.Sub(seq)
	if keep < int64(a.n) && keep >= 0 {
		a.n = int(keep)
	}
}

// encode appends the cells describing the state from head backwards,
// newest first, and returns them with the acknowledgement number they
// start at. It stops before maxCells.
func (a *ackVecRx) encode(dst []byte, maxCells int) []byte {
	i, n := 0, min(a.n, ackVecSpan)
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
	return dst
}
