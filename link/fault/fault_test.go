package fault

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
)

// fakeClock is a manual clock.TimerClock: time moves only in advance,
// which fires the due timers on the caller's goroutine.
type fakeClock struct {
	mu     sync.Mutex
	now    clock.Instant
	timers []*fakeTimer
}

type fakeTimer struct {
	c  *fakeClock
	at clock.Instant
	fn func()
}

func newFakeClock() *fakeClock { return &fakeClock{now: clock.Instant(1_000_000_000)} }

func (c *fakeClock) Now() clock.Instant {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) NewTimer(fn func()) clock.Timer {
	t := &fakeTimer{c: c, fn: fn}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.mu.Unlock()
	return t
}

func (t *fakeTimer) Reset(at clock.Instant) { t.c.mu.Lock(); t.at = at; t.c.mu.Unlock() }
func (t *fakeTimer) Stop()                  { t.Reset(0) }

// advance moves time forward by d, firing each timer at its deadline in
// deadline order.
func (c *fakeClock) advance(d time.Duration) {
	end := c.Now().Add(d)
	for {
		c.mu.Lock()
		var next *fakeTimer
		for _, t := range c.timers {
			if !t.at.IsZero() && !t.at.After(end) && (next == nil || t.at < next.at) {
				next = t
			}
		}
		if next == nil {
			c.now = end
			c.mu.Unlock()
			return
		}
		c.now = max(c.now, next.at)
		next.at = 0
		c.mu.Unlock()
		next.fn()
	}
}

// recorder is an inner endpoint that keeps copies of what is written.
type recorder struct {
	mu   sync.Mutex
	mtu  int
	got  [][]byte
	recv link.Receiver
}

func (r *recorder) MTU() int { return r.mtu }
func (r *recorder) WritePackets(pkts [][]byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range pkts {
		r.got = append(r.got, bytes.Clone(p))
	}
	return len(pkts), nil
}
func (r *recorder) Attach(rc link.Receiver) { r.mu.Lock(); r.recv = rc; r.mu.Unlock() }
func (r *recorder) Close() error            { return nil }

func (r *recorder) taken() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.got
	r.got = nil
	return g
}

func pkt(i int) []byte { return []byte(fmt.Sprintf("packet-%04d", i)) }

func mustNew(t *testing.T, inner link.Endpoint, cfg Config) *Endpoint {
	t.Helper()
	e, err := New(inner, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestZeroFaultsPassThroughUnchanged(t *testing.T) {
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Clock: newFakeClock()})
	in := [][]byte{pkt(1), pkt(2), pkt(3)}
	if n, err := e.WritePackets(in); n != 3 || err != nil {
		t.Fatalf("WritePackets = %d, %v", n, err)
	}
	got := rec.taken()
	if len(got) != 3 || !bytes.Equal(got[0], pkt(1)) || !bytes.Equal(got[2], pkt(3)) {
		t.Fatalf("a clean link changed the packets: %q", got)
	}
	if s := e.Stats(); s.Out.Packets != 3 || s.Out.Lost+s.Out.Delayed+s.Out.Corrupted != 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestLossRateFollowsConfigAndSeed(t *testing.T) {
	run := func(seed uint64) ([][]byte, Stats) {
		rec := &recorder{mtu: 1500}
		e := mustNew(t, rec, Config{Seed: seed, Clock: newFakeClock(), Out: Faults{Loss: 0.2}})
		for i := range 2000 {
			e.WritePackets([][]byte{pkt(i)})
		}
		return rec.taken(), e.Stats()
	}
	got, st := run(7)
	if st.Out.Lost+uint64(len(got)) != 2000 {
		t.Fatalf("lost %d + passed %d != 2000 offered", st.Out.Lost, len(got))
	}
	if st.Out.Lost < 320 || st.Out.Lost > 480 { // 400 expected; 5 sigma ≈ ±90
		t.Fatalf("lost %d of 2000 at 20%% loss", st.Out.Lost)
	}
	again, _ := run(7)
	if fmt.Sprint(got) != fmt.Sprint(again) {
		t.Fatal("the same seed lost different packets")
	}
	other, _ := run(8)
	if fmt.Sprint(got) == fmt.Sprint(other) {
		t.Fatal("seeds 7 and 8 lost exactly the same packets")
	}
}

func TestLatencyHoldsPacketsUntilDue(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Clock: clk, Out: Faults{Latency: 10 * time.Millisecond}})
	e.WritePackets([][]byte{pkt(1)})
	clk.advance(5 * time.Millisecond)
	e.WritePackets([][]byte{pkt(2)})
	clk.advance(4 * time.Millisecond)
	if got := rec.taken(); len(got) != 0 {
		t.Fatalf("packets left before their latency: %q", got)
	}
	clk.advance(time.Millisecond)
	if got := rec.taken(); len(got) != 1 || !bytes.Equal(got[0], pkt(1)) {
		t.Fatalf("at 10 ms want packet 1 only, got %q", got)
	}
	clk.advance(5 * time.Millisecond)
	if got := rec.taken(); len(got) != 1 || !bytes.Equal(got[0], pkt(2)) {
		t.Fatalf("at 15 ms want packet 2, got %q", got)
	}
	if s := e.Stats(); s.Out.Delayed != 2 {
		t.Fatalf("Delayed = %d, want 2", s.Out.Delayed)
	}
}

