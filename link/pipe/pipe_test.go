package pipe

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/teardown-lab/teardown/link"
)

// collector keeps copies of what it receives.
type collector struct {
	mu  sync.Mutex
	got [][]byte
}

func (c *collector) DeliverPackets(pkts [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, p := range pkts {
		c.got = append(c.got, append([]byte(nil), p...))
	}
}

func packet(n, size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = byte(n + i)
	}
	return p
}

func TestPipe_DeliversIntactPacketsInBothDirections(t *testing.T) {
	a, b := New(1500)
	ca, cb := &collector{}, &collector{}
	a.Attach(ca)
	b.Attach(cb)
	sent := [][]byte{packet(1, 20), packet(2, 1500), packet(3, 0)}
	if n, err := a.WritePackets(sent); n != 3 || err != nil {
		t.Fatalf("WritePackets = %d, %v; want 3, nil", n, err)
	}
	if n, err := b.WritePackets(sent[:1]); n != 1 || err != nil {
		t.Fatalf("WritePackets = %d, %v; want 1, nil", n, err)
	}
	if len(cb.got) != 3 || len(ca.got) != 1 {
		t.Fatalf("a got %d, b got %d; want 1 and 3", len(ca.got), len(cb.got))
	}
	for i := range sent {
		if !bytes.Equal(cb.got[i], sent[i]) {
			t.Fatalf("packet %d arrived altered", i)
		}
	}
	if st := b.Stats(); st.Delivered != 3 || st.Dropped != 0 {
		t.Fatalf("b stats %+v, want 3 delivered", st)
	}
}

func TestPipe_ReceiverGetsCopiesNotTheWritersBuffers(t *testing.T) {
	a, b := New(1500)
	sent := packet(9, 100)
	orig := append([]byte(nil), sent...)
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		if !bytes.Equal(pkts[0], orig) {
			t.Error("the receiver saw different bytes than were written")
		}
		if &pkts[0][0] == &sent[0] {
			t.Error("the receiver was lent the writer's own buffer")
		}
		for i := range pkts[0] {
			pkts[0][i] = 0 // a receiver scribbling on its copy
		}
	}))
	a.WritePackets([][]byte{sent})
	if !bytes.Equal(sent, orig) {
		t.Fatal("the receiver's changes reached the writer's buffer")
	}
}

func TestPipe_ShareBuffersLendsTheWritersSlices(t *testing.T) {
	a, b := New(1500, ShareBuffers())
	sent := [][]byte{packet(1, 60), packet(2, 1500)}
	var got [][]byte
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) { got = append(got, pkts...) }))
	if n, err := a.WritePackets(sent); n != 2 || err != nil {
		t.Fatalf("WritePackets = %d, %v", n, err)
	}
	if len(got) != 2 || &got[0][0] != &sent[0][0] || &got[1][0] != &sent[1][0] {
		t.Fatal("the receiver did not get the writer's own slices")
	}
	// The other direction shares too.
	var back [][]byte
	a.Attach(link.ReceiverFunc(func(pkts [][]byte) { back = append(back, pkts...) }))
	reply := packet(3, 40)
	b.WritePackets([][]byte{reply})
	if len(back) != 1 || &back[0][0] != &reply[0] {
		t.Fatal("the reverse direction copied")
	}
}

func TestPipe_CloseMakesWritesFailAndDropsArrivals(t *testing.T) {
	a, b := New(1500)
	cb := &collector{}
	b.Attach(cb)
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	n, err := a.WritePackets([][]byte{packet(1, 10)})
	if n != 0 || !errors.Is(err, link.ErrClosed) {
		t.Fatalf("write on closed end = %d, %v; want 0, ErrClosed", n, err)
	}
	// b still writes; a, closed, drops what arrives.
	a.Attach(&collector{})
	if n, err := b.WritePackets([][]byte{packet(1, 10)}); n != 1 || err != nil {
		t.Fatalf("write toward closed end = %d, %v; want 1, nil (dropped like on a wire)", n, err)
	}
	if st := a.Stats(); st.Dropped != 1 || st.Delivered != 0 {
		t.Fatalf("closed end stats %+v, want one drop", st)
	}
	if len(cb.got) != 0 {
		t.Fatal("a write on a closed end was delivered")
	}
}

