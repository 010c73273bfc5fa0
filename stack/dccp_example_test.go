package stack_test

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// A DCCP server sends three datagrams and closes before the client's
// application reads them. Under the linux profile the client still reads
// all three (PASSIVE_CLOSEREQ), then end-of-stream; its report says
// nothing was lost to the close.
func ExampleStack_DialDCCP() {
	sim := netsim.New(1)
	ch, sh := sim.AddHost("client", clientAddr), sim.AddHost("server", serverAddr)
	sim.Connect(ch, sh, netsim.LinkConfig{Latency: 5 * time.Millisecond})
	r := simrun.New(sim)
	mk := func(name string, h *netsim.Host, a netip.Addr) *stack.Stack {
		s, _ := stack.New(stack.Config{Name: name, Addrs: []netip.Addr{a}, Link: r.Endpoint(h),
			Clock: r.Clock(), Scheduler: r, Profile: profile.Linux, Seed: 1})
		return s
	}
	client, server := mk("client", ch, clientAddr), mk("server", sh, serverAddr)
	l, _ := server.ListenDCCP(5001, stack.DCCPListenOptions{Services: []uint32{42}})
	r.Go(func() {
		c, _ := l.AcceptDCCP()
		for _, m := range []string{"one", "two", "three"} {
			c.Write([]byte(m))
		}
		c.Close() // CloseReq: the client is asked to close
	})
	r.Go(func() {
		c, err := client.DialDCCP(context.Background(), netip.AddrPortFrom(serverAddr, 5001), stack.DCCPOptions{Service: 42})
		if err != nil {
			fmt.Println(err)
			return
		}
		r.Sleep(time.Second) // the application is busy
		fmt.Println(c.State())
		buf := make([]byte, 100)
		for {
			n, err := c.Read(buf)
			if err != nil {
				fmt.Println(err)
				break
			}
			fmt.Println(string(buf[:n]))
		}
		rep, _ := c.CloseAndWait(context.Background())
		fmt.Println(rep.How, rep.State, rep.UnreadDiscarded)
	})
	r.Run(nil)
	// Output:
	// PASSIVE_CLOSEREQ
	// one
	// two
	// three
	// EOF
	// closed TIMEWAIT 0
}
