package netsim

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// Timer runs a function at a virtual time. It is the simulator's only way
// to run code later: a host driver keeps one Timer per stack and moves it
// to the stack's next deadline with Reset, which allocates nothing.
//
// A Timer belongs to the Sim that made it and, like the Sim, is not safe
// for concurrent use.
type Timer struct {
	sim   *Sim
	fn    func()
	at    clock.Instant
	index int // position in the event heap, -1 when not pending
}

// NewTimer returns a Timer that calls fn when it fires. It is not armed
// until Reset is called.
func (s *Sim) NewTimer(fn func()) *Timer {
	return &Timer{sim: s, fn: fn, index: -1}
}

// Schedule calls fn at time at (or at the current time if at has passed)
// and returns the Timer, which can be stopped or moved.
func (s *Sim) Schedule(at clock.Instant, fn func()) *Timer {
	t := s.NewTimer(fn)
	t.Reset(at)
	return t
}

// After calls fn once d of virtual time has passed.
func (s *Sim) After(d time.Duration, fn func()) *Timer {
	return s.Schedule(s.now.Add(d), fn)
}

// Reset arms the timer to fire at time at, replacing any pending firing.
// A time in the past fires at the current time, after the events already
// queued for it. The zero Instant ("not set") stops the timer, so that a
// driver can pass a core's NextDeadline straight through.
//
// Among events due at the same time, a timer that was Reset runs after
// those scheduled before the Reset: it counts as newly inserted.
func (t *Timer) Reset(at clock.Instant) {
	if at.IsZero() {
		t.Stop()
		return
	}
	s := t.sim
	if at < s.now {
		at = s.now
	}
	t.at = at
	s.seq++
	if t.index >= 0 {
		e := &s.events[t.index]
		e.at, e.seq = at, s.seq
		s.events.fix(t.index)
		return
	}
	s.events.push(event{at: at, seq: s.seq, timer: t, flight: -1})
}

// Stop disarms the timer and reports whether it was pending.
func (t *Timer) Stop() bool {
	if t.index < 0 {
		return false
	}
	t.sim.events.remove(t.index)
	return true
}

// Pending reports whether the timer is armed and has not fired yet.
func (t *Timer) Pending() bool { return t.index >= 0 }

// When returns the time the timer fires at, or zero if it is not pending.
func (t *Timer) When() clock.Instant {
	if t.index < 0 {
		return 0
	}
	return t.at
}
