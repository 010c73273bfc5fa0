package tcp

import (
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/wire"
)

// pattern returns byte i of a stream: a position-dependent value, so that a
// misplaced or repeated byte is caught.
func pattern(seed uint64, i int) byte { return byte(uint64(i)*2654435761>>7 + seed + uint64(i)>>13) }

// endpoint is one application over one Conn in the loop test: it writes a
// stream of n bytes, reads the peer's, and closes when both are done.
type endpoint struct {
	c              *Conn
	name           string
	seed           uint64
	total          int
	written, rcvd  int
	closedW, eof   bool
	closed         bool
	readBuf, wrBuf []byte
	mismatch       string
}

func (e *endpoint) pump(now clock.Instant) {
	if e.c == nil {
		return
	}
	for !e.closedW && e.written < e.total {
		n := min(len(e.wrBuf), e.total-e.written)
		for i := 0; i < n; i++ {
			e.wrBuf[i] = pattern(e.seed, e.written+i)
		}
		m, err := e.c.Write(now, e.wrBuf[:n])
		if err != nil {
			e.mismatch = fmt.Sprintf("%s: Write: %v", e.name, err)
			return
		}
		e.written += m
		if m < n {
			break
		}
	}
	if !e.closedW && e.written == e.total && e.c.State() != SynSent && e.c.State() != SynReceived {
		if err := e.c.CloseWrite(now); err != nil {
			e.mismatch = fmt.Sprintf("%s: CloseWrite: %v", e.name, err)
		}
		e.closedW = true
	}
	for !e.eof {
		n, err := e.c.Read(now, e.readBuf)
		for i := 0; i < n; i++ {
			if want := pattern(e.seed^1, e.rcvd+i); e.readBuf[i] != want && e.mismatch == "" {
				e.mismatch = fmt.Sprintf("%s: byte %d = %#x, want %#x", e.name, e.rcvd+i, e.readBuf[i], want)
			}
		}
		e.rcvd += n
		if err == io.EOF {
			e.eof = true
		} else if err != nil {
			e.mismatch = fmt.Sprintf("%s: Read: %v", e.name, err)
			return
		}
		if n == 0 {
			break
		}
	}
	if e.eof && e.closedW && !e.closed {
		e.c.Close(now)
		e.closed = true
	}
}

type inFlight struct {
	at  clock.Instant
	to  int
	seg Segment
}

// loop connects two Conns through an in-test wire with a fixed one-way
// delay and seeded loss.
type loop struct {
	t     testing.TB
	rng   *rand.Rand
	loss  float64
	delay time.Duration
	now   clock.Instant
	ep    [2]*endpoint
	wire  []inFlight
	pool  [][]byte
	cfg   Config
	// drop, when set, decides the fate of each segment instead of the
	// seeded loss: from is the sending endpoint's index.
	drop func(from int, s *Segment) bool
	// cfgB, when set, configures the passive end instead of cfg.
	cfgB *Config
	// rate, when positive, is each direction's link rate in bytes per
	// second: segments are serialized (headers counted as 52 bytes)
	// before the delay, so a window's segments arrive spread out and
	// draw one ACK per one or two segments, as on a real path.
	rate float64
	busy [2]clock.Instant
	// midBatchACK, when set, takes the receiver's output once half of the
	// four or more segments due at one instant were delivered, as the
	// stack does for a batch of deferred segments (stack/sock_defer.go).
	midBatchACK bool
}

func newLoop(t testing.TB, seed uint64, loss float64, size int, cfg Config) *loop {
	l := &loop{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b9)), loss: loss,
		delay: 5 * time.Millisecond, now: startTime, cfg: cfg}
	for i := range l.ep {
		l.ep[i] = &endpoint{name: []string{"A", "B"}[i], seed: uint64(i), total: size,
			readBuf: make([]byte, 3000), wrBuf: make([]byte, 7000)}
	}
	l.ep[0].c = NewActive(l.now, &cfg, localISS)
	return l
}

// send puts every segment endpoint i has to send on the wire.
func (l *loop) send(i int) {
	e := l.ep[i]
	if e.c == nil {
		return
	}
	var s Segment
	for e.c.NextSegment(l.now, &s) {
		if l.drop != nil {
			if l.drop(i, &s) {
				continue
			}
		} else if l.rng.Float64() < l.loss {
			continue
		}
		var buf []byte
		if n := len(l.pool); n > 0 {
			buf, l.pool = l.pool[n-1][:0], l.pool[:n-1]
		}
		s.Payload = append(buf, s.Payload...)
		at := l.now
		if l.rate > 0 {
			l.busy[i] = max(l.now, l.busy[i]).Add(time.Duration(float64(len(s.Payload)+52) / l.rate * 1e9))
			at = l.busy[i]
		}
		l.wire = append(l.wire, inFlight{at: at.Add(l.delay), to: 1 - i, seg: s})
	}
}

