package netsim

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

func TestNew_ClockStartsAtEpochNotZero(t *testing.T) {
	s := New(1)
	if s.Now() != Epoch || s.Now().IsZero() {
		t.Fatalf("Now = %d, want Epoch %d (non-zero)", s.Now(), Epoch)
	}
	if got := s.Now().Time().Format(time.RFC3339); got != "2000-01-01T00:00:00Z" {
		t.Fatalf("Epoch is %s, want 2000-01-01T00:00:00Z", got)
	}
	var _ clock.Clock = s
}

func TestTimer_FireInTimeOrderTiesByInsertion(t *testing.T) {
	s := New(1)
	var order []string
	var times []clock.Instant
	rec := func(name string) func() {
		return func() { order = append(order, name); times = append(times, s.Now()) }
	}
	s.After(3*time.Millisecond, rec("c"))
	s.After(1*time.Millisecond, rec("a1"))
	s.After(2*time.Millisecond, rec("b"))
	s.After(1*time.Millisecond, rec("a2"))
	s.After(1*time.Millisecond, rec("a3"))
	run(t, s)
	want := []string{"a1", "a2", "a3", "b", "c"}
	if !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v (time, then insertion)", order, want)
	}
	wantT := []clock.Instant{at(time.Millisecond), at(time.Millisecond), at(time.Millisecond),
		at(2 * time.Millisecond), at(3 * time.Millisecond)}
	if !slices.Equal(times, wantT) {
		t.Fatalf("clock at firing = %v, want %v", times, wantT)
	}
}

func TestTimer_StopPreventsFiring(t *testing.T) {
	s := New(1)
	fired := 0
	tm := s.After(time.Second, func() { fired++ })
	other := s.After(2*time.Second, func() { fired += 10 })
	if !tm.Pending() || tm.When() != at(time.Second) {
		t.Fatalf("pending=%v when=%d, want armed at epoch+1s", tm.Pending(), tm.When())
	}
	if !tm.Stop() {
		t.Fatal("Stop of a pending timer reported false")
	}
	if tm.Stop() {
		t.Fatal("second Stop reported true")
	}
	if tm.Pending() || tm.When() != 0 {
		t.Fatal("a stopped timer still reports pending")
	}
	run(t, s)
	if fired != 10 || other.Pending() {
		t.Fatalf("fired = %d, want only the other timer (10)", fired)
	}
}

func TestTimer_ResetMovesAndCountsAsNewInsertion(t *testing.T) {
	s := New(1)
	var order []string
	t1 := s.After(5*time.Millisecond, func() { order = append(order, "t1") })
	s.After(2*time.Millisecond, func() { order = append(order, "t2") })
	s.After(1*time.Millisecond, func() { order = append(order, "t3") })
	t1.Reset(at(2 * time.Millisecond)) // same time as t2 but re-inserted later
	run(t, s)
	if want := []string{"t3", "t2", "t1"}; !slices.Equal(order, want) {
		t.Fatalf("order = %v, want %v", order, want)
	}
	// A fired timer can be re-armed, also from inside its own callback.
	n := 0
	var tm *Timer
	tm = s.NewTimer(func() {
		n++
		if n < 3 {
			tm.Reset(s.Now().Add(time.Millisecond))
		}
	})
	if tm.Pending() {
		t.Fatal("NewTimer returned an armed timer")
	}
	tm.Reset(s.Now().Add(time.Millisecond))
	start := s.Now()
	run(t, s)
	if n != 3 || s.Now() != start.Add(3*time.Millisecond) {
		t.Fatalf("self re-arming timer fired %d times ending at +%v, want 3 at +3ms", n, s.Now().Sub(start))
	}
}

func TestTimer_ResetZeroStopsAndPastFiresNow(t *testing.T) {
	s := New(1)
	fired := false
	tm := s.After(time.Second, func() { fired = true })
	tm.Reset(0)
	if tm.Pending() {
		t.Fatal("Reset(0) left the timer pending")
	}
	run(t, s)
	if fired {
		t.Fatal("timer reset to zero fired")
	}
	s.RunFor(time.Second)
	now := s.Now()
	var when clock.Instant
	s.Schedule(now.Add(-time.Hour), func() { when = s.Now() })
	run(t, s)
	if when != now {
		t.Fatalf("past deadline fired at %d, want now %d", when, now)
	}
}

func TestTimer_ManyRandomStopsKeepHeapOrder(t *testing.T) {
	s := New(7)
	r := s.Rand()
	var timers []*Timer
	var fired []clock.Instant
	for range 2000 {
		d := time.Duration(r.IntN(1000)) * time.Microsecond
		timers = append(timers, s.After(d, func() { fired = append(fired, s.Now()) }))
	}
	stopped := 0
	for i, tm := range timers {
		switch i % 3 {
		case 0:
			if tm.Stop() {
				stopped++
			}
		case 1:
			tm.Reset(at(time.Duration(r.IntN(1000)) * time.Microsecond))
		}
	}
	run(t, s)
	if len(fired) != len(timers)-stopped {
		t.Fatalf("fired %d, want %d", len(fired), len(timers)-stopped)
	}
	if !slices.IsSorted(fired) {
		t.Fatal("timers fired out of time order")
	}
}

func TestRunUntil_StopsAtDeadlineAndAdvancesClock(t *testing.T) {
	s := New(1)
	var fired []int
	s.After(time.Millisecond, func() { fired = append(fired, 1) })
	s.After(2*time.Millisecond, func() { fired = append(fired, 2) })
	s.After(3*time.Millisecond, func() { fired = append(fired, 3) })
	if err := s.RunUntil(at(2 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fired, []int{1, 2}) || s.Now() != at(2*time.Millisecond) {
		t.Fatalf("after RunUntil(+2ms): fired %v at %v", fired, s.Now().Sub(Epoch))
	}
	if err := s.RunFor(10 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fired, []int{1, 2, 3}) || s.Now() != at(12*time.Millisecond) {
		t.Fatalf("after RunFor(10ms): fired %v, clock +%v, want +12ms", fired, s.Now().Sub(Epoch))
	}
	if s.Step() {
		t.Fatal("Step reported an event on an empty queue")
	}
}

func TestRun_EventLimitEndsLivelock(t *testing.T) {
	s := New(42)
	var ping func()
	ping = func() { s.After(0, ping) } // re-arms forever at the same instant
	s.After(0, ping)
	s.SetMaxEvents(1000)
	err := s.Run()
	if !errors.Is(err, ErrEventLimit) {
		t.Fatalf("Run = %v, want ErrEventLimit", err)
	}
	if s.Events() != 1000 {
		t.Fatalf("processed %d events, want exactly the limit 1000", s.Events())
	}
}

func TestRunUntilFunc_StopsWhenDone(t *testing.T) {
	s := New(1)
	n := 0
	for i := range 10 {
		s.After(time.Duration(i)*time.Millisecond, func() { n++ })
	}
	if err := s.RunUntilFunc(func() bool { return n == 4 }); err != nil {
		t.Fatal(err)
	}
	if n != 4 || s.Pending() != 6 {
		t.Fatalf("n=%d pending=%d, want 4 and 6", n, s.Pending())
	}
	if s.NextEvent() != at(4*time.Millisecond) {
		t.Fatalf("NextEvent = +%v, want +4ms", s.NextEvent().Sub(Epoch))
	}
}
