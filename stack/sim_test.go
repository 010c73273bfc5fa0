package stack_test

import (
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

var (
	clientAddr = netip.MustParseAddr("10.0.0.1")
	serverAddr = netip.MustParseAddr("10.0.0.2")
	// The hosts' addresses under simOpts.v6.
	clientAddr6 = netip.MustParseAddr("fd00::1")
	serverAddr6 = netip.MustParseAddr("fd00::2")
)

// simNet is two stacks, "client" and "server", on a netsim link, driven by
// a simrun.Runner.
type simNet struct {
	t              *testing.T
	sim            *netsim.Sim
	run            *simrun.Runner
	link           *netsim.Link
	client, server *stack.Stack
	// serverIP is the server's address: serverAddr, or serverAddr6.
	serverIP netip.Addr
}

type simOpts struct {
	link          netsim.LinkConfig
	clientProfile profile.Profile
	serverProfile profile.Profile
	tcp           stack.TCPOptions
	mtu           int  // 0 means 1500
	v6            bool // the hosts have IPv6 addresses (clientAddr6, serverAddr6)
}

func newSimNet(t *testing.T, seed uint64, o simOpts) *simNet {
	t.Helper()
	if o.link.Latency == 0 {
		o.link.Latency = 5 * time.Millisecond
	}
	sim := netsim.New(seed)
	sim.SetMaxEvents(5_000_000)
	cAddr, sAddr := clientAddr, serverAddr
	if o.v6 {
		cAddr, sAddr = clientAddr6, serverAddr6
	}
	ch, sh := sim.AddHost("client", cAddr), sim.AddHost("server", sAddr)
	if o.mtu == 0 {
		o.mtu = 1500
	}
	ch.SetMTU(o.mtu)
	sh.SetMTU(o.mtu)
	l := sim.Connect(ch, sh, o.link)
	r := simrun.New(sim)
	mk := func(name string, h *netsim.Host, addr netip.Addr, p profile.Profile, seed uint64) *stack.Stack {
		s, err := stack.New(stack.Config{
			Name: name, Addrs: []netip.Addr{addr}, Link: r.Endpoint(h),
			Clock: r.Clock(), Scheduler: r, Profile: p, TCP: o.tcp, Seed: seed,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	n := &simNet{t: t, sim: sim, run: r, link: l, serverIP: sAddr}
	n.client = mk("client", ch, cAddr, o.clientProfile, seed*2+1)
	n.server = mk("server", sh, sAddr, o.serverProfile, seed*2+2)
	return n
}

// runAll runs the programs started with n.run.Go to their end.
func (n *simNet) runAll() {
	n.t.Helper()
	if err := n.run.Run(nil); err != nil {
		n.t.Fatalf("seed %d: %v", n.sim.Seed(), err)
	}
}
