package simrun_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// The order of set-up that used to hang for ever: stacks that report to
// the Runner (Scheduler: run), a program started with Go and one started
// with a plain go statement, both blocked in the stack — and only then
// Drive. Before the fix, the goroutines parked under Run's turn-taking and
// waited for a turn that Drive never gives. The synctest.Wait before Drive
// makes that order certain, not a race that hangs one run in four.
func TestDriveReleasesProgramsParkedBeforeIt(t *testing.T) {
	for i := range 100 {
		t.Run(fmt.Sprintf("seed=%d", i), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { echoUnderDrive(t, uint64(i)) })
		})
	}
}

// echoOne is a program that echoes one connection on ln until its FIN.
func echoOne(ln *stack.TCPListener) func() {
	return func() {
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}
}

func echoUnderDrive(t *testing.T, seed uint64) {
	cAddr, sAddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	sim := netsim.New(seed)
	a, b := sim.AddHost("client", cAddr), sim.AddHost("server", sAddr)
	sim.Connect(a, b, netsim.LinkConfig{Latency: 5 * time.Millisecond, Loss: 0.05})
	run := simrun.New(sim)
	mk := func(h *netsim.Host, addr netip.Addr) *stack.Stack {
		s, err := stack.New(stack.Config{Addrs: []netip.Addr{addr}, Link: run.Endpoint(h),
			Clock: run.Clock(), Scheduler: run, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	client, server := mk(a, cAddr), mk(b, sAddr)
	ln, err := server.ListenTCP(7, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	run.Go(echoOne(ln)) // parked at its start, waiting for a turn
	var finished atomic.Bool
	var echoed []byte
	var rep stack.CloseReport
	var dialErr, closeErr error
	go func() { // parked in DialTCP, waiting for the SYN-ACK
		defer finished.Store(true)
		c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(sAddr, 7))
		if err != nil {
			dialErr = err
			return
		}
		c.Write([]byte("hello"))
		c.CloseWrite()
		echoed, _ = io.ReadAll(c)
		rep, closeErr = c.GracefulClose(context.Background())
	}()
	synctest.Wait() // both programs are blocked now: the order that hung

	if err := run.Drive(synctest.Wait, finished.Load); err != nil {
		t.Fatal(err)
	}
	if dialErr != nil || closeErr != nil {
		t.Fatalf("dial: %v, close: %v", dialErr, closeErr)
	}
	if string(echoed) != "hello" || rep.Ending != stack.EndGraceful {
		t.Fatalf("the client read %q back and its close ended %s; want hello and graceful", echoed, rep.Ending)
	}
	// The shutdown pattern of Drive's doc: close what programs may still
	// block on, then let the simulation run out so no goroutine outlives
	// the bubble.
	ln.Close()
	client.Close()
	server.Close()
	if err := run.Drive(synctest.Wait, func() bool { return run.Sim().NextEvent().IsZero() }); err != nil {
		t.Fatal(err)
	}
}

// Once Drive has released the turns, Run cannot keep its promise of one
// goroutine at a time: it says so instead of waiting for ever.
func TestRunAfterDriveIsRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		run := simrun.New(netsim.New(1))
		if err := run.Drive(synctest.Wait, func() bool { return true }); err != nil {
			t.Fatal(err)
		}
		if err := run.Run(nil); err == nil {
			t.Fatal("Run after Drive returned nil; want an error")
		}
	})
}
