package tun

import (
	"os"
	"sync"
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

// Hand-overs racing with the stop: every ACK the writer took is written
// or counted lost, and once it stopped it takes none (the caller writes
// the ACK itself and learns that the device is closed). Before, an ACK
// queued between the drain and the stop was dropped uncounted. The
// writer goroutine runs here against a device whose file is closed, so
// each write it tries fails and is counted.
func TestACKWriter_EveryACKTakenIsCounted(t *testing.T) {
	ack := seg(t, segSpec{flags: wire.ACK, noTS: true})
	for round := range 50 {
		d := closedDevice(t)
		w := newACKWriter(d)
		var taken sync.WaitGroup
		var n [4]int
		for g := range n {
			taken.Add(1)
			go func() {
				defer taken.Done()
				for range 200 {
					if w.handOver(ack) {
						n[g]++
					}
				}
			}()
		}
		w.close()
		taken.Wait()
		total := n[0] + n[1] + n[2] + n[3]
		if got := w.written.Load() + w.errors.Load(); got != uint64(total) {
			t.Fatalf("round %d: %d ACKs taken, %d written or counted lost", round, total, got)
		}
		if w.handOver(ack) {
			t.Fatalf("round %d: the stopped writer took an ACK", round)
		}
	}
}

// failingRC is a device file whose every write fails, as a closed one's.
type failingRC struct{}

func (failingRC) Read(func(uintptr) bool) error  { return os.ErrClosed }
func (failingRC) Write(func(uintptr) bool) error { return os.ErrClosed }

func closedDevice(t *testing.T) *Device {
	t.Helper()
	return &Device{name: "closed", rc: failingRC{}}
}
