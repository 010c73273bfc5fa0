package lab

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Defaults of a live run (LiveConfig's zero values).
const (
	// DefaultMaxConns is how many connections Serve serves at once.
	DefaultMaxConns = 256
	// DefaultIdleTimeout is how long one recv or send may wait.
	DefaultIdleTimeout = 60 * time.Second
	// DefaultRetries is how many times Dial retries a refused connect.
	DefaultRetries = 20
)

// retryEvery is the pause between Dial's attempts while the peer refuses.
const retryEvery = 500 * time.Millisecond

// maxConns is cfg.MaxConns with its default.
func (cfg *LiveConfig) maxConns() int {
	if cfg.MaxConns <= 0 {
		return DefaultMaxConns
	}
	return cfg.MaxConns
}

// idle is cfg.IdleTimeout with its default; 0 means no limit.
func (cfg *LiveConfig) idle() time.Duration {
	switch {
	case cfg.IdleTimeout < 0:
		return 0
	case cfg.IdleTimeout == 0:
		return DefaultIdleTimeout
	}
	return cfg.IdleTimeout
}

// server is a Serve run: each accepted connection is served on its own
// goroutine, at most cfg.maxConns() at once. Beyond that the server does
// not accept: new connections wait in the stack's listen backlog, and when
// it is full the stack does what a kernel does (drop, or SYN cookies).
type server struct {
	cfg   *LiveConfig
	live  *liveRun
	slots chan struct{}
	wg    sync.WaitGroup

	mu   sync.Mutex
	open map[*Conn]*bool // being served → stopped by the server
	sum  serveSum
}

// serveSum is what the summary line says.
type serveSum struct {
	conns, resets, failed, idled, stopped int
	in, sent                              uint64
}

// String is the summary line (without its newline).
func (s serveSum) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "served %d connections: %s in, %s out, %d resets, %d errors, %d idle timeouts",
		s.conns, byteCount(s.in), byteCount(s.sent), s.resets, s.failed, s.idled)
	if s.stopped > 0 {
		fmt.Fprintf(&b, ", %d open at the stop (reset)", s.stopped)
	}
	return b.String()
}

func newServer(cfg *LiveConfig, run *liveRun) *server {
	return &server{cfg: cfg, live: run, slots: make(chan struct{}, cfg.maxConns()),
		open: map[*Conn]*bool{}}
}

// run accepts and serves connections until cfg.Count of them were
// accepted and have ended, or ctx ends. Then it resets the connections
// still open, waits for their goroutines and prints the summary.
func (s *server) run(ctx context.Context, accept func() *Conn) error {
accepting:
	for n := 0; s.cfg.Count == 0 || n < s.cfg.Count; n++ {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			break accepting
		}
		c := accept()
		if c == nil { // the listener closed: ctx ended
			break
		}
		s.wg.Add(1)
		go s.serve(c, n+1)
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.stopAll()
		<-done
	}
	s.live.out.say("%s\n", s.summary())
	return ctx.Err()
}

// summary returns the run's counters so far.
func (s *server) summary() serveSum {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sum
}

// serve runs the app on c, connection number id, then prints its line.
func (s *server) serve(c *Conn, id int) {
	defer s.wg.Done()
	defer func() { <-s.slots }()
	l := s.live.conn(s.cfg, c, id)
	stopped := new(bool)
	s.mu.Lock()
	s.open[c] = stopped
	s.mu.Unlock()

	s.cfg.App.Server(c, s.cfg.Variant)

	s.mu.Lock()
	delete(s.open, c)
	wasStopped := *stopped
	s.mu.Unlock()
	end, rst := ended(c, l, wasStopped)
	s.mu.Lock()
	s.sum.add(l, end)
	s.mu.Unlock()
	s.live.out.say("%s", l.line(s.live.h.st.Clock().Now(), end, rst, c.idle))
}

// ended classifies how c ended, once its app returned.
func ended(c *Conn, l *connLog, stopped bool) (connEnd, rstCount) {
	var rst rstCount
	if c.c != nil {
		st := c.c.Stats()
		rst = rstCount{st.RSTsIn, st.RSTsOut}
	}
	switch {
	case stopped:
		return endStopped, rst
	case c.idled:
		return endIdle, rst
	case rst.in+rst.out > 0:
		return endReset, rst
	case l.failed != "":
		return endFailed, rst
	}
	return endClean, rst
}

func (s *serveSum) add(l *connLog, e connEnd) {
	s.conns++
	s.in += l.in
	s.sent += l.sent
	switch e {
	case endStopped:
		s.stopped++
		s.resets++
	case endIdle:
		s.idled++
		s.resets++
	case endReset:
		s.resets++
	case endFailed:
		s.failed++
	}
}

// stopAll resets every connection being served, so that their apps
// return: serve is stopping.
func (s *server) stopAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c, stopped := range s.open {
		*stopped = true
		c.reset()
	}
}

// reset aborts c from outside its app (the run stops): an RST, or DCCP's
// Reset; the app's blocked call returns.
func (c *Conn) reset() {
	if c.c != nil {
		c.c.SetLinger(0)
		c.c.Close()
	} else {
		c.d.Abort()
	}
}
