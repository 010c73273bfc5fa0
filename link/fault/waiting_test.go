package fault

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link"
)

// instant configures a direction that is not a passthrough but delays,
// drops and changes nothing: every packet leaves at once through leave.
var instant = Faults{ReorderDelay: time.Millisecond}

// While one goroutine is held inside the wrapped endpoint, other writers
// queue behind it; the queue holds MaxWaiting packets and the excess is
// dropped and counted, not kept.
func TestWaiting_TailDropsPastMaxWaiting(t *testing.T) {
	g := &gate{entered: make(chan struct{}), release: make(chan struct{})}
	e := mustNew(t, g, Config{Out: instant, MaxWaiting: 3})
	first := make(chan struct{})
	go func() { e.WritePackets([][]byte{pkt(0)}); close(first) }()
	<-g.entered
	for i := 1; i <= 5; i++ {
		if n, err := e.WritePackets([][]byte{pkt(i)}); n != 1 || err != nil {
			t.Fatalf("write %d: %d, %v", i, n, err)
		}
	}
	if s := e.Stats(); s.Out.Overflow != 2 {
		t.Fatalf("overflow %d, want 2 (5 queued behind the exit, room for 3)", s.Out.Overflow)
	}
	close(g.release)
	<-first
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.got) != 4 {
		t.Fatalf("link saw %q, want packets 0 to 3", g.got)
	}
	for i, p := range g.got {
		if !bytes.Equal(p, pkt(i)) {
			t.Fatalf("position %d holds %q, want %q", i, p, pkt(i))
		}
	}
}

// feeder is an inner endpoint that, on each write, writes one more packet
// back into the wrapper (as a link that answers on the caller's goroutine
// would), until total packets were written.
type feeder struct {
	e     *Endpoint
	mu    sync.Mutex
	calls int
	next  int
	total int
	got   [][]byte
}

func (f *feeder) MTU() int { return 1500 }
func (f *feeder) WritePackets(pkts [][]byte) (int, error) {
	f.mu.Lock()
	f.calls++
	for _, p := range pkts {
		f.got = append(f.got, bytes.Clone(p))
	}
	more := f.next < f.total
	i := f.next
	f.next++
	f.mu.Unlock()
	if more {
		f.e.WritePackets([][]byte{pkt(i)})
	}
	return len(pkts), nil
}
func (f *feeder) Attach(link.Receiver) {}
func (f *feeder) Close() error         { return nil }

// A writer at the exit sends its own packets and a bounded number of
// batches queued behind it, then returns even though more keep coming;
// the direction's timer takes the rest, still in order.
func TestWaiting_DrainerHandsBackAfterBoundedWork(t *testing.T) {
	clk := newFakeClock()
	f := &feeder{next: 1, total: 200}
	e := mustNew(t, f, Config{Clock: clk, Out: instant})
	f.e = e
	e.WritePackets([][]byte{pkt(0)})
	f.mu.Lock()
	calls := f.calls
	f.mu.Unlock()
	if calls > drainRounds+1 {
		t.Fatalf("the first writer made %d exit calls before returning, want at most %d", calls, drainRounds+1)
	}
	clk.advance(0) // the timer, armed for now, sends what was left
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.got) != f.total {
		t.Fatalf("link saw %d packets, want %d", len(f.got), f.total)
	}
	for i, p := range f.got {
		if !bytes.Equal(p, pkt(i)) {
			t.Fatalf("position %d holds %q: handing back reordered", i, p)
		}
	}
	if s := e.Stats(); s.Out.Overflow != 0 {
		t.Fatalf("overflow %d, want 0", s.Out.Overflow)
	}
}
