package drill

import (
	"sync/atomic"
	"testing"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
)

// A notify during settle (the stack sending a packet at that instant) must
// not end it: settle returns only once nothing is due at its instant. A
// settle that returned early left its own timer going round the instant,
// and the next settle's timer and that one re-armed each other for ever.
func TestSettle_NotifyDoesNotEndIt(t *testing.T) {
	run := simrun.New(netsim.New(1))
	d := &driver{be: &simBackend{run: run, clk: run.Clock()}}
	var done atomic.Bool
	var dueAfter [2]bool
	run.Go(func() {
		defer done.Store(true)
		for i := range dueAfter {
			now := run.Now()
			d.be.NewTimer(d.notify).Reset(now) // due before settle's timer
			d.settle()
			next := run.Sim().NextEvent()
			dueAfter[i] = next.IsZero() || next.After(now)
		}
	})
	if err := run.Run(done.Load); err != nil {
		t.Fatal(err)
	}
	for i, ok := range dueAfter {
		if !ok {
			t.Errorf("settle %d returned with an event still due at its instant", i)
		}
	}
}
