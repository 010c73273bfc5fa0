package simrun

import (
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// Drive runs the simulation inside a testing/synctest bubble, for programs
// whose goroutines the Runner does not know (net/http's, say). Pass
// synctest.Wait as wait: the loop lets the bubble settle, moves the
// virtual clock to the bubble's fake time, applies what the programs
// posted, and runs the events that are due; when none is, it sleeps (in
// fake time) until the next one or until a program posts something. It
// returns when done reports true. Make the Sim inside the bubble, so that
// its clock matches the bubble's (netsim.Epoch is the bubble's start).
//
// Under Drive, program goroutines take no turns: they run as the Go
// scheduler runs them, and synctest, not the Runner, knows when all of
// them are blocked. The order of set-up does not matter: goroutines
// started with Go, or blocked in a stack whose Scheduler is the Runner,
// before Drive starts are released when it starts. Drive may be called
// again after it returns; Run may not.
//
// A test ends in three steps, so that no goroutine outlives the bubble
// (synctest.Test fails the test if one does):
//
//  1. Drive until done reports that the programs got what the test checks,
//     typically a flag the last program sets on its way out (an
//     atomic.Bool: done runs on Drive's goroutine).
//  2. Close whatever programs may still be blocked on: listeners (a
//     server's Accept loop returns), connections, an http.Server and a
//     Transport's idle connections, and the stacks (Stack.Close aborts
//     every connection and closes every listener).
//  3. Drive again until the simulation has no event left, done being
//     func() bool { return r.Sim().NextEvent().IsZero() }: the RSTs and
//     FINs the closes sent are delivered, their timers fire or stop, and
//     the goroutines they woke return.
func (r *Runner) Drive(wait func(), done func() bool) error {
	r.releaseTurns()
	if err := r.behind(clock.Instant(time.Now().UnixNano()), "bubble's", inBubble); err != nil {
		return err
	}
	var a alarm
	defer a.stop()
	for {
		wait()
		stop, again := r.passAt(clock.Instant(time.Now().UnixNano()), done)
		if stop {
			return nil
		}
		if !again {
			r.sleep(&a, r.sim.NextEvent(), r.sim.Now())
		}
	}
}

// releaseTurns ends serial mode, for the drivers: the goroutines that
// parked waiting for a turn (Go's start gate, Park) wait for their ready
// channel alone from now on.
func (r *Runner) releaseTurns() {
	r.mu.Lock()
	if r.serial {
		r.serial = false
		r.gates, r.ready = nil, nil
		close(r.driven)
	}
	r.mu.Unlock()
}

// inBubble is the advice of the bubble's drivers when the Sim is ahead.
const inBubble = ": make the Sim inside the synctest bubble"

// behind reports an error when the Sim's clock is ahead of now, the time
// of the driver's clock (named by whose), followed by advice.
func (r *Runner) behind(now clock.Instant, whose, advice string) error {
	if r.sim.Now() <= now {
		return nil
	}
	return fmt.Errorf("simrun: the Sim's clock (%s) is ahead of the %s (%s)%s",
		r.sim.Now().Time().Format(time.RFC3339), whose, now.Time().Format(time.RFC3339), advice)
}

// passAt is one pass of the bubble's drivers at virtual time now. If an
// event is due it applies what programs posted, runs the event and asks
// for another pass (again). Otherwise it moves the clock to now, applies
// the posts and reports stop when done says so, or again when that made
// an event due.
func (r *Runner) passAt(now clock.Instant, done func() bool) (stop, again bool) {
	if next := r.sim.NextEvent(); !next.IsZero() && next <= now {
		r.apply()
		r.step()
		return false, true
	}
	if now > r.sim.Now() {
		r.sim.RunUntil(now) //nolint:errcheck // no event is due before now: this only moves the clock
		r.now.Store(int64(now))
	}
	r.apply()
	if done() {
		return true, false
	}
	next := r.sim.NextEvent()
	return false, !next.IsZero() && next <= r.sim.Now()
}

// alarm is the drivers' timer, made on first use and reset after.
type alarm struct{ t *time.Timer }

func (a *alarm) stop() {
	if a.t != nil {
		a.t.Stop()
	}
}

// sleep waits until next (none if zero), now being the driver's clock,
// or until a program posts something; the timer is stopped on return,
// so that a stale one never moves a bubble's clock.
func (r *Runner) sleep(a *alarm, next, now clock.Instant) {
	var tc <-chan time.Time
	if !next.IsZero() {
		if a.t == nil {
			a.t = time.NewTimer(next.Sub(now))
		} else {
			a.t.Reset(next.Sub(now))
		}
		tc = a.t.C
	}
	select {
	case <-tc:
	case <-r.kick:
	}
	a.stop()
}
