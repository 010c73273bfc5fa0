package simrun

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/netsim"
)

// Endpoint returns h as a link.Endpoint that any goroutine may use: writes
// are copied into the Runner's inbox and reach the network when the driving
// loop next applies it, at the same virtual instant.
func (r *Runner) Endpoint(h *netsim.Host) link.Endpoint { return &endpoint{r: r, h: h} }

type endpoint struct {
	r *Runner
	h *netsim.Host
}

func (e *endpoint) MTU() int { return e.h.MTU() }

func (e *endpoint) WritePackets(pkts [][]byte) (int, error) {
	r := e.r
	mtu := e.h.MTU()
	r.mu.Lock()
	n := 0
	for _, p := range pkts {
		if len(p) > mtu {
			break
		}
		off := len(r.arena)
		r.arena = append(r.arena, p...)
		r.inbox = append(r.inbox, post{kind: postWrite, host: e.h, off: off, n: len(p)})
		n++
	}
	r.cond.Broadcast()
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
	if n < len(pkts) {
		return n, link.ErrTooBig
	}
	return n, nil
}

func (e *endpoint) Attach(rc link.Receiver) { e.r.enqueue(post{kind: postAttach, host: e.h, recv: rc}) }

func (e *endpoint) Close() error {
	e.r.enqueue(post{kind: postClose, host: e.h})
	return nil
}

// Clock returns the virtual clock as a clock.TimerClock whose timers any
// goroutine may arm; they fire on the driving goroutine.
func (r *Runner) Clock() clock.TimerClock { return runnerClock{r} }

type runnerClock struct{ r *Runner }

func (c runnerClock) Now() clock.Instant { return c.r.Now() }

func (c runnerClock) NewTimer(fn func()) clock.Timer {
	return &timer{r: c.r, t: c.r.sim.NewTimer(fn)}
}

type timer struct {
	r *Runner
	t *netsim.Timer
}

func (t *timer) Reset(at clock.Instant) {
	t.r.enqueue(post{kind: postTimerReset, timer: t.t, at: at})
}

func (t *timer) Stop() { t.r.enqueue(post{kind: postTimerStop, timer: t.t}) }
