package clock

import (
	"testing"
	"time"
)

func TestInstantArithmetic(t *testing.T) {
	a := Instant(1_000)
	b := a.Add(250 * time.Nanosecond)
	if got := b.Sub(a); got != 250*time.Nanosecond {
		t.Fatalf("Sub = %v, want 250ns", got)
	}
	if !a.Before(b) || a.After(b) || !b.After(a) {
		t.Fatalf("ordering of %d and %d is wrong", a, b)
	}
	if (Instant(0)).IsZero() != true || a.IsZero() {
		t.Fatal("IsZero: only the zero Instant is unset")
	}
}

func TestEarliestTreatsZeroAsUnset(t *testing.T) {
	cases := []struct{ a, b, want Instant }{
		{0, 0, 0},
		{0, 5, 5},
		{5, 0, 5},
		{3, 5, 3},
		{5, 3, 3},
	}
	for _, c := range cases {
		if got := Earliest(c.a, c.b); got != c.want {
			t.Errorf("Earliest(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestRealIsMonotonicAndNonZero(t *testing.T) {
	c := NewReal()
	a := c.Now()
	b := c.Now()
	if a.IsZero() || b.Before(a) {
		t.Fatalf("real clock went from %d to %d", a, b)
	}
	if d := time.Until(a.Time()); d > time.Minute || d < -time.Minute {
		t.Fatalf("real clock reads %v, far from the wall clock", a.Time())
	}
}

func TestRealTimerFiresAndStops(t *testing.T) {
	c := NewRealTimers()
	fired := make(chan struct{}, 2)
	tm := c.NewTimer(func() { fired <- struct{}{} })
	tm.Reset(c.Now()) // already due: fires promptly
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("a due timer did not fire")
	}
	tm.Reset(c.Now().Add(time.Hour))
	tm.Stop()
	tm.Reset(0) // zero disarms
	select {
	case <-fired:
		t.Fatal("a stopped timer fired")
	default:
	}
}

// A new timer has no runtime timer until it is first armed: stopping or
// disarming it before then is allowed and fires nothing, and its first
// Reset arms it as any later one does.
func TestRealTimerStopBeforeFirstArm(t *testing.T) {
	c := NewRealTimers()
	fired := make(chan struct{}, 2)
	tm := c.NewTimer(func() { fired <- struct{}{} })
	tm.Stop()
	tm.Reset(0)
	select {
	case <-fired:
		t.Fatal("a timer never armed fired")
	default:
	}
	tm.Reset(c.Now())
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("a due timer did not fire")
	}
}
