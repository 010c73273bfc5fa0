package simrun_test

import (
	"bytes"
	"context"
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// echoBeside runs an echo over a 5 ms link with the driver on a goroutine
// of its own (drive) while the test's goroutine is the client, and
// returns the echo and the capture.
func echoBeside(t *testing.T, drive func(r *simrun.Runner, done func() bool) error, clk func(r *simrun.Runner) clock.TimerClock) (string, []byte) {
	cAddr, sAddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	sim := netsim.New(7)
	a, b := sim.AddHost("client", cAddr), sim.AddHost("server", sAddr)
	sim.Connect(a, b, netsim.LinkConfig{Latency: 5 * time.Millisecond})
	var capture bytes.Buffer
	pw, _ := pcap.NewWriter(&capture, 0)
	sim.Capture(pw)
	run := simrun.New(sim)
	mk := func(h *netsim.Host, addr netip.Addr, seed uint64) *stack.Stack {
		s, err := stack.New(stack.Config{Addrs: []netip.Addr{addr}, Link: run.Endpoint(h), Clock: clk(run), Scheduler: run, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	client, server := mk(a, cAddr, 1), mk(b, sAddr, 2)
	ln, _ := server.ListenTCP(7, stack.ListenOptions{})
	go echoOne(ln)()
	var stop atomic.Bool
	driven := make(chan error)
	go func() { driven <- drive(run, stop.Load) }()
	c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(sAddr, 7))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("beside"))
	c.CloseWrite()
	got, _ := io.ReadAll(c)
	c.Close()
	ln.Close()
	stop.Store(true)
	run.Clock().NewTimer(func() {}).Reset(run.Now()) // a post: the loop looks at done
	if err := <-driven; err != nil {
		t.Fatal(err)
	}
	client.Close()
	server.Close()
	return string(got), capture.Bytes()
}

// The settling of DriveBackground stays out of the virtual clock: the
// SYN-ACK leaves exactly one link latency after the SYN.
func TestDriveBackground_SettlingStaysOutOfTheVirtualClock(t *testing.T) {
	var got string
	var capture []byte
	synctest.Test(t, func(t *testing.T) {
		got, capture = echoBeside(t, (*simrun.Runner).DriveBackground, (*simrun.Runner).Clock)
	})
	if got != "beside" {
		t.Fatalf("echoed %q", got)
	}
	r, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	syn, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	synTime := syn.Time
	synack, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if d := synack.Time.Sub(synTime); d != 5*time.Millisecond {
		t.Errorf("the SYN-ACK left %v after the SYN; want the link's 5ms exactly", d)
	}
}

func TestDriveRealTime_Echo(t *testing.T) {
	got, _ := echoBeside(t, (*simrun.Runner).DriveRealTime, func(r *simrun.Runner) clock.TimerClock { return wallNow{r.Clock()} })
	if got != "beside" {
		t.Fatalf("echoed %q", got)
	}
}

// wallNow is the Runner's timers with the wall clock's Now, as
// DriveRealTime's doc advises.
type wallNow struct{ clock.TimerClock }

func (wallNow) Now() clock.Instant { return clock.Instant(time.Now().UnixNano()) }
