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

// set moves the deadline to t (zero: none) and wakes q's waiters so that
// calls already blocked see the new deadline, as net.Conn requires. mu is
// the socket's lock: the caller holds it, and the timer takes it.
func (d *deadline) set(s *Stack, mu *sync.Mutex, q *waitq, t time.Time) {
	d.at = instantOf(t)
	switch {
	case d.at.IsZero():
		if d.timer != nil {
			d.timer.Stop()
		}
	default:
		if d.timer == nil {
			d.timer = s.clk.NewTimer(func() {
				mu.Lock()
				q.wakeAll(s.sched)
				mu.Unlock()
			})
		}
		d.timer.Reset(d.at)
	}
	q.wakeAll(s.sched)
}

// expired reports whether the deadline is set and has passed at now.
func (d *deadline) expired(now clock.Instant) bool { return expired(d.at, now) }
