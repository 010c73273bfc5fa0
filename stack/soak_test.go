package stack_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/netsim"
)

var soakRuns = flag.Int("soak", 1000, "number of seeded runs in TestSoak")

// soakLink draws a faulty link from the seed: loss up to 10%,
// duplication, reordering, corruption, jitter and bandwidth limits.
func soakLink(seed uint64) netsim.LinkConfig {
	r := rand.New(rand.NewPCG(seed, 99))
	return netsim.LinkConfig{
		Latency:      time.Duration(1+r.IntN(20)) * time.Millisecond,
		Jitter:       time.Duration(r.IntN(3)) * time.Millisecond,
		Bandwidth:    int64(5+r.IntN(200)) * 1e6,
		QueuePackets: 50 + r.IntN(200),
		Loss:         r.Float64() * 0.10,
		Duplicate:    r.Float64() * 0.02,
		Reorder:      r.Float64() * 0.05,
		ReorderDelay: time.Duration(1+r.IntN(5)) * time.Millisecond,
		Corrupt:      r.Float64() * 0.01,
	}
}

// TestSoak runs many seeded exchanges over faulty links, some with a short
// partition: in every run every byte arrives once and in order both ways,
// the graceful close ends with FIN both ways and no RST, both connections
// end CLOSED once TIME-WAIT has passed, nothing hangs (simrun reports a
// deadlock, netsim an event limit) and no goroutine is left behind. A
// failure names its seed: go test ./stack -run 'TestSoak/seed=N$'.
func TestSoak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	runs := *soakRuns
	if testing.Short() {
		runs = 100
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			if seed > 1000 {
				replay.OnFailure(t, fmt.Sprintf("-soak=%d", seed))
			} else {
				replay.OnFailure(t)
			}
			n := newSimNet(t, seed, simOpts{link: soakLink(seed)})
			r := rand.New(rand.NewPCG(seed, 7))
			if r.IntN(10) < 3 {
				// A short partition, in one or both directions, while the
				// data flows.
				from := n.sim.Now().Add(time.Duration(r.IntN(300)) * time.Millisecond)
				until := from.Add(time.Duration(50+r.IntN(450)) * time.Millisecond)
				n.link.Partition(from, until, netsim.Direction(r.IntN(3)))
			}
			up, down := 1+r.IntN(200<<10), 1+r.IntN(200<<10)
			err := exchange(n, pattern(seed, up), pattern(seed+1<<32, down))
			if err != nil {
				t.Fatalf("seed %d (%d bytes up, %d down): %v", seed, up, down, err)
			}
		})
		if t.Failed() {
			return
		}
	}
}
