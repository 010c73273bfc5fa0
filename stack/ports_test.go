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
