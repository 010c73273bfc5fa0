package lab

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
)

// retries is cfg.Retries with its default.
func (cfg *LiveConfig) retries() int {
	switch {
	case cfg.Retries < 0:
		return 0
	case cfg.Retries == 0:
		return DefaultRetries
	}
	return cfg.Retries
}

// connect calls attempt until it succeeds. A refused connect (no listener
// yet) is retried cfg.retries() times, retryEvery apart, each retry said
// on the output; any other error, or the last refusal, is returned with
// what it means. ctx ending stops it.
func (r *liveRun) connect(ctx context.Context, cfg *LiveConfig, to netip.AddrPort, attempt func() error) error {
	retries := cfg.retries()
	for n := 1; ; n++ {
		err := attempt()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, syscall.ETIMEDOUT):
			return fmt.Errorf("connect to %s: no answer (%w): is the peer up and routed?", to, syscall.ETIMEDOUT)
		case !errors.Is(err, syscall.ECONNREFUSED):
			return fmt.Errorf("connect to %s: %w", to, err)
		case n > retries:
			return fmt.Errorf("connect to %s: refused %d times in %.1f s (%w): is a server listening there?",
				to, n, seconds(r.h.st.Clock().Now().Sub(r.t0)), syscall.ECONNREFUSED)
		}
		r.out.say("%9.3f  connect to %s refused (no listener yet?): retry %d of %d in %s\n",
			seconds(r.h.st.Clock().Now().Sub(r.t0)), to, n, retries, retryEvery)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(retryEvery):
		}
	}
}

// watchSYNs says each time our stack sends a SYN again while a connect to
// to waits for an answer, until the returned function is called. The
// stack has this one connection, so its retransmissions are the SYN's.
func (r *liveRun) watchSYNs(to netip.AddrPort) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	base := r.h.st.Stats().TCP.Retransmits
	go func() {
		defer close(finished)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		said := base
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if n := r.h.st.Stats().TCP.Retransmits; n > said {
				said = n
				r.out.say("%9.3f  no answer from %s yet: SYN sent again (%d)\n",
					seconds(r.h.st.Clock().Now().Sub(r.t0)), to, n-base)
			}
		}
	}()
	return func() { close(done); <-finished }
}

// client runs the app's client on c, a connection dial opened at start,
// prints its line and says whether it had to give up. ctx ending (Ctrl-C)
// resets the connection, so that the app returns at once.
func (r *liveRun) client(ctx context.Context, cfg *LiveConfig, c *Conn, start clock.Instant) error {
	l := r.conn(cfg, c, 0)
	call, _ := c.h.rec.begin(c.h.Name, trace.CallConnect, "", "")
	c.h.rec.end(call, start, trace.ResultOK, 0, "")
	var stopped atomic.Bool
	stop := context.AfterFunc(ctx, func() { stopped.Store(true); c.reset() })
	clientFor(cfg.App, cfg.Proto)(c, cfg.Variant)
	stop()
	end, rst := ended(c, l, stopped.Load())
	r.out.say("%s", l.line(r.h.st.Clock().Now(), end, rst, c.idle))
	switch end {
	case endStopped:
		return ctx.Err()
	case endIdle:
		return fmt.Errorf("%s: the connection waited %s (--idle-timeout) and was reset", l.peer, c.idle)
	}
	return nil
}
