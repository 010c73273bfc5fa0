package simrun

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/netsim"
)

var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
)

// packet is a minimal IPv4 packet carrying a 4-byte number (protocol 253,
// reserved for experiments).
func packet(src, dst netip.Addr, n uint32) []byte {
	p := make([]byte, 24)
	p[0] = 0x45
	binary.BigEndian.PutUint16(p[2:], 24)
	p[8] = 64
	p[9] = 253
	s, d := src.As4(), dst.As4()
	copy(p[12:], s[:])
	copy(p[16:], d[:])
	binary.BigEndian.PutUint16(p[10:], wire.Checksum(p[:20]))
	binary.BigEndian.PutUint32(p[20:], n)
	return p
}

// mailbox is a blocking receive queue written the way the stack writes its
// sockets: a goroutine that must wait calls Park, the waker calls Unpark
// before waking it.
type mailbox struct {
	r    *Runner
	mu   sync.Mutex
	q    []uint32
	wait chan struct{}
}

func (m *mailbox) DeliverPackets(pkts [][]byte) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range pkts {
		m.q = append(m.q, binary.BigEndian.Uint32(p[20:]))
	}
	if m.wait != nil {
		if m.r != nil {
			m.r.Unpark(m.wait)
		}
		close(m.wait)
		m.wait = nil
	}
}

func (m *mailbox) recv() uint32 {
	m.mu.Lock()
	for len(m.q) == 0 {
		ch := make(chan struct{})
		m.wait = ch
		m.mu.Unlock()
		if m.r != nil {
			m.r.Park(ch, nil)
		} else {
			<-ch
		}
		m.mu.Lock()
	}
	v := m.q[0]
	m.q = m.q[1:]
	m.mu.Unlock()
	return v
}

func twoHosts(seed uint64, cfg netsim.LinkConfig) (*Runner, link.Endpoint, link.Endpoint) {
	sim := netsim.New(seed)
	a, b := sim.AddHost("a", addrA), sim.AddHost("b", addrB)
	sim.Connect(a, b, cfg)
	r := New(sim)
	return r, r.Endpoint(a), r.Endpoint(b)
}

// A ping-pong between two program goroutines: virtual time advances only
// by the link's latency, whatever the goroutines do in between.
func TestRunPingPongTakesExactlyTheLatency(t *testing.T) {
	r, ea, eb := twoHosts(1, netsim.LinkConfig{Latency: 10 * time.Millisecond})
	ma, mb := &mailbox{r: r}, &mailbox{r: r}
	ea.Attach(ma)
	eb.Attach(mb)
	start := r.Now()
	var got []uint32
	r.Go(func() { // b: echo n+1, 5 times
		for range 5 {
			n := mb.recv()
			eb.WritePackets([][]byte{packet(addrB, addrA, n+1)})
		}
	})
	r.Go(func() { // a: send 0, read the answer, send it on
		n := uint32(0)
		for range 5 {
			ea.WritePackets([][]byte{packet(addrA, addrB, n)})
			n = ma.recv()
			got = append(got, n)
		}
	})
	if err := r.Run(nil); err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 || got[4] != 5 {
		t.Fatalf("a read %v, want 1..5", got)
	}
	if d := r.Now().Sub(start); d != 100*time.Millisecond {
		t.Fatalf("5 round trips of 2x10ms took %v of virtual time, want exactly 100ms", d)
	}
}

func TestRunReportsDeadlock(t *testing.T) {
	r, _, eb := twoHosts(1, netsim.LinkConfig{})
	mb := &mailbox{r: r}
	eb.Attach(mb)
	r.Go(func() { mb.recv() }) // nobody ever sends
	err := r.Run(nil)
	if !errors.Is(err, ErrDeadlock) {
		t.Fatalf("Run = %v, want ErrDeadlock", err)
	}
	// Unblock the goroutine so the test leaks nothing.
	mb.r = nil
	mb.DeliverPackets([][]byte{packet(addrA, addrB, 0)})
}

func TestTimersFireInVirtualTime(t *testing.T) {
	r, _, _ := twoHosts(1, netsim.LinkConfig{})
	clk := r.Clock()
	start := clk.Now()
	var fired []time.Duration
	t1 := clk.NewTimer(func() { fired = append(fired, clk.Now().Sub(start)) })
	t2 := clk.NewTimer(func() { fired = append(fired, clk.Now().Sub(start)) })
	t1.Reset(start.Add(3 * time.Second))
	t2.Reset(start.Add(time.Second))
	t3 := clk.NewTimer(func() { t.Error("a stopped timer fired") })
	t3.Reset(start.Add(2 * time.Second))
	t3.Stop()
	if err := r.Run(nil); err != nil {
		t.Fatal(err)
	}
	if len(fired) != 2 || fired[0] != time.Second || fired[1] != 3*time.Second {
		t.Fatalf("fired at %v, want [1s 3s]", fired)
	}
	var _ clock.TimerClock = clk
}

// Under testing/synctest, goroutines the Runner does not know about are
// fine: Drive waits for the bubble to settle.
func TestDriveInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := netsim.New(7)
		a, b := sim.AddHost("a", addrA), sim.AddHost("b", addrB)
		sim.Connect(a, b, netsim.LinkConfig{Latency: 5 * time.Millisecond})
		r := New(sim)
		ea, eb := r.Endpoint(a), r.Endpoint(b)
		ma, mb := &mailbox{}, &mailbox{}
		ea.Attach(ma)
		eb.Attach(mb)
		done := make(chan uint32)
		go func() {
			n := mb.recv()
			time.Sleep(time.Millisecond) // a program's own timer, in fake time
			eb.WritePackets([][]byte{packet(addrB, addrA, n*2)})
		}()
		go func() {
			ea.WritePackets([][]byte{packet(addrA, addrB, 21)})
			done <- ma.recv()
		}()
		var got uint32
		finished := false
		go func() { got = <-done; finished = true }()
		if err := r.Drive(synctest.Wait, func() bool { return finished }); err != nil {
			t.Fatal(err)
		}
		if got != 42 {
			t.Fatalf("got %d, want 42", got)
		}
	})
}

func TestSleepAdvancesVirtualTimeOnly(t *testing.T) {
	r, _, _ := twoHosts(1, netsim.LinkConfig{})
	start := r.Now()
	var woke []time.Duration
	r.Go(func() {
		r.Sleep(2 * time.Second)
		woke = append(woke, r.Now().Sub(start))
	})
	r.Go(func() {
		r.Sleep(time.Second)
		woke = append(woke, r.Now().Sub(start))
	})
	if err := r.Run(nil); err != nil {
		t.Fatal(err)
	}
	if len(woke) != 2 || woke[0] != time.Second || woke[1] != 2*time.Second {
		t.Fatalf("woke at %v, want [1s 2s]", woke)
	}
}
