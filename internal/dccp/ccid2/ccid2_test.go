package ccid2

import (
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// TestLossFromAckVector: packets 1-6 sent; the Ack Vector (ackno 6) says
// 6,5,4 received, 3 not, 2,1 received. Three packets after 3 are acked,
// so 3 is lost (RFC 4341 §5) and the window halves once.
func TestLossFromAckVector(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(1460)
	tx.cwnd = 10
	tx.ssthresh = 100
	for s := seqnum.V48(1); s <= 6; s++ {
		tx.OnSent(now, s, true)
	}
	var v []byte
	v = wire.AppendDCCPAckRun(v, wire.DCCPAckReceived, 3)
	v = wire.AppendDCCPAckRun(v, wire.DCCPAckNotReceived, 1)
	v = wire.AppendDCCPAckRun(v, wire.DCCPAckReceived, 2)
	tx.OnAck(now+1e6, 6, v)
	if tx.Pipe() != 0 {
		t.Errorf("pipe = %d, want 0: five acked, one lost", tx.Pipe())
	}
	// five acks in slow start: 10 -> 15, then halved by the loss: 7.5
	if tx.Cwnd() != 7.5 {
		t.Errorf("cwnd = %v, want 7.5", tx.Cwnd())
	}
}

func TestRTOCollapsesWindow(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(1460)
	tx.OnSent(now, 1, true)
	if tx.NextDeadline() != now.Add(1e9) {
		t.Fatalf("RTO at %v, want 1 s", tx.NextDeadline()-now)
	}
	tx.HandleTimer(tx.NextDeadline())
	if tx.Cwnd() != 1 || tx.Pipe() != 0 || !tx.CanSend(now) {
		t.Errorf("after RTO cwnd %v pipe %d, want 1 and 0", tx.Cwnd(), tx.Pipe())
	}
}

// TestSlowStart_LossAtAnyInitialSeq: the loss of TestLossFromAckVector,
// on connections whose first sequence number lies anywhere in the 48-bit
// space, including the half opposite 0 and across the wrap. The window
// halves on every one (RFC 4341 §5): a reduction marker left at zero
// compared as newer than every loss there, and a sender whose initial
// sequence number fell in that half never slowed down.
func TestSlowStart_LossAtAnyInitialSeq(t *testing.T) {
	for _, iss := range []seqnum.V48{0, 1, 1<<47 - 1, 1 << 47, 181835303676686, 1<<48 - 3} {
		now := clock.Instant(1e18)
		tx := NewTx(1460)
		tx.cwnd = 10
		tx.ssthresh = 100
		for i := range int64(6) {
			tx.OnSent(now, iss.Add(i), true)
		}
		var v []byte
		v = wire.AppendDCCPAckRun(v, wire.DCCPAckReceived, 3)
		v = wire.AppendDCCPAckRun(v, wire.DCCPAckNotReceived, 1)
		v = wire.AppendDCCPAckRun(v, wire.DCCPAckReceived, 2)
		tx.OnAck(now+1e6, iss.Add(5), v)
		if tx.Pipe() != 0 || tx.Cwnd() != 7.5 {
			t.Errorf("first seq %d: pipe %d cwnd %v, want 0 and 7.5 (five acked in slow start, then halved)",
				iss, tx.Pipe(), tx.Cwnd())
		}
	}
}
