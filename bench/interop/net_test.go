package interop

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/teardown-lab/teardown/bench/gvlink"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/stack"
)

var (
	oursAddr = netip.MustParseAddr("10.9.0.1")
	gvAddr   = netip.MustParseAddr("10.9.0.2")
)

// testTimeout bounds every test so that a stall fails instead of hanging.
const testTimeout = 60 * time.Second

// testNet is our stack and a gVisor stack joined by a bridge, with
// optional seeded loss on our side of it.
type testNet struct {
	ours *stack.Stack
	gv   *gvstack.Stack
	loss *gvlink.Loss
}

type netOpts struct {
	mtu  int
	loss float64
	seed uint64
}

func newNet(t *testing.T, o netOpts) *testNet {
	t.Helper()
	if o.mtu == 0 {
		o.mtu = 1500
	}
	br := gvlink.New(o.mtu)
	var ep link.Endpoint = br.Ours()
	n := &testNet{}
	if o.loss > 0 {
		n.loss = gvlink.NewLoss(ep, o.loss, o.seed)
		ep = n.loss
	}
	var err error
	n.ours, err = stack.New(stack.Config{Name: "ours", Addrs: []netip.Addr{oursAddr}, Link: ep, Seed: o.seed + 1})
	if err != nil {
		t.Fatal(err)
	}
	n.gv, err = gvlink.NewStack(br.GVisor(), gvlink.StackOptions{Addr: gvAddr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		n.ours.Close()
		n.gv.Close()
		n.gv.Wait()
	})
	return n
}

func (n *testNet) gvListen(t *testing.T, port uint16) *gonet.TCPListener {
	t.Helper()
	l, err := gonet.ListenTCP(n.gv, gvlink.FullAddr(netip.AddrPortFrom(gvAddr, port)), ipv4.ProtocolNumber)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func (n *testNet) gvDial(ctx context.Context, port uint16) (*gonet.TCPConn, error) {
	return gonet.DialContextTCP(ctx, n.gv, gvlink.FullAddr(netip.AddrPortFrom(oursAddr, port)), ipv4.ProtocolNumber)
}

func (n *testNet) oursDial(ctx context.Context, port uint16) (*stack.TCPConn, error) {
	return n.ours.DialTCP(ctx, netip.AddrPortFrom(gvAddr, port))
}

// gvResetsSent is how many RSTs the gVisor stack has sent.
func (n *testNet) gvResetsSent() uint64 { return n.gv.Stats().TCP.ResetsSent.Value() }

// halfCloser is a net.Conn that can shut down its write side (both
// stacks' connections are).
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// waitFor polls cond until it holds or the deadline passes; it is how a
// test waits for the other stack to act, not a timed assertion.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
