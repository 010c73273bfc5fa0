package shape

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"
)

// collect returns a deliver func that keeps the sequence numbers in
// arrival order, and a way to read them.
func collect() (func([]byte), func() []uint32) {
	var mu sync.Mutex
	var got []uint32
	return func(p []byte) {
			mu.Lock()
			got = append(got, binary.BigEndian.Uint32(p))
			mu.Unlock()
		}, func() []uint32 {
			mu.Lock()
			defer mu.Unlock()
			return append([]uint32(nil), got...)
		}
}

func pkt(i uint32, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint32(b, i)
	return b
}

// A timed line delivers every packet it does not drop, in the order sent,
// and no sooner than its delay.
func TestLine_DelayKeepsOrder(t *testing.T) {
	deliver, got := collect()
	l := NewLine(Path{Delay: 2 * time.Millisecond, Rate: 1e9}, deliver)
	defer l.Close()
	start := time.Now()
	const n = 500
	for i := range uint32(n) {
		l.Send(pkt(i, 1500))
	}
	for time.Since(start) < time.Minute && len(got()) < n {
		time.Sleep(time.Millisecond)
	}
	g := got()
	if len(g) != n {
		t.Fatalf("%d of %d packets arrived", len(g), n)
	}
	for i, v := range g {
		if v != uint32(i) {
			t.Fatalf("position %d holds packet %d", i, v)
		}
	}
}

// An untimed line drops with the path's probability, from its seed: the
// same seed drops the same packets.
func TestLine_LossFollowsSeed(t *testing.T) {
	run := func(seed uint64) []uint32 {
		deliver, got := collect()
		l := NewLine(Path{Loss: 0.1, Seed: seed}, deliver)
		for i := range uint32(10000) {
			l.Send(pkt(i, 64))
		}
		if c := l.Counters(); c.Packets != 10000 || c.Lost+uint64(len(got())) != 10000 {
			t.Fatalf("counters %+v with %d delivered", c, len(got()))
		}
		return got()
	}
	a, b := run(7), run(7)
	if lost := 10000 - len(a); lost < 800 || lost > 1200 {
		t.Errorf("lost %d of 10000 at p = 0.1", lost)
	}
	if len(a) != len(b) {
		t.Fatalf("same seed, %d and %d delivered", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different packets lost (position %d)", i)
		}
	}
}

// The bottleneck's queue holds at most Queue bytes: a burst beyond it is
// dropped at the tail.
func TestLine_QueueDropsTheTail(t *testing.T) {
	deliver, got := collect()
	l := NewLine(Path{Rate: 1e4, Queue: 15000, Delay: time.Millisecond}, deliver) // 10 kB/s: 150 ms a packet
	defer l.Close()
	for i := range uint32(100) {
		l.Send(pkt(i, 1500))
	}
	c := l.Counters()
	if c.QueueDrops < 80 || c.QueueDrops > 90 || c.Lost != 0 {
		t.Errorf("%d of a burst of 100 dropped by a 10-packet queue (%d lost)", c.QueueDrops, c.Lost)
	}
	if n := len(got()); n > 1 {
		t.Errorf("%d packets delivered within the first one's serialization time", n)
	}
}
