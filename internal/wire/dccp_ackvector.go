package wire

import (
	"fmt"
	"strconv"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// DCCPAckState is the 2-bit State of an Ack Vector cell (RFC 4340 §11.4).
type DCCPAckState uint8

// Ack Vector states, §11.4 Table 6.
const (
	DCCPAckReceived    DCCPAckState = 0 // received, not ECN-marked
	DCCPAckReceivedECN DCCPAckState = 1 // received ECN-marked
	DCCPAckReserved    DCCPAckState = 2 // reserved
	DCCPAckNotReceived DCCPAckState = 3 // not yet received
)

// String returns the state's name from §11.4.
func (s DCCPAckState) String() string {
	switch s {
	case DCCPAckReceived:
		return "Received"
	case DCCPAckReceivedECN:
		return "Received ECN Marked"
	case DCCPAckNotReceived:
		return "Not Yet Received"
	}
	return "Reserved(" + strconv.Itoa(int(s)) + ")"
}

// DCCPMaxRunLength is the largest Run Length of a cell: a cell describes
// Run Length + 1 packets, so 64 at most (§11.4).
const DCCPMaxRunLength = 63

// DCCPAckVector is the data of one Ack Vector option: one byte per cell,
// State in the top two bits, Run Length in the low six (§11.4). The first
// cell starts at the packet's Acknowledgement Number and each cell goes
// further back in sequence space.
type DCCPAckVector []byte

// Len returns the number of cells.
func (v DCCPAckVector) Len() int { return len(v) }

// Cell returns cell i's state and run length; it covers runLength+1
// consecutive sequence numbers.
func (v DCCPAckVector) Cell(i int) (DCCPAckState, int) {
	return DCCPAckState(v[i] >> 6), int(v[i] & 0x3f)
}

// Packets returns how many sequence numbers the vector covers: the sum
// of run length + 1 over its cells. A second Ack Vector option in the
// same packet continues at ackno - Packets() of the first (§11.4).
func (v DCCPAckVector) Packets() int {
	n := len(v)
	for _, c := range v {
		n += int(c & 0x3f)
	}
	return n
}

// DCCPAckRange is a run of consecutive sequence numbers that an Ack
// Vector gives one state: Low through High inclusive.
type DCCPAckRange struct {
	Low, High seqnum.V48
	State     DCCPAckState
}

// Ranges decodes the vector against the acknowledgement number it came
// with and appends the runs it describes to dst, newest first, merging
// neighbouring cells of equal state. It allocates only if dst is too
// small. A range in state DCCPAckReserved acknowledges nothing: treat it
// as not received.
func (v DCCPAckVector) Ranges(ackno seqnum.V48, dst []DCCPAckRange) []DCCPAckRange {
	high := ackno
	for i := range v {
		s, run := v.Cell(i)
		low := high.Add(-int64(run))
		if n := len(dst); n > 0 && dst[n-1].State == s && dst[n-1].Low == high.Add(1) {
			dst[n-1].Low = low
		} else {
			dst = append(dst, DCCPAckRange{Low: low, High: high, State: s})
		}
		high = low.Add(-1)
	}
	return dst
}

// Lookup returns the state the vector (sent with acknowledgement number
// ackno) gives seq, and false if the vector does not reach seq: seq is
// after ackno or older than the last cell.
func (v DCCPAckVector) Lookup(ackno, seq seqnum.V48) (DCCPAckState, bool) {
	back := ackno.Sub(seq) // how far seq lies behind ackno
	if back < 0 {
		return 0, false
	}
	for i := range v {
		s, run := v.Cell(i)
		if back <= int64(run) {
			return s, true
		}
		back -= int64(run) + 1
	}
	return 0, false
}

// AppendDCCPAckRun appends cells saying that n consecutive sequence
// numbers, continuing backwards from the cells already in cells, have
// state s; runs longer than 64 take several cells (§11.4). It is the
// encoder's half of Ranges: append runs newest first.
func AppendDCCPAckRun(cells []byte, s DCCPAckState, n int) []byte {
	for n > 0 {
		k := min(n, DCCPMaxRunLength+1)
		cells = append(cells, byte(s&3)<<6|byte(k-1))
		n -= k
	}
	return cells
}

// DCCPDropState is the Drop State of a Data Dropped drop block (§11.7).
type DCCPDropState uint8

// Drop states of §11.7; 4-6 are reserved.
const (
	DCCPDropProtocolConstraints     DCCPDropState = 0
	DCCPDropApplicationNotListening DCCPDropState = 1
	DCCPDropReceiveBuffer           DCCPDropState = 2
	DCCPDropCorrupt                 DCCPDropState = 3
	DCCPDropDeliveredCorrupt        DCCPDropState = 7
)

// DCCPDataDropped is the data of a Data Dropped option: one byte per
// block, aligned with the Ack Vector from the Acknowledgement Number
// backwards (§11.7). A normal block (high bit 0) has a 7-bit run length;
// a drop block (high bit 1) a 3-bit Drop State and a 4-bit run length.
type DCCPDataDropped []byte

// Len returns the number of blocks.
func (d DCCPDataDropped) Len() int { return len(d) }

// Block returns block i: whether it is a drop block, its Drop State
// (0 for normal blocks) and its run length; it covers runLength+1 packets.
func (d DCCPDataDropped) Block(i int) (drop bool, state DCCPDropState, runLength int) {
	c := d[i]
	if c&0x80 == 0 {
		return false, 0, int(c & 0x7f)
	}
	return true, DCCPDropState(c >> 4 & 7), int(c & 0x0f)
}

// DCCPDropBlock encodes one Data Dropped block; it returns ErrBadOption
// if the run length does not fit (127 for normal blocks, 15 for drop
// blocks) or the state does not fit in 3 bits.
func DCCPDropBlock(drop bool, state DCCPDropState, runLength int) (byte, error) {
	if !drop {
		if runLength < 0 || runLength > 0x7f || state != 0 {
			return 0, fmt.Errorf("%w: normal block run length %d", ErrBadOption, runLength)
		}
		return byte(runLength), nil
	}
	if runLength < 0 || runLength > 0x0f || state > 7 {
		return 0, fmt.Errorf("%w: drop block state %d run length %d", ErrBadOption, state, runLength)
	}
	return 0x80 | byte(state)<<4 | byte(runLength), nil
}
