package tcp

import (
	"testing"
	"unsafe"
)

// pair is two established Conns wired back to back with immediate
// delivery, for the steady-state path.
type pair struct {
	a, b *Conn
	seg  Segment
	buf  []byte
}

func newPair(t testing.TB) *pair {
	cfg := DefaultConfig()
	p := &pair{a: NewActive(startTime, &cfg, localISS), buf: make([]byte, 64<<10)}
	p.a.NextSegment(startTime, &p.seg)
	p.b = NewPassive(startTime, &cfg, remoteISS, &p.seg)
	p.a.SetNoDelay(true) // no timers run here: the tail must not wait for a delayed ACK
	p.shuttle()
	if p.a.State() != Established || p.b.State() != Established {
		t.Fatalf("pair: states %v, %v", p.a.State(), p.b.State())
	}
	return p
}

// shuttle moves segments both ways until both are quiet.
func (p *pair) shuttle() {
	for moved := true; moved; {
		moved = false
		for p.a.NextSegment(startTime, &p.seg) {
			p.b.HandleSegment(startTime, &p.seg)
			moved = true
		}
		for p.b.NextSegment(startTime, &p.seg) {
			p.a.HandleSegment(startTime, &p.seg)
			moved = true
		}
	}
}

// round writes 16 KiB from a to b and reads it.
func (p *pair) round(t testing.TB) {
	n, err := p.a.Write(startTime, p.buf[:16<<10])
	if err != nil || n != 16<<10 {
		t.Fatalf("Write = %d, %v", n, err)
	}
	p.shuttle()
	total := 0
	for {
		m, _ := p.b.Read(startTime, p.buf)
		if m == 0 {
			break
		}
		total += m
	}
	p.shuttle()
	if total != 16<<10 {
		t.Fatalf("read %d bytes, want %d", total, 16<<10)
	}
}

func TestSteadyStateZeroAlloc(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool (ring blocks) drops items at random under the race detector; scripts/test.sh runs the allocation tests again without -race")
	}
	p := newPair(t)
	p.round(t)
	if n := testing.AllocsPerRun(200, func() { p.round(t) }); n != 0 {
		t.Errorf("bulk data path allocates %v times per 16 KiB round", n)
	}
	if s := p.a.Counters(); s.SegsOut < 200 || s.BytesOut < 200*16<<10 {
		t.Errorf("counters %+v: the rounds moved less data than written", s)
	}
}

func BenchmarkBulkTransfer(b *testing.B) {
	p := newPair(b)
	b.SetBytes(16 << 10)
	b.ReportAllocs()
	for b.Loop() {
		p.round(b)
	}
}

// A Conn is the bulk of an idle connection's memory (BENCHMARKS.md,
// memory-per-conn); it must stay within the runtime's 768-byte size class:
// past it the next class is 896 bytes, 128 more per connection. (Its
// Config is shared, Config.Share, and its small fields packed together.)
func TestConnFitsItsSizeClass(t *testing.T) {
	if n := unsafe.Sizeof(Conn{}); n > 768 {
		t.Fatalf("tcp.Conn is %d bytes, over the 768-byte size class", n)
	}
}
