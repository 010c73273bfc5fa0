package tun

import (
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// ACKs still queued when the writer stops are dropped, as by a device
// going down, and counted with the failed writes; a writer that waits for
// them returns. (Here the writer goroutine is never started, so that the
// queue is known when Close comes.)
func TestACKWriter_StopCountsWhatItDrops(t *testing.T) {
	w := &ackWriter{q: make(chan ackPkt, ackQueueLen), stop: make(chan struct{}), exited: make(chan struct{})}
	w.drained.L = &w.mu
	close(w.exited)
	ack := seg(t, segSpec{flags: wire.ACK, noTS: true})
	for range 3 {
		if !w.handOver(ack) {
			t.Fatal("the queue refused an ACK with room left")
		}
	}
	done := make(chan struct{})
	go func() { w.wait(); close(done) }()
	w.close()
	<-done
	if got := w.errors.Load(); got != 3 || w.written.Load() != 0 {
		t.Errorf("3 ACKs queued at the stop: %d counted lost, %d written; want 3 and 0", got, w.written.Load())
	}
}
