package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// Outgoing connections take their local ports from Config.EphemeralPorts
// and, once the range is used up towards one peer, fail with
// EADDRNOTAVAIL; a range that is not one is refused.
func TestEphemeralPortRange(t *testing.T) {
	a, b := pipe.New(1500)
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a,
		EphemeralPorts: [2]uint16{40000, 40003}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: b})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	l, err := server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	used := map[uint16]bool{}
	for range 4 {
		c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.8.0.2:80"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		p := c.LocalAddrPort().Port()
		if p < 40000 || p > 40003 || used[p] {
			t.Fatalf("local port %d: outside 40000–40003 or taken twice (%v)", p, used)
		}
		used[p] = true
	}
	if _, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.8.0.2:80")); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("fifth dial with four ports: %v, want EADDRNOTAVAIL", err)
	}
	for _, r := range [][2]uint16{{0, 10}, {5000, 4999}} {
		if _, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.3")}, Link: a, EphemeralPorts: r}); err == nil {
			t.Errorf("EphemeralPorts %v accepted", r)
		}
	}
}

// Ports towards one server are taken in turn from a place of the range
// the destination hashes to (RFC 6056 §3.3.4): a port comes back only
// after the whole range, even when an earlier one is free again, so a
// new connection rarely lands on the server's TIME-WAIT of an old one.
func TestEphemeralPortsTakenInTurn(t *testing.T) {
	a, b := pipe.New(1500)
	const first, last = 40000, 40009
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a,
		EphemeralPorts: [2]uint16{first, last}, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: b})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	for _, port := range []uint16{80, 81} {
		l, err := server.ListenTCP(port, stack.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dial := func(port uint16) *stack.TCPConn {
		c, err := client.DialTCP(ctx, netip.AddrPortFrom(netip.MustParseAddr("10.8.0.2"), port))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	abort := func(c *stack.TCPConn) { // the port is free again at once
		c.SetLinger(0)
		c.Close()
	}
	c := dial(80)
	prev := c.LocalAddrPort().Port()
	abort(c)
	for i := range 14 {
		c := dial(80)
		p := c.LocalAddrPort().Port()
		if want := first + (prev-first+1)%(last-first+1); p != want {
			t.Fatalf("connection %d took port %d after %d, want %d", i+2, p, prev, want)
		}
		prev = p
		abort(c)
	}
	// Another destination has its own place and counter.
	starts := map[uint16]bool{}
	for range 3 {
		c := dial(81)
		starts[c.LocalAddrPort().Port()] = true
		abort(c)
	}
	if len(starts) != 3 {
		t.Errorf("ports towards :81 %v: not three in turn", starts)
	}
}