func TestJitterNeverReorders(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Seed: 3, Clock: clk, Out: Faults{Latency: time.Millisecond, Jitter: 5 * time.Millisecond}})
	for i := range 200 {
		e.WritePackets([][]byte{pkt(i)})
		clk.advance(100 * time.Microsecond)
	}
	clk.advance(time.Second)
	got := rec.taken()
	if len(got) != 200 {
		t.Fatalf("%d of 200 packets arrived", len(got))
	}
	for i, p := range got {
		if !bytes.Equal(p, pkt(i)) {
			t.Fatalf("position %d holds %q: jitter reordered", i, p)
		}
	}
}

func TestReorderLetsLaterPacketsOvertake(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Seed: 1, Clock: clk, Out: Faults{Reorder: 0.3, ReorderDelay: 3 * time.Millisecond}})
	for i := range 100 {
		e.WritePackets([][]byte{pkt(i)})
		clk.advance(time.Millisecond)
	}
	clk.advance(time.Second)
	got := rec.taken()
	st := e.Stats()
	if len(got) != 100 || st.Out.Reordered == 0 {
		t.Fatalf("%d packets arrived, %d reordered", len(got), st.Out.Reordered)
	}
	inversions := 0
	for i := 1; i < len(got); i++ {
		if bytes.Compare(got[i-1], got[i]) > 0 {
			inversions++
		}
	}
	if inversions == 0 {
		t.Fatal("reordered packets arrived in order")
	}
	seen := map[string]bool{}
	for _, p := range got {
		seen[string(p)] = true
	}
	if len(seen) != 100 {
		t.Fatalf("%d distinct packets, want 100: reordering lost or duplicated some", len(seen))
	}
}

func TestDuplicateAndCorrupt(t *testing.T) {
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Seed: 5, Clock: newFakeClock(), Out: Faults{Duplicate: 0.5, Corrupt: 0.5}})
	// Packets that differ from each other in about half their bits, so a
	// one-bit flip cannot make one look like another.
	orig := make([][]byte, 200)
	for i := range orig {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		orig[i] = h[:]
		e.WritePackets([][]byte{orig[i]})
		if h2 := sha256.Sum256([]byte{byte(i), byte(i >> 8)}); !bytes.Equal(orig[i], h2[:]) {
			t.Fatal("corruption changed the caller's buffer")
		}
	}
	got := rec.taken()
	st := e.Stats()
	if uint64(len(got)) != 200+st.Out.Duplicated || st.Out.Duplicated == 0 || st.Out.Corrupted == 0 {
		t.Fatalf("%d arrived, stats %+v", len(got), st.Out)
	}
	flipped := 0
	for _, p := range got {
		var want []byte
		for i := range orig { // find the original it differs least from
			if d := bitDiff(p, orig[i]); d <= 1 {
				want = orig[i]
				break
			}
		}
		if want == nil {
			t.Fatalf("%q is not a packet with at most one bit flipped", p)
		}
		if bitDiff(p, want) == 1 {
			flipped++
		}
	}
	if uint64(flipped) != st.Out.Corrupted {
		t.Fatalf("%d packets differ by one bit, Corrupted says %d", flipped, st.Out.Corrupted)
	}
}

