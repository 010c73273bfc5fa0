package stack_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// Two hosts on a lossy simulated link: an echo server and a client that
// closes gracefully and learns from the CloseReport that its data arrived.
// The run is deterministic: the same seed prints the same lines.
func Example() {
	cAddr, sAddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	sim := netsim.New(42)
	a, b := sim.AddHost("client", cAddr), sim.AddHost("server", sAddr)
	sim.Connect(a, b, netsim.LinkConfig{Latency: 5 * time.Millisecond, Loss: 0.02})
	run := simrun.New(sim)
	client, _ := stack.New(stack.Config{Addrs: []netip.Addr{cAddr}, Link: run.Endpoint(a), Clock: run.Clock(), Scheduler: run, Seed: 1})
	server, _ := stack.New(stack.Config{Addrs: []netip.Addr{sAddr}, Link: run.Endpoint(b), Clock: run.Clock(), Scheduler: run, Seed: 2})
	ln, _ := server.ListenTCP(7, stack.ListenOptions{})
	run.Go(func() {
		c, _ := ln.AcceptTCP()
		io.Copy(c, c) // echo until the client's FIN
		c.Close()
	})
	run.Go(func() {
		c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(sAddr, 7))
		if err != nil {
			fmt.Println(err)
			return
		}
		c.Write([]byte("hello"))
		rep, err := c.GracefulClose(context.Background())
		fmt.Println("ending:", rep.Ending, "err:", err)
		fmt.Println("echoed bytes drained:", rep.Drained, "delivered:", rep.DataDelivered())
	})
	if err := run.Run(nil); err != nil {
		fmt.Println(err)
	}
	// Output:
	// ending: graceful err: <nil>
	// echoed bytes drained: 5 delivered: true
}
