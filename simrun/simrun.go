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
// network exactly as the seed dictates; under Run the program goroutines
// also take turns in a fixed order, so the same seed gives the same run,
// byte for byte.
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
	cond    *sync.Cond    // signalled when running drops to zero or the inbox fills
	running int           // program goroutines that are running
	parked  int           // program goroutines that are parked
	serial  bool          // one program goroutine at a time (Run); false once Drive starts
	driven  chan struct{} // closed when Drive starts: no turns to wait for any more
	gates   map[<-chan struct{}]*gate
	ready   []*gate // parked goroutines woken, waiting for their turn
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
	r := &Runner{sim: sim, kick: make(chan struct{}, 1), serial: true, driven: make(chan struct{})}
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

// Go starts fn as a program goroutine and returns a Task another program
// goroutine can wait on. Under Run, program goroutines take turns: one runs
// at a time, in the order they were started or woken, so that a run does
// not depend on how the Go scheduler interleaves them. They must block
// only in calls that report to the Runner (a stack's sockets, Task.Wait):
// a goroutine blocked on a plain channel looks busy forever. Under Drive
// there are no turns: fn runs at once, or when Drive starts if Go was
// called before.
func (r *Runner) Go(fn func()) *Task {
	t := &Task{r: r}
	start := make(chan struct{})
	r.mu.Lock()
	var g *gate
	if r.serial {
		// Start parked, in line behind those already ready.
		g = r.gateFor(start)
		r.parked++
		r.enqueue1(g)
	} else {
		r.running++
	}
	r.mu.Unlock()
	go func() {
		defer t.finish()
		if g != nil {
			select {
			case <-g.ch:
			case <-r.driven:
			}
		}
		fn()
	}()
	return t
}

// Task is a program goroutine started with Runner.Go.
type Task struct {
	r        *Runner
	mu       sync.Mutex
	finished bool
	waiters  []chan struct{}
}

func (t *Task) finish() {
	r := t.r
	t.mu.Lock()
	t.finished = true
	for _, w := range t.waiters {
		r.Unpark(w)
		close(w)
	}
	t.waiters = nil
	t.mu.Unlock()
	r.mu.Lock()
	r.running--
	r.cond.Broadcast()
	r.mu.Unlock()
}

// Wait blocks until the task's function has returned; call it from
// another program goroutine (it parks like a socket call does).
func (t *Task) Wait() {
	t.mu.Lock()
	if t.finished {
		t.mu.Unlock()
		return
	}
	w := make(chan struct{})
	t.waiters = append(t.waiters, w)
	t.mu.Unlock()
	t.r.Park(w, nil)
}

// Sleep pauses the calling program goroutine for d of virtual time.
func (r *Runner) Sleep(d time.Duration) {
	ch := make(chan struct{})
	t := r.sim.NewTimer(func() {
		r.Unpark(ch)
		close(ch)
	})
	r.enqueue(post{kind: postTimerReset, timer: t, at: r.Now().Add(d)})
	r.Park(ch, nil)
}

// gate is how a parked goroutine waits for its turn.
type gate struct {
	key    <-chan struct{}
	ch     chan struct{} // closed when the goroutine may run
	queued bool
}

// gateFor returns the gate of the goroutine waiting on ready; r.mu held.
func (r *Runner) gateFor(ready <-chan struct{}) *gate {
	g := r.gates[ready]
	if g == nil {
		if r.gates == nil {
			r.gates = make(map[<-chan struct{}]*gate)
		}
		g = &gate{key: ready, ch: make(chan struct{})}
		r.gates[ready] = g
	}
	return g
}

func (r *Runner) enqueue1(g *gate) {
	if !g.queued {
		g.queued = true
		r.ready = append(r.ready, g)
		r.cond.Broadcast()
	}
}

// Park blocks the calling program goroutine until Unpark(ready) is called
// and, under Run, until it is the goroutine's turn to run; or until cancel
// is closed, which it reports (the stack passes a context's Done channel).
// A goroutine waiting for its turn when Drive starts waits for ready
// alone from then on. It implements stack.Scheduler.
func (r *Runner) Park(ready, cancel <-chan struct{}) (canceled bool) {
	r.mu.Lock()
	if !r.serial {
		r.mu.Unlock()
		return waitReady(ready, cancel)
	}
	g := r.gateFor(ready)
	r.running--
	r.parked++
	r.cond.Broadcast()
	r.mu.Unlock()
	select {
	case <-g.ch:
		return false
	case <-r.driven:
		return waitReady(ready, cancel)
	case <-cancel:
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-g.ch: // granted meanwhile: the turn is ours anyway
		return false
	default:
	}
	// Resume out of turn: a wall-clock context has no place in a
	// deterministic run, but it must not hang it either.
	delete(r.gates, ready)
	if g.queued {
		for i, q := range r.ready {
			if q == g {
				r.ready = append(r.ready[:i], r.ready[i+1:]...)
				break
			}
		}
	}
	r.parked--
	r.running++
	return true
}

// waitReady is Park without turns, as under Drive.
func waitReady(ready, cancel <-chan struct{}) (canceled bool) {
	select {
	case <-ready:
		return false
	case <-cancel:
		return true
	}
}

// Unpark is called by whoever is about to wake the goroutine parked on
// ready (before closing ready). Under Run the goroutine joins the queue
// of goroutines waiting for their turn. It implements stack.Scheduler.
func (r *Runner) Unpark(ready <-chan struct{}) {
	r.mu.Lock()
	if r.serial {
		r.enqueue1(r.gateFor(ready))
	}
	r.mu.Unlock()
}

// grant lets the first ready goroutine run; r.mu held, running == 0.
func (r *Runner) grant() {
	g := r.ready[0]
	copy(r.ready, r.ready[1:])
	r.ready[len(r.ready)-1] = nil
	r.ready = r.ready[:len(r.ready)-1]
	delete(r.gates, g.key)
	r.parked--
	r.running++
	close(g.ch)
}

// Run drives the simulation for goroutines started with Go: it waits until
// none of them is running, applies what they posted, and runs the next
// event, until done reports true (checked whenever everything is idle), or
// every goroutine has returned and no event is left. If goroutines remain
// parked with no event to wake them it returns ErrDeadlock. A nil done
// waits for the goroutines and the events to run out. A Runner that Drive
// has driven cannot Run: its goroutines no longer take turns.
func (r *Runner) Run(done func() bool) error {
	r.mu.Lock()
	driven := !r.serial
	r.mu.Unlock()
	if driven {
		return errors.New("simrun: Run after Drive: a Runner is driven by one or the other")
	}
	for {
		r.mu.Lock()
		for r.running > 0 {
			r.cond.Wait()
		}
		if len(r.ready) > 0 {
			r.grant()
			r.mu.Unlock()
			continue
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
		idle := r.running == 0 && len(r.inbox) == 0 && len(r.ready) == 0
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