func bitDiff(a, b []byte) int {
	if len(a) != len(b) {
		return 99
	}
	n := 0
	for i := range a {
		for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
			n++
		}
	}
	return n
}

// The In direction is independent of Out: faults on receive leave writes
// alone, and a pipe carries the packets between two wrapped ends.
func TestDirectionsAreSeparate(t *testing.T) {
	clk := newFakeClock()
	a, b := pipe.New(1500)
	e := mustNew(t, a, Config{Seed: 9, Clock: clk, In: Faults{Loss: 1}})
	var got [][]byte
	e.Attach(link.ReceiverFunc(func(p [][]byte) { got = append(got, p...) }))
	var atB [][]byte
	b.Attach(link.ReceiverFunc(func(p [][]byte) {
		for _, x := range p {
			atB = append(atB, bytes.Clone(x))
		}
	}))
	e.WritePackets([][]byte{pkt(1), pkt(2)})
	b.WritePackets([][]byte{pkt(3)})
	if len(atB) != 2 {
		t.Fatalf("writes crossed a lossless Out direction: %d of 2", len(atB))
	}
	if len(got) != 0 {
		t.Fatalf("total In loss delivered %q", got)
	}
	if s := e.Stats(); s.In.Lost != 1 || s.In.Packets != 1 || s.Out.Packets != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCloseDiscardsDelayedPackets(t *testing.T) {
	clk := newFakeClock()
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Clock: clk, Out: Faults{Latency: time.Second}})
	e.WritePackets([][]byte{pkt(1), pkt(2)})
	e.Close()
	clk.advance(2 * time.Second)
	if got := rec.taken(); len(got) != 0 {
		t.Fatalf("packets left after Close: %q", got)
	}
	if s := e.Stats(); s.Out.Discarded != 2 {
		t.Fatalf("Discarded = %d, want 2", s.Out.Discarded)
	}
	if _, err := e.WritePackets([][]byte{pkt(3)}); !errors.Is(err, link.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}

func TestRejectsBadConfigAndOversizePackets(t *testing.T) {
	rec := &recorder{mtu: 100}
	for _, f := range []Faults{{Loss: -0.1}, {Reorder: 1.5}, {Latency: -1}} {
		if _, err := New(rec, Config{Out: f}); err == nil {
			t.Errorf("faults %+v accepted", f)
		}
	}
	e := mustNew(t, rec, Config{Clock: newFakeClock(), Out: Faults{Loss: 0.1}})
	n, err := e.WritePackets([][]byte{make([]byte, 50), make([]byte, 101), make([]byte, 10)})
	if n != 1 || !errors.Is(err, link.ErrTooBig) {
		t.Fatalf("WritePackets = %d, %v; want 1, ErrTooBig", n, err)
	}
}

func TestNoAllocationWithoutFaultsHit(t *testing.T) {
	rec := &nullEndpoint{}
	clean := mustNew(t, rec, Config{Clock: newFakeClock()})
	armed := mustNew(t, rec, Config{Clock: newFakeClock(), Out: Faults{Loss: 1e-12}})
	pkts := [][]byte{make([]byte, 1400), make([]byte, 1400)}
	for name, e := range map[string]*Endpoint{"clean": clean, "armed but not hit": armed} {
		e.WritePackets(pkts) // warm the pools
		if a := testing.AllocsPerRun(200, func() { e.WritePackets(pkts) }); a != 0 {
			t.Errorf("%s: %v allocations per write", name, a)
		}
	}
}

type nullEndpoint struct{}

func (nullEndpoint) MTU() int                             { return 1500 }
func (nullEndpoint) WritePackets(p [][]byte) (int, error) { return len(p), nil }
func (nullEndpoint) Attach(link.Receiver)                 {}
func (nullEndpoint) Close() error                         { return nil }

