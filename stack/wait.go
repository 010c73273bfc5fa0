package stack

import (
	"context"
	"net"
	"runtime"
	"sync"
)

var netErrClosed = net.ErrClosed

// Scheduler is told when a goroutine blocks in a stack call and when it is
// about to be woken. simrun.Runner implements it: that is how a simulation
// knows that every program is waiting for the network, the moment it may
// advance virtual time. Real hosts leave it nil.
type Scheduler interface {
	// Park blocks the calling goroutine until ready is closed and the
	// scheduler lets it run, or until cancel is closed (it then reports
	// true). A simulation runs one program goroutine at a time, in the
	// order they were woken.
	Park(ready, cancel <-chan struct{}) (canceled bool)
	// Unpark is called by the waker just before it closes ready.
	Unpark(ready <-chan struct{})
}

// waiter is one blocked call. Its channel is closed exactly once, by
// whoever wakes it first (an event, a deadline, a context).
type waiter struct {
	ch    chan struct{}
	woken bool
}

// waitq is the set of calls blocked on one condition of a connection. It
// is guarded by the connection's lock.
type waitq struct {
	ws []*waiter
}

// add registers a new waiter; the caller holds the lock.
func (q *waitq) add() *waiter {
	w := &waiter{ch: make(chan struct{})}
	q.ws = append(q.ws, w)
	return w
}

// wakeAll wakes every waiter; the caller holds the lock.
func (q *waitq) wakeAll(s Scheduler) {
	for i, w := range q.ws {
		wake(w, s)
		q.ws[i] = nil
	}
	q.ws = q.ws[:0]
}

func wake(w *waiter, s Scheduler) {
	if w.woken {
		return
	}
	w.woken = true
	if s != nil {
		s.Unpark(w.ch)
	}
	close(w.ch)
}

// block releases mu, waits until w is woken or ctx ends, and retakes mu.
// It reports ctx's error if the context ended first. With yield, a
// goroutine woken in real time first lets the others waiting for a
// processor run (see sock.endTurn).
func block(mu *sync.Mutex, w *waiter, s Scheduler, ctx context.Context, yield bool) error {
	var done <-chan struct{}
	if ctx != nil {
		done = ctx.Done()
	}
	mu.Unlock()
	canceled := false
	if s != nil {
		canceled = s.Park(w.ch, done)
	} else {
		select {
		case <-w.ch:
		case <-done:
			canceled = true
		}
		if yield {
			runtime.Gosched()
		}
	}
	mu.Lock()
	if canceled && !w.woken {
		// Resumed by the context, not by the stack: nobody may wake (and
		// so count) this waiter any more.
		w.woken = true
		return ctx.Err()
	}
	return nil
}
