package simrun

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// DriveRealTime runs the simulation on the wall clock, for programs that
// cannot run inside a testing/synctest bubble: an event due at virtual
// time t runs when the wall clock reaches t, and what programs post is
// applied at once (a post wakes the loop). The first call moves the
// virtual clock forward to the wall clock's time. It returns when done
// reports true; done is checked on the driving goroutine after every
// pass, including the one a post wakes, so a caller that wants the loop to
// stop sets a flag done reads and then posts anything (arms a timer).
//
// Timing follows the Go scheduler and the machine's load, so a run is not
// repeatable even with the same seed; the faults are still drawn from it.
// Programs should read time from a clock that follows the wall clock
// between events (the Runner's Clock only moves when the loop runs), for
// example one whose Now is the wall clock and whose timers are Clock's.
// Like Drive, it releases goroutines parked for a turn; Run cannot follow.
func (r *Runner) DriveRealTime(done func() bool) error {
	r.releaseTurns()
	wall := func() clock.Instant { return clock.Instant(time.Now().UnixNano()) }
	if err := r.behind(wall(), "wall clock", ""); err != nil {
		return err
	}
	var a alarm
	defer a.stop()
	for {
		now := wall()
		// Events that came due while the loop slept, in order; what they
		// make programs post is applied at the event's time.
		for next := r.sim.NextEvent(); !next.IsZero() && next <= now; next = r.sim.NextEvent() {
			r.step()
			r.apply()
		}
		r.sim.RunUntil(now) //nolint:errcheck // nothing is due before now: this only moves the clock
		r.now.Store(int64(now))
		r.apply()
		if done() {
			return nil
		}
		next := r.sim.NextEvent()
		if !next.IsZero() && next <= now {
			continue
		}
		r.sleep(&a, next, now)
	}
}

// DriveBackground is Drive for a goroutine of its own inside a
// testing/synctest bubble, beside a test that keeps its goroutine (and
// may call synctest.Wait, which two goroutines may not do at once). It
// lets the bubble settle by sleeping one nanosecond of the bubble's time,
// which passes only once every other goroutine of the bubble is durably
// blocked, and keeps those nanoseconds out of the simulation: the virtual
// clock is the bubble's clock less the settling so far. It settles once
// per pass and drains stale wake-ups after each settle, so the mapping
// between the two clocks depends on the run, not on the Go scheduler.
// The bubble's clock runs ahead of the virtual one by a nanosecond per
// pass: a program's time.Sleep(d) ends a few nanoseconds of virtual time
// early.
//
// A goroutine that an event wakes may run while the event's callback is
// still going on (delivering the rest of a batch, say): for runs that
// repeat byte for byte, hold such goroutines back until the callback
// returns, as package testnet does with a Scheduler whose Park waits for
// a lock the callbacks hold. It returns when done reports true (checked
// after every pass; post anything to make the loop look).
func (r *Runner) DriveBackground(done func() bool) error {
	r.releaseTurns()
	var drift clock.Instant // bubble time spent settling
	virtual := func() clock.Instant { return clock.Instant(time.Now().UnixNano()) - drift }
	if err := r.behind(virtual(), "bubble's", inBubble); err != nil {
		return err
	}
	var a alarm
	defer a.stop()
	for {
		before := time.Now()
		time.Sleep(time.Nanosecond)
		drift += clock.Instant(time.Since(before))
		select { // what woke us is in the inbox now
		case <-r.kick:
		default:
		}
		stop, again := r.passAt(virtual(), done)
		if stop {
			return nil
		}
		if !again {
			r.sleep(&a, r.sim.NextEvent(), r.sim.Now())
		}
	}
}
