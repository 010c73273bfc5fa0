package tcp

import (
	"io"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// longPath is a bulk transfer from A to B over a path with a bottleneck
// in each direction, in virtual time: a link of rate bytes per second
// (IP and TCP headers counted as 52 bytes a packet) behind a tail-drop
// queue of queue bytes, then a fixed one-way delay. It is the model of
// bench/shape, which the bulk-rtt-10ms row runs over in real time; queues
// are FIFO, so a run is cheap enough for 5 s of a 1 Gbit/s path.
type longPath struct {
	t     testing.TB
	now   clock.Instant
	rate  float64
	delay time.Duration
	queue int
	c     [2]*Conn
	cfg   [2]Config
	q     [2]pathQueue // q[i] holds what endpoint i sent
	// The applications: A writes without end from start on (until quiet
	// is set), B reads whatever arrives, at once.
	start       clock.Instant
	quiet       bool
	read, drops int64
	wbuf, rbuf  []byte
	// onSend, when set, sees every segment as it leaves endpoint i.
	onSend func(i int, s *Segment)
}

type pathQueue struct {
	pkts []pathPkt
	head int
	busy clock.Instant // when the link finishes what is queued
}

type pathPkt struct {
	at  clock.Instant
	seg Segment
}

// newLongPath is a path of the given rate (bits per second) and round-trip
// time whose queues hold one bandwidth-delay product, as bulk-rtt-10ms's.
func newLongPath(t testing.TB, bitsPerSecond float64, rtt time.Duration, a, b Config) *longPath {
	rate := bitsPerSecond / 8
	p := &longPath{t: t, now: startTime, rate: rate, delay: rtt / 2,
		queue: max(int(rate*rtt.Seconds()), 64<<10), cfg: [2]Config{a, b},
		wbuf: make([]byte, 256<<10), rbuf: make([]byte, 256<<10)}
	p.c[0] = NewActive(p.now, &p.cfg[0], localISS)
	return p
}

// runFor runs the transfer from the handshake on until d after A is
// established, and returns the bytes B's application read within d.
func (p *longPath) runFor(d time.Duration) int64 {
	for p.start == 0 || p.now.Before(p.start.Add(d)) {
		if !p.step(p.start.Add(d)) {
			p.t.Fatalf("nothing left to happen at %v", p.now.Sub(p.start))
		}
	}
	return p.read
}

// runUntil runs until done reports true, for at most d.
func (p *longPath) runUntil(d time.Duration, done func() bool) {
	end := p.now.Add(d)
	for !done() {
		if !p.now.Before(end) {
			p.t.Fatalf("not done after %v", d)
		}
		if !p.step(end) {
			p.now = end
		}
	}
}

// step runs the applications, sends what both ends have, and moves to the
// next event (not beyond until, once the transfer started).
func (p *longPath) step(until clock.Instant) bool {
	p.apps()
	p.send(0)
	p.send(1)
	next := clock.Instant(0)
	for i := range p.q {
		if q := &p.q[i]; q.head < len(q.pkts) {
			next = clock.Earliest(next, q.pkts[q.head].at)
		}
		if p.c[i] != nil {
			next = clock.Earliest(next, p.c[i].NextDeadline())
		}
	}
	if next == 0 {
		return false
	}
	if p.start != 0 && until.Before(next) {
		next = until
	}
	p.now = max(p.now, next)
	for i := range p.q {
		q := &p.q[i]
		for q.head < len(q.pkts) && q.pkts[q.head].at <= p.now {
			p.deliver(1-i, &q.pkts[q.head].seg)
			q.head++
		}
		if q.head > 4096 && q.head*2 > len(q.pkts) {
			q.pkts = q.pkts[:copy(q.pkts, q.pkts[q.head:])]
			q.head = 0
		}
	}
	for _, c := range p.c {
		if c != nil {
			c.HandleTimer(p.now)
		}
	}
	return true
}

func (p *longPath) apps() {
	a, b := p.c[0], p.c[1]
	if a.State() == Established && p.start == 0 {
		p.start = p.now
	}
	if p.start != 0 && !p.quiet {
		for {
			n, err := a.Write(p.now, p.wbuf)
			if err != nil {
				p.t.Fatalf("A: Write: %v", err)
			}
			if n < len(p.wbuf) {
				break
			}
		}
	}
	if b == nil {
		return
	}
	for {
		n, err := b.Read(p.now, p.rbuf)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.t.Fatalf("B: Read: %v", err)
		}
		if n == 0 {
			break
		}
		p.read += int64(n)
	}
}

// send puts what endpoint i has to send through its bottleneck.
func (p *longPath) send(i int) {
	c := p.c[i]
	if c == nil {
		return
	}
	q := &p.q[i]
	var s Segment
	for c.NextSegment(p.now, &s) {
		if p.onSend != nil {
			p.onSend(i, &s)
		}
		size := len(s.Payload) + 52
		start := max(p.now, q.busy)
		if int(start.Sub(p.now).Seconds()*p.rate)+size > p.queue {
			p.drops++
			continue
		}
		q.busy = start.Add(time.Duration(float64(size) / p.rate * 1e9))
		// What the bytes are matters not here (loop_test.go checks them):
		// every segment carries the same ones, uncopied.
		s.Payload = pathBytes[:len(s.Payload)]
		q.pkts = append(q.pkts, pathPkt{at: q.busy.Add(p.delay), seg: s})
	}
}

func (p *longPath) deliver(to int, s *Segment) {
	if p.c[to] == nil {
		if s.Flags&(wire.SYN|wire.ACK|wire.RST) == wire.SYN {
			p.c[to] = NewPassive(p.now, &p.cfg[to], remoteISS, s)
		}
	} else {
		p.c[to].HandleSegment(p.now, s)
	}
}

var pathBytes = make([]byte, 1<<16)

// advertised is the right edge of the window in s, sent by c.
func advertised(c *Conn, s *Segment) seqnum.V32 {
	return s.Ack.Add(seqnum.Size32(int(s.Window) << c.rcvShift))
}
