package stack

import (
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// deadline is a socket's read or write deadline, on the stack's clock. Its
// timer, made on first use, wakes the calls blocked on the deadline's wait
// queue when it passes; they find it expired and return a timeout.
type deadline struct {
	at    clock.Instant
	timer clock.Timer
}

// set moves the deadline to t (zero: none), as net.Conn requires of calls
// already blocked. mu is the socket's lock: the caller holds it, and the
// timer takes it. A deadline already past wakes q's waiters here and now,
// and arms no timer: they find it expired and return, without a timer's
// goroutine waking up only to contend for mu with them (net/http aborts
// its background Read so before every Close). A deadline in the future,
// earlier or later than before, is the timer's; nobody is woken before it.
func (d *deadline) set(s *Stack, mu *sync.Mutex, q *waitq, t time.Time) {
	d.at = instantOf(t)
	if d.at.IsZero() || d.expired(s.clk.Now()) {
		if d.timer != nil {
			d.timer.Stop()
		}
		if !d.at.IsZero() {
			q.wakeAll(s.sched)
		}
		return
	}
	if d.timer == nil {
		d.timer = s.clk.NewTimer(func() {
			mu.Lock()
			q.wakeAll(s.sched)
			mu.Unlock()
		})
	}
	d.timer.Reset(d.at)
}

// stop disarms the deadline's timer, if it has one.
func (d *deadline) stop() {
	if d.timer != nil {
		d.timer.Stop()
	}
}

// expired reports whether the deadline is set and has passed at now.
func (d *deadline) expired(now clock.Instant) bool { return expired(d.at, now) }