func TestPipe_OversizeIsErrTooBigAfterDeliveringThePrefix(t *testing.T) {
	a, b := New(1280)
	cb := &collector{}
	b.Attach(cb)
	n, err := a.WritePackets([][]byte{packet(1, 1280), packet(2, 1281), packet(3, 10)})
	if n != 1 || !errors.Is(err, link.ErrTooBig) {
		t.Fatalf("WritePackets = %d, %v; want 1, ErrTooBig", n, err)
	}
	if len(cb.got) != 1 || len(cb.got[0]) != 1280 {
		t.Fatalf("delivered %d packets, want only the first", len(cb.got))
	}
}

func TestPipe_NoReceiverDrops(t *testing.T) {
	a, b := New(1500)
	a.WritePackets([][]byte{packet(1, 10), packet(2, 10)})
	cb := &collector{}
	b.Attach(cb)
	b.Attach(nil)
	a.WritePackets([][]byte{packet(3, 10)})
	if st := b.Stats(); st.Dropped != 3 || len(cb.got) != 0 {
		t.Fatalf("stats %+v with %d delivered, want 3 dropped", st, len(cb.got))
	}
}

func TestPipe_ReceiverMayWriteBackFromInsideDelivery(t *testing.T) {
	a, b := New(1500)
	var bounces []byte
	// Each side answers with the packet's first byte plus one, until 10:
	// every answer is delivered inside the outer WritePackets.
	echo := func(self *Endpoint) link.Receiver {
		return link.ReceiverFunc(func(pkts [][]byte) {
			v := pkts[0][0]
			bounces = append(bounces, v)
			if v < 10 {
				if _, err := self.WritePackets([][]byte{{v + 1}}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	a.Attach(echo(a))
	b.Attach(echo(b))
	a.WritePackets([][]byte{{0}})
	if want := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !bytes.Equal(bounces, want) {
		t.Fatalf("bounces %v, want %v", bounces, want)
	}
}

func TestPipe_ConcurrentWritersOnBothEnds(t *testing.T) {
	a, b := New(1500)
	var gotA, gotB, bytesB atomic.Int64
	a.Attach(link.ReceiverFunc(func(p [][]byte) { gotA.Add(int64(len(p))) }))
	b.Attach(link.ReceiverFunc(func(p [][]byte) {
		gotB.Add(int64(len(p)))
		for _, x := range p {
			bytesB.Add(int64(len(x)))
			if x[0] != byte(len(x)) {
				t.Error("a packet was mixed up with another writer's")
			}
		}
	}))
	const writers, per = 4, 500
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				size := 1 + (w*per+i)%255
				p := bytes.Repeat([]byte{byte(size)}, size)
				if _, err := a.WritePackets([][]byte{p, p}); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range per {
				b.WritePackets([][]byte{{1}})
				a.Attach(link.ReceiverFunc(func(p [][]byte) { gotA.Add(int64(len(p))) })) // swapping while b writes
			}
		})
	}
	wg.Wait()
	if gotB.Load() != 2*writers*per || gotA.Load() != writers*per {
		t.Fatalf("b got %d, a got %d; want %d and %d", gotB.Load(), gotA.Load(), 2*writers*per, writers*per)
	}
	var want int64
	for w := range writers {
		for i := range per {
			want += 2 * int64(1+(w*per+i)%255)
		}
	}
	if bytesB.Load() != want {
		t.Fatalf("b got %d bytes, want %d", bytesB.Load(), want)
	}
}

func TestPipe_WriteDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under the race detector")
	}
	a, b := New(65535)
	n := 0
	b.Attach(link.ReceiverFunc(func(p [][]byte) { n += len(p) }))
	batch := [][]byte{packet(1, 1500), packet(2, 65535), packet(3, 40)}
	a.WritePackets(batch) // warm the scratch pool
	if allocs := testing.AllocsPerRun(100, func() { a.WritePackets(batch) }); allocs != 0 {
		t.Fatalf("%v allocations per write, want 0", allocs)
	}
	// One warm-up write, then AllocsPerRun's own warm-up call and 100 runs.
	if n != 3*102 {
		t.Fatalf("delivered %d, want %d", n, 3*102)
	}
}

func TestNew_RejectsNonPositiveMTU(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New(0) did not panic")
		}
	}()
	New(0)
}
