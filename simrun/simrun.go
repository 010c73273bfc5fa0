// Package simrun runs ordinary goroutine programs — a stack's blocking
// sockets, net/http, the lab's applications — on a netsim network.
//
// A netsim.Sim is single-threaded: its events run one at a time on the
// goroutine that steps it. Programs are not: they block in Read, Accept or
// Sleep and are woken by packets and timers. A Runner sits between the two:
//
//   - Endpoint wraps a netsim.Host as a link.Endpoint that any goroutine
//     may write to; Clock is a clock.TimerClock on the virtual time whose
//     timers any goroutine may arm. Both post their requests to an inbox
//     that the driving goroutine applies to the Sim between events, so the
//     Sim itself is only ever touched by one goroutine.
//   - The driving loop advances virtual time only when every program
//     goroutine is blocked: Run counts the goroutines started with Go (the
//     stack reports when they park and when it wakes them, through Park and
//     Unpark), and Drive lets testing/synctest say when the bubble is idle.
//
// Virtual time never advances while a program runs, so a program sees the
// network exactly as the seed dictates: same seed, same run.
package simrun

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/netsim"
)

// ErrDeadlock is returned by Run when goroutines started with Go are all
// blocked and the simulation has no event left that could wake them.
var ErrDeadlock = errors.New("simrun: all goroutines are blocked and no event is pending")

// Runner drives a Sim for goroutine programs. Create it with New before the
// Sim runs; from then on only the Runner steps the Sim.
type Runner struct {
	sim *netsim.Sim
	now atomic.Int64 // mirror of the virtual clock, readable from any goroutine

	mu      sync.Mutex
	cond    *sync.Cond // signalled when running drops to zero or the inbox fills
	running int        // goroutines started with Go that are not parked
	parked  int        // goroutines started with Go that are parked
	inbox   []post
	arena   []byte // packet bytes of the posts in inbox
	spare   []post
	spareA  []byte
	kick    chan struct{}
}

type postKind uint8

const (
	postWrite postKind = iota
	postTimerReset
	postTimerStop
	postAttach
	postClose
)

type post struct {
	kind   postKind
	host   *netsim.Host
	off, n int // packet bytes in arena
	timer  *netsim.Timer
	at     clock.Instant
	recv   link.Receiver
}

// New returns a Runner for sim.
func New(sim *netsim.Sim) *Runner {
	r := &Runner{sim: sim, kick: make(chan struct{}, 1)}
	r.cond = sync.NewCond(&r.mu)
	r.now.Store(int64(sim.Now()))
	return r
}

// Sim returns the simulation. Touch it directly only while nothing runs
// (before Run or Drive, or after they return).
func (r *Runner) Sim() *netsim.Sim { return r.sim }

// Now returns the virtual time; safe from any goroutine.
func (r *Runner) Now() clock.Instant { return clock.Instant(r.now.Load()) }

func (r *Runner) enqueue(p post) {
	r.mu.Lock()
	r.inbox = append(r.inbox, p)
	r.cond.Broadcast()
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// apply hands the inbox to the Sim. Only the driving goroutine calls it.
func (r *Runner) apply() {
	r.mu.Lock()
	posts, arena := r.inbox, r.arena
	r.inbox, r.arena = r.spare[:0], r.spareA[:0]
	r.mu.Unlock()
	var one [1][]byte
	for i := range posts {
		p := &posts[i]
		switch p.kind {
		case postWrite:
			one[0] = arena[p.off : p.off+p.n]
			p.host.WritePackets(one[:]) //nolint:errcheck // the Host counts its own drops
		case postTimerReset:
			p.timer.Reset(p.at)
		case postTimerStop:
			p.timer.Stop()
		case postAttach:
			p.host.Attach(p.recv)
		case postClose:
			p.host.Close()
		}
		*p = post{}
	}
	r.mu.Lock()
	r.spare, r.spareA = posts[:0], arena[:0]
	r.mu.Unlock()
}

// step runs one event, keeping the clock mirror ahead of the callbacks.
func (r *Runner) step() bool {
	next := r.sim.NextEvent()
	if next.IsZero() {
		return false
	}
	r.now.Store(int64(next))
	r.sim.Step()
	return true
}

// Go starts fn as a program goroutine that Run waits for.
func (r *Runner) Go(fn func()) {
	r.mu.Lock()
	r.running++
	r.mu.Unlock()
	go func() {
		defer func() {
			r.mu.Lock()
			r.running--
			r.cond.Broadcast()
			r.mu.Unlock()
		}()
		fn()
	}()
}

// Park is called by a goroutine about to block waiting for the network
// (the stack calls it; see stack.Config.Scheduler).
func (r *Runner) Park() {
	r.mu.Lock()
	r.running--
	r.parked++
	r.cond.Broadcast()
	r.mu.Unlock()
}

// Unpark is called by whoever wakes a parked goroutine, before waking it,
// so that the driving loop waits for it to run.
func (r *Runner) Unpark() {
	r.mu.Lock()
	r.running++
	r.parked--
	r.mu.Unlock()
}

// Run drives the simulation for goroutines started with Go: it waits until
// none of them is running, applies what they posted, and runs the next
// event, until done reports true (checked whenever everything is idle), or
// every goroutine has returned and no event is left. If goroutines remain
// parked with no event to wake them it returns ErrDeadlock. A nil done
// waits for the goroutines and the events to run out.
func (r *Runner) Run(done func() bool) error {
	for {
		r.mu.Lock()
		for r.running > 0 {
			r.cond.Wait()
		}
		parked := r.parked
		r.mu.Unlock()
		r.apply()
		if done != nil && done() {
			return nil
		}
		if r.step() {
			continue
		}
		r.mu.Lock()
		idle := r.running == 0 && len(r.inbox) == 0
		r.mu.Unlock()
		if !idle {
			continue
		}
		if parked > 0 {
			return fmt.Errorf("%w (%d parked, virtual time %s, seed %d)", ErrDeadlock, parked,
				r.Now().Time().Format(time.RFC3339Nano), r.sim.Seed())
		}
		return nil
	}
}

// Drive runs the simulation inside a testing/synctest bubble, for programs
// whose goroutines the Runner does not know (net/http's, say). Pass
// synctest.Wait as wait: the loop lets the bubble settle, moves the
// virtual clock to the bubble's fake time, applies what the programs
// posted, and runs the events that are due; when none is, it sleeps (in
// fake time) until the next one or until a program posts something. It
// returns when done reports true. The Sim's clock must have been created
// to match the bubble's clock (netsim.Epoch is the bubble's start).
func (r *Runner) Drive(wait func(), done func() bool) error {
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
