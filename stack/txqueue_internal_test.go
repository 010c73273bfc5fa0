package stack

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/teardown-lab/teardown/link/pipe"
)

// A socket's output queue that goes quiet (releaseBufs: it holds nothing
// then) and wakes up again takes its small slices back from those quiet
// queues gave up, instead of growing new ones from nothing each time: a
// quiet-busy-quiet cycle allocates nothing once the first has run.
func TestTxQueueWakesUpWithoutAllocating(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops what is put back at random under the race detector")
	}
	a, _ := pipe.New(1500)
	s, err := New(Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	var q txQueue
	cycle := func() {
		mu.Lock()
		for range 3 {
			q.push(q.take(s.mtu), 60)
		}
		q.writeOut(s, &mu)
		q.releaseBufs()
		if q.outq != nil || q.spare != nil || q.free != nil {
			t.Fatal("a quiet queue still holds slices")
		}
		mu.Unlock()
	}
	cycle()
	if n := testing.AllocsPerRun(100, cycle); n != 0 {
		t.Errorf("%v allocations per quiet-busy-quiet cycle, want 0", n)
	}
}
