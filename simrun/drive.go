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
	r.mu.Lock()
	if r.serial {
		// Release the goroutines that parked waiting for a turn (Go's
		// start gate, Park): they wait for their ready channel alone now.
		r.serial = false
		r.gates, r.ready = nil, nil
		close(r.driven)
	}
	r.mu.Unlock()
	if now := clock.Instant(time.Now().UnixNano()); r.sim.Now() > now {
		return fmt.Errorf("simrun: the Sim's clock (%s) is ahead of the bubble's (%s): make the Sim inside the synctest bubble",
			r.sim.Now().Time().Format(time.RFC3339), now.Time().Format(time.RFC3339))
	}
	for {
		wait()
		now := clock.Instant(time.Now().UnixNano())
		if next := r.sim.NextEvent(); !next.IsZero() && next <= now {
			r.apply()
			r.step()
			continue
		}
		if now > r.sim.Now() {
			r.sim.RunUntil(now) //nolint:errcheck // no event is due before now: this only moves the clock
			r.now.Store(int64(now))
		}
		r.apply()
		if done() {
			return nil
		}
		next := r.sim.NextEvent()
		if !next.IsZero() && next <= r.sim.Now() {
			continue
		}
		var t *time.Timer
		var tc <-chan time.Time
		if !next.IsZero() {
			t = time.NewTimer(next.Sub(r.sim.Now()))
			tc = t.C
		}
		select {
		case <-tc:
		case <-r.kick:
		}
		if t != nil {
			t.Stop()
		}
	}
}
