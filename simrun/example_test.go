package simrun_test

// README.md shows the lines between the README markers verbatim, and
// cmd/teardown's TestREADME keeps them equal: edit them here.

// README:begin
import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// echo runs an echo server and a client that closes gracefully over a
// simulated link that loses 2% of the packets, in virtual time, and writes
// the client's side of the wire to capture as a pcap file.
func echo(capture io.Writer) error {
	cAddr, sAddr := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	sim := netsim.New(42) // one seed decides every fault
	a, b := sim.AddHost("client", cAddr), sim.AddHost("server", sAddr)
	sim.Connect(a, b, netsim.LinkConfig{Latency: 5 * time.Millisecond, Loss: 0.02})
	run := simrun.New(sim)
	pw, err := pcap.NewWriter(capture, 0)
	if err != nil {
		return err
	}
	// Seed fixes each stack's ISNs and ports, so that a run repeats exactly.
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{cAddr}, Seed: 1,
		Link: pcap.NewTap(run.Endpoint(a), run.Clock(), pw), Clock: run.Clock(), Scheduler: run})
	if err != nil {
		return err
	}
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{sAddr}, Seed: 2,
		Link: run.Endpoint(b), Clock: run.Clock(), Scheduler: run})
	if err != nil {
		return err
	}
	ln, err := server.ListenTCP(7, stack.ListenOptions{})
	if err != nil {
		return err
	}
	run.Go(func() { // ordinary blocking Go code
		c, err := ln.AcceptTCP()
		if err != nil {
			return
		}
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
		// Shut down, drain until the peer's FIN, close: did my data arrive?
		rep, err := c.GracefulClose(context.Background())
		fmt.Println(rep, err)
	})
	return run.Run(nil) // same seed, same run, same pcap bytes
}

// README:end

// The README's example prints the client's close report: its echo came
// back (drained 5) and everything it sent was acknowledged.
func Example() {
	if err := echo(io.Discard); err != nil {
		fmt.Println(err)
	}
	// Output:
	// graceful (TIME-WAIT): FIN sent=true acked=true received=true, RST sent=false received=false, drained 5, unread 0, unacked 0, unsent 0 <nil>
}