// step emits every pending segment, delivers the due ones, and advances
// time to the next event. It reports false when nothing is left to happen.
func (l *loop) step() bool {
	for i, e := range l.ep {
		e.pump(l.now)
		l.send(i)
	}
	next := clock.Instant(0)
	for _, f := range l.wire {
		next = clock.Earliest(next, f.at)
	}
	for _, e := range l.ep {
		if e.c != nil {
			next = clock.Earliest(next, e.c.NextDeadline())
		}
	}
	if next == 0 {
		return false
	}
	l.now = max(l.now, next)
	keep := l.wire[:0]
	var due []inFlight
	for _, f := range l.wire {
		if f.at <= l.now {
			due = append(due, f)
		} else {
			keep = append(keep, f)
		}
	}
	l.wire = keep
	for i, f := range due {
		filled := false
		if r := l.ep[f.to].c; r != nil {
			nxt, gap := r.ReceiveGap()
			l.deliver(f)
			now, _ := r.ReceiveGap()
			filled = gap && now != nxt
		} else {
			l.deliver(f)
		}
		if l.midBatchACK && (i+1 == len(due)/2 && len(due) >= 4 || filled && i+1 < len(due)) {
			// As the stack's deferred queue does (stack/sock_defer.go):
			// the output of the first half of a batch is taken before
			// the second half is processed, and so is the ACK of a
			// segment that filled a gap. (Batches here mix both
			// directions; at most one direction carries data.)
			l.send(f.to)
		}
	}
	for _, e := range l.ep {
		if e.c != nil {
			e.c.HandleTimer(l.now)
			checkTimerMoved(l.t, e.c.NextDeadline(), l.now, e.c.State())
		}
	}
	return true
}

func (l *loop) deliver(f inFlight) {
	e := l.ep[f.to]
	if e.c == nil {
		if f.seg.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN {
			cfg := l.cfg
			if l.cfgB != nil {
				cfg = *l.cfgB
			}
			e.c = NewPassive(l.now, &cfg, remoteISS, &f.seg)
		}
	} else {
		e.c.HandleSegment(l.now, &f.seg)
	}
	l.pool = append(l.pool, f.seg.Payload)
}

func (l *loop) run(maxSteps int) {
	for i := 0; i < maxSteps; i++ {
		if !l.step() {
			return
		}
	}
	l.t.Fatalf("no end after %d steps: A %v, B %v", maxSteps, l.ep[0].c.State(), l.ep[1].c.State())
}

func (l *loop) check(seed uint64) {
	l.t.Helper()
	for i, e := range l.ep {
		want := l.ep[1-i].total
		if e.mismatch != "" {
			l.t.Fatalf("seed %d: %s", seed, e.mismatch)
		}
		if e.c == nil {
			l.t.Fatalf("seed %d: %s never opened", seed, e.name)
		}
		if e.rcvd != want || !e.eof {
			l.t.Fatalf("seed %d: %s received %d of %d bytes (eof %v), state %v", seed, e.name, e.rcvd, want, e.eof, e.c.State())
		}
		if st := e.c.State(); st != Closed {
			l.t.Fatalf("seed %d: %s ended in %v, want CLOSED after TIME-WAIT", seed, e.name, st)
		}
		if s := e.c.Summary(); s.Ending != EndGraceful || s.RSTSent || s.RSTReceived {
			l.t.Fatalf("seed %d: %s summary %+v, want a graceful end", seed, e.name, s)
		}
	}
}

func TestLoop_TransferBothWays(t *testing.T) {
	cfg := DefaultConfig()
	l := newLoop(t, 1, 0, 1<<20, cfg)
	l.run(1_000_000)
	l.check(1)
	if a := l.ep[0].c.Counters(); a.Retransmits != 0 {
		t.Errorf("lossless run retransmitted %d segments", a.Retransmits)
	}
}

func TestLoop_LossSweep(t *testing.T) {
	seeds := 200
	size := 1 << 20
	if testing.Short() {
		seeds, size = 20, 256<<10
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			replay.OnFailure(t)
			cfg := DefaultConfig()
			cfg.RecvBuffer, cfg.SendBuffer = 64<<10, 64<<10
			if seed%2 == 0 {
				cfg.NoSACK, cfg.NoTimestamps, cfg.NoWindowScaling = true, true, true
			}
			l := newLoop(t, seed, 0.05, size, cfg)
			l.run(5_000_000)
			l.check(seed)
		})
	}
}

func TestLoop_SmallBuffersNagle(t *testing.T) {
	cfg := DefaultConfig()
	cfg.MSS, cfg.RecvBuffer, cfg.SendBuffer = 500, 1500, 2000
	l := newLoop(t, 7, 0.02, 100<<10, cfg)
	l.run(2_000_000)
	l.check(7)
}
