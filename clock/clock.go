// Package clock is the notion of time shared by every layer of teardown.
//
// The protocol cores never read a clock themselves: they are handed an
// Instant with every event and report the Instant of their next deadline.
// The simulator (package netsim) produces virtual Instants; a real host
// (package stack over a TUN device or UDP) produces them from the wall
// clock's monotonic reading. Both use the same scale, nanoseconds since the
// Unix epoch, so a capture written from either carries plausible timestamps.
package clock

import (
	"sync/atomic"
	"time"
)

// Instant is a point in time: nanoseconds since the Unix epoch.
//
// The zero Instant means "not set" (a disarmed timer, an absent deadline);
// no Clock ever returns it.
type Instant int64

// Never is later than every Instant a clock returns; use it as the deadline
// of something that is not scheduled when a comparison must still work.
const Never Instant = 1<<63 - 1

// Add returns t+d.
func (t Instant) Add(d time.Duration) Instant { return t + Instant(d) }

// Sub returns the duration t-u.
func (t Instant) Sub(u Instant) time.Duration { return time.Duration(t - u) }

// Before reports whether t is earlier than u.
func (t Instant) Before(u Instant) bool { return t < u }

// After reports whether t is later than u.
func (t Instant) After(u Instant) bool { return t > u }

// IsZero reports whether t is the zero ("not set") Instant.
func (t Instant) IsZero() bool { return t == 0 }

// Time converts t to a time.Time in UTC.
func (t Instant) Time() time.Time { return time.Unix(0, int64(t)).UTC() }

// Earliest returns the earlier of two deadlines, treating zero as "not set".
func Earliest(a, b Instant) Instant {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case b < a:
		return b
	}
	return a
}

// Clock tells the current time. Implementations: Real (the wall clock's
// monotonic reading) and the simulator's virtual clock in package netsim.
type Clock interface {
	Now() Instant
}

// Real is a Clock that follows the machine's monotonic clock. Its readings
// start at the wall-clock time at which it was created and then advance
// monotonically, unaffected by changes to the system time.
type Real struct {
	start     time.Time
	startUnix Instant
}

// NewReal returns a Real clock started now.
func NewReal() *Real {
	now := time.Now()
	return &Real{start: now, startUnix: Instant(now.UnixNano())}
}

// Now returns the current time.
func (r *Real) Now() Instant { return r.startUnix.Add(time.Since(r.start)) }

// Timer runs a function at an Instant. Reset re-arms it (the zero Instant
// disarms it); Stop disarms it. A timer may fire late, never early, and
// at most once per arming; its function must tolerate a firing that a
// concurrent Reset or Stop arrived too late to prevent.
type Timer interface {
	Reset(at Instant)
	Stop()
}

// TimerClock is a Clock that can also make Timers: what a host needs to
// run protocol cores. RealTimers is the wall-clock one; the simulator's
// runner (package simrun) provides a virtual one.
type TimerClock interface {
	Clock
	// NewTimer returns a disarmed Timer that calls fn when it fires. fn
	// runs on a goroutine of the clock's choosing.
	NewTimer(fn func()) Timer
}

// RealTimers is a TimerClock on the machine's monotonic clock.
type RealTimers struct{ *Real }

// NewRealTimers returns a TimerClock started now.
func NewRealTimers() RealTimers { return RealTimers{NewReal()} }

// NewTimer returns a disarmed wall-clock Timer. The runtime's timer is
// made when it is first armed: a host makes a timer for every connection
// and deadline, and one made armed and stopped at once costs an insertion
// into and a removal from the runtime's timer heap for nothing.
func (r RealTimers) NewTimer(fn func()) Timer { return &realTimer{clk: r.Real, fn: fn} }

type realTimer struct {
	clk *Real
	fn  func()
	t   atomic.Pointer[time.Timer] // nil until first armed
}

func (t *realTimer) Reset(at Instant) {
	if at.IsZero() {
		t.Stop()
		return
	}
	d := max(at.Sub(t.clk.Now()), 0)
	if rt := t.t.Load(); rt != nil {
		rt.Reset(d)
		return
	}
	rt := time.AfterFunc(d, t.fn)
	if !t.t.CompareAndSwap(nil, rt) {
		// A concurrent first Reset made it first: arm that one instead
		// (a firing of ours already under way is one the Timer contract
		// lets the function see).
		rt.Stop()
		t.t.Load().Reset(d)
	}
}

func (t *realTimer) Stop() {
	if rt := t.t.Load(); rt != nil {
		rt.Stop()
	}
}
