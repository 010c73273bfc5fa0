package ccid3

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// TestFirstFeedbackReschedulesNextPacket: before feedback the sender
// may send one packet per second (RFC 5348 §4.2), so the packet after the
// first is due a second later; the first feedback raises X, and the next
// packet is then due s/X after the last one (§4.6), not a second later.
func TestFirstFeedbackReschedulesNextPacket(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	tx.OnSent(now, true, 1000)
	// A second later, less t_delta = min(t_ipi/2, t_gran/2) (§4.6).
	if ok, at := tx.CanSend(now.Add(time.Millisecond)); ok || at != now.Add(time.Second-TGran/2) {
		t.Fatalf("before feedback: CanSend %v, next at %v; want the second packet a second (less t_delta) later", ok, at.Sub(now))
	}
	fb := now.Add(2 * time.Millisecond)
	tx.OnFeedback(fb, time.Millisecond, 0, 1e6)
	due := now.Add(tx.ipi())
	if tx.ipi() >= time.Millisecond {
		t.Fatalf("interval %v at X %v: the feedback did not raise the rate", tx.ipi(), tx.X())
	}
	if ok, _ := tx.CanSend(fb); !ok {
		t.Errorf("after the first feedback (X %.0f B/s): cannot send; next packet was due at +%v", tx.X(), due.Sub(now))
	}
}

// TestWindowCounterStepsAtMostFive: the window counter advances one per
// quarter RTT, but by at most 5 between two packets (RFC 4342 §8.1), so
// that after a silence of 16 quarter RTTs the receiver still sees it move
// by 4 or more and sends feedback (§10.3) rather than seeing no change.
func TestWindowCounterStepsAtMostFive(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	tx.OnFeedback(now, 4*time.Millisecond, 0, 1e6) // R = 4 ms: a quarter is 1 ms
	c0 := tx.OnSent(now, true, 1000)
	c1 := tx.OnSent(now.Add(2*time.Millisecond), true, 1000)
	if d := (c1 - c0) % 16; d != 2 {
		t.Errorf("after 2 quarter RTTs the counter moved by %d, want 2", d)
	}
	c2 := tx.OnSent(now.Add(18*time.Millisecond), true, 1000) // 16 quarters later
	if d := (c2 - c1) % 16; d != 5 {
		t.Errorf("after 16 quarter RTTs of silence the counter moved by %d, want 5", d)
	}
	c3 := tx.OnSent(now.Add(19*time.Millisecond), true, 1000)
	if d := (c3 - c2) % 16; d != 1 {
		t.Errorf("one quarter RTT after the silence the counter moved by %d, want 1 (time base restarted)", d)
	}
}

// TestNoFeedbackFloor: on a path of 10 µs the no-feedback timer is not
// 4R = 40 µs but MinNoFeedback (Linux bounds it by tcp_rto_min).
func TestNoFeedbackFloor(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	tx.OnFeedback(now, 10*time.Microsecond, 0, 1e9)
	if got := tx.NextDeadline().Sub(now); got != MinNoFeedback {
		t.Errorf("no-feedback timer in %v, want %v", got, MinNoFeedback)
	}
	long := NewTx(now, 1000)
	long.OnFeedback(now, 100*time.Millisecond, 0, 1e6)
	if got := long.NextDeadline().Sub(now); got != 400*time.Millisecond {
		t.Errorf("R = 100 ms: no-feedback timer in %v, want 4R = 400ms", got)
	}
}

// TestRxNoFeedbackWithoutData: RFC 5348 §6.2, no feedback when no data
// packet arrived since the last one (its receive rate would read 0 and
// hold the sender at its minimum rate); an empty datagram is data too;
// the feedback timer fires once and disarms.
func TestRxNoFeedbackWithoutData(t *testing.T) {
	now := clock.Instant(1e18)
	r := NewRx()
	if r.Pending() {
		t.Fatal("pending before any data")
	}
	r.OnData(now, 1, 0, 1000, 0, time.Millisecond)
	if !r.Pending() {
		t.Fatal("not pending after a data packet")
	}
	r.Feedback(now.Add(time.Millisecond))
	if r.Pending() {
		t.Error("pending right after feedback")
	}
	r.OnData(now.Add(2*time.Millisecond), 2, 0, 0, 0, time.Millisecond)
	if !r.Pending() {
		t.Error("an empty datagram is not counted as data")
	}
	due := r.NextDeadline()
	if due == 0 || !r.HandleTimer(due) {
		t.Fatalf("timer at %v did not ask for feedback", due)
	}
	if r.NextDeadline() != 0 || r.HandleTimer(due) {
		t.Error("the timer stays armed after firing")
	}
}

// TestPacingCreditWithinGranularity: RFC 5348 §4.6. t_nom advances by
// t_ipi from the previous nominal time, so a sender woken late may send
// the packets due meanwhile at once, but no more than t_gran's worth: at
// 10 µs per packet, a wake-up 5 ms late lets about t_gran/t_ipi = 100
// packets go (plus t_delta's), not 500.
func TestPacingCreditWithinGranularity(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	tx.OnFeedback(now, time.Millisecond, 0, 1e8)
	tx.x = 1e8 // 1000 B per 10 µs
	tx.OnSent(now, true, 1000)
	late := now.Add(5 * time.Millisecond)
	n := 0
	for ; n < 1000; n++ {
		if ok, _ := tx.CanSend(late); !ok {
			break
		}
		tx.OnSent(late, true, 1000)
	}
	if n < 90 || n > 110 {
		t.Errorf("a wake-up 5 ms late sent %d packets at once, want about t_gran/t_ipi = 100", n)
	}
	if ok, at := tx.CanSend(late); ok || at.Sub(late) > 10*time.Microsecond {
		t.Errorf("after the credit: CanSend %v, next at +%v; want a wait of at most t_ipi", ok, at.Sub(late))
	}
}
