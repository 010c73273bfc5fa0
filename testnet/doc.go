// Package testnet puts Go programs on a real TCP (and DCCP) over a
// simulated, faulty network in one line, shaped like the standard
// library's test helpers:
//
//	n := testnet.New(t)
//	srv := n.NewServer(handler)          // an *httptest.Server on host "server"
//	resp, err := srv.Client().Get(srv.URL)
//
// Every host is one of teardown's stacks (package stack) with its own
// addresses (10.0.0.N and fd00::N), attached to a netsim network in which
// every pair of hosts is joined by a link (1 ms each way unless Link says
// otherwise). Host.Listen and Host.DialContext take Go's network and
// address strings ("tcp", "tcp4", "tcp6", "dccp"; "server:80"), and
// Host.DialContext fits http.Transport.DialContext.
//
// # Time
//
// Inside a testing/synctest bubble the network runs in the bubble's
// virtual time: a background goroutine drives the simulation with
// simrun.Runner.DriveBackground (Drive's loop for a goroutine beside the
// test), letting every goroutine of the bubble settle before it runs the
// next network event — it sleeps one nanosecond of the bubble's time
// instead of calling synctest.Wait, so the test itself may still call
// synctest.Wait, and keeps those nanoseconds out of the network's clock.
// The goroutines a network event wakes wait until the event is over
// (gate.go), and the stacks process every segment on the driver. A test
// then takes no real time, and the same seed gives the same run, packet
// for packet and pcap byte for pcap byte, as long as the programs do not
// race among themselves (two goroutines woken by one event that both
// send do). The bubble's clock (time.Now) runs a few nanoseconds ahead of
// the network's (the capture's timestamps).
//
// Outside a bubble the same simulation runs on the wall clock
// (simrun.Runner.DriveRealTime): latency is real latency, the faults are
// still drawn from the seed, but the Go scheduler decides the rest, so
// runs are not repeatable.
//
// # Seeds, captures and failures
//
// The seed comes from the test's name unless Seed or the -testnet.seed flag
// says otherwise. Every packet every host sends is captured to a pcap file
// as it leaves the host, before the link loses or corrupts it (a packet a
// host sends itself never leaves it, and a jam's packets enter the
// capture when the jam releases them). When the
// test fails, the network logs the seed, the command that replays the
// test, a table of every socket on every host, the faults that fired and
// the path of the capture, which it keeps; -testnet.pcap=DIR keeps the
// captures of passing tests too.
//
// # Faults
//
// Network.Link sets the faults of the link between two hosts, in the
// vocabulary of netem and toxiproxy (Latency, Jitter, Rate, Loss,
// GilbertElliott, Duplicate, Reorder, Corrupt, Timeout, LimitData,
// Slicer) plus the ones only a real TCP can show (DelayFIN, DropFIN,
// DropHandshakeACK, ResetAfter), one way with Upstream or Downstream,
// for some connections with AfterConnections, Toxicity or AfterBytes,
// for a time with Between, At or Until; Network.Partition
// cuts a link, Network.Jam holds its packets until Release, Host.Crash
// makes a host vanish without a FIN or RST and Host.Restart brings it back
// with a new stack. docs/testing.md is the guide.
package testnet