// Received packets wait out the In latency before reaching the Receiver,
// and a receiver attached through a pipe sees them in order.
func TestInLatencyDelaysDelivery(t *testing.T) {
	clk := newFakeClock()
	a, b := pipe.New(1500)
	e := mustNew(t, a, Config{Clock: clk, In: Faults{Latency: 2 * time.Millisecond}})
	var got [][]byte
	e.Attach(link.ReceiverFunc(func(p [][]byte) {
		for _, x := range p {
			got = append(got, bytes.Clone(x))
		}
	}))
	b.WritePackets([][]byte{pkt(1), pkt(2)})
	clk.advance(time.Millisecond)
	if len(got) != 0 {
		t.Fatalf("delivered before the latency: %q", got)
	}
	clk.advance(time.Millisecond)
	if len(got) != 2 || !bytes.Equal(got[0], pkt(1)) || !bytes.Equal(got[1], pkt(2)) {
		t.Fatalf("after the latency got %q, want packets 1 and 2 in order", got)
	}
	if s := e.Stats(); s.In.Delayed != 2 || s.Out.Packets != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// gate is an inner endpoint whose first write blocks until released, so
// that a test can hold one goroutine inside the exit.
type gate struct {
	mu      sync.Mutex
	got     [][]byte
	calls   int
	entered chan struct{}
	release chan struct{}
}

func (g *gate) MTU() int { return 1500 }
func (g *gate) WritePackets(pkts [][]byte) (int, error) {
	g.mu.Lock()
	g.calls++
	first := g.calls == 1
	g.mu.Unlock()
	if first { // held before it counts as taken: a later write would land first
		close(g.entered)
		<-g.release
	}
	g.mu.Lock()
	for _, p := range pkts {
		g.got = append(g.got, bytes.Clone(p))
	}
	g.mu.Unlock()
	return len(pkts), nil
}
func (g *gate) Attach(link.Receiver) {}
func (g *gate) Close() error         { return nil }

// A wall-clock timer runs its function on a goroutine of its own, so two
// firings of a direction's timer can overlap: the first still handing its
// packet to the link when the second takes the next one off the queue.
// Delay alone must still never reorder: the second packet leaves after the
// first, and the second firing does not wait for the first.
func TestLatency_OverlappingFiringsKeepOrder(t *testing.T) {
	clk := newFakeClock()
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	e := mustNew(t, g, Config{Clock: clk, Out: Faults{Latency: 10 * time.Millisecond}})
	setNow := func(d time.Duration) { clk.mu.Lock(); clk.now = clock.Instant(1_000_000_000).Add(d); clk.mu.Unlock() }
	e.WritePackets([][]byte{pkt(1)})
	setNow(time.Millisecond)
	e.WritePackets([][]byte{pkt(2)})
	fire := clk.timers[0].fn

	setNow(10 * time.Millisecond) // packet 1 is due, packet 2 is not
	first := make(chan struct{})
	go func() { fire(); close(first) }()
	<-g.entered // the first firing is inside the link with packet 1

	setNow(11 * time.Millisecond) // packet 2 is due
	fire()                        // returns: it does not wait on the first
	close(g.release)
	<-first

	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.got) != 2 || !bytes.Equal(g.got[0], pkt(1)) || !bytes.Equal(g.got[1], pkt(2)) {
		t.Fatalf("link saw %q, want packet 1 then packet 2", g.got)
	}
}

// The same on the wall clock with many writers' worth of packets: a
// stream written with a fixed latency arrives in the order written.
func TestLatency_RealClockNeverReorders(t *testing.T) {
	rec := &recorder{mtu: 1500}
	e := mustNew(t, rec, Config{Out: Faults{Latency: 50 * time.Microsecond}})
	const n = 3000
	for i := range n {
		e.WritePackets([][]byte{pkt(i)})
		if i%64 == 0 {
			time.Sleep(20 * time.Microsecond)
		}
	}
	var got [][]byte
	for give := time.Now().Add(time.Minute); len(got) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(give) {
			t.Fatalf("%d of %d packets arrived", len(got), n)
		}
		got = append(got, rec.taken()...)
	}
	for i, p := range got {
		if !bytes.Equal(p, pkt(i)) {
			t.Fatalf("position %d holds %q: latency reordered", i, p)
		}
	}
	e.Close()
}
