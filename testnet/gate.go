package testnet

import (
	"sync"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/simrun"
)

// gate keeps the goroutines a network event wakes from running until the
// event is over, in virtual time: the driver holds it while it runs a
// stack's code (a packet delivered, a timer fired), and a goroutine the
// stack woke takes it once before it returns from its blocking call. A
// woken reader then sees everything the event delivered, not a part that
// depends on the Go scheduler, and the stacks (which get the gate as
// their Scheduler) process every segment on the driver's goroutine
// instead of deferring it to the reader (stack/tcp_defer.go): the run is
// the same from one time to the next.
//
// What it cannot order: goroutines woken by the same event run
// concurrently after it, so if two of them send, their packets may leave
// in either order.
type gate struct {
	mu  sync.Mutex
	run *simrun.Runner
}

// Park implements stack.Scheduler.
func (g *gate) Park(ready, cancel <-chan struct{}) bool {
	canceled := g.run.Park(ready, cancel)
	g.mu.Lock()
	g.mu.Unlock() //nolint:staticcheck // an empty critical section: wait for the event to end
	return canceled
}

// Unpark implements stack.Scheduler.
func (g *gate) Unpark(ready <-chan struct{}) { g.run.Unpark(ready) }

// do runs fn, a call into a stack from the driver, holding the gate.
func (g *gate) do(fn func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	fn()
}

// gatedClock is the Runner's clock whose timers fire holding the gate.
type gatedClock struct {
	clock.TimerClock
	g *gate
}

func (c gatedClock) NewTimer(fn func()) clock.Timer {
	return c.TimerClock.NewTimer(func() { c.g.do(fn) })
}
