package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// dualPair is two stacks with an IPv4 and an IPv6 address each, back to
// back on the wall clock.
func dualPair(t *testing.T) (client, server *stack.Stack) {
	ea, eb := pipe.New(1500)
	mk := func(i byte, ep *pipe.Endpoint) *stack.Stack {
		s, err := stack.New(stack.Config{Addrs: []netip.Addr{
			netip.AddrFrom4([4]byte{10, 0, 0, i}),
			netip.AddrFrom16([16]byte{0: 0xfd, 15: i}),
		}, Link: ep})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return mk(1, ea), mk(2, eb)
}

func TestListenTCPAddr_OnlyTheBoundAddressAccepts(t *testing.T) {
	client, server := dualPair(t)
	v4, v6 := netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")
	for _, tc := range []struct {
		bind     string
		accepts  netip.Addr
		refuses  netip.Addr
		wantAddr string
	}{
		{"10.0.0.2", v4, v6, "10.0.0.2:80"},
		{"fd00::2", v6, v4, "[fd00::2]:80"},
		{"0.0.0.0", v4, v6, "0.0.0.0:80"},
		{"::", v6, v4, "[::]:80"},
	} {
		l, err := server.ListenTCPAddr(netip.AddrPortFrom(netip.MustParseAddr(tc.bind), 80), stack.ListenOptions{})
		if err != nil {
			t.Fatalf("bind %s: %v", tc.bind, err)
		}
		if got := l.Addr().String(); got != tc.wantAddr {
			t.Errorf("bind %s: Addr() = %s, want %s", tc.bind, got, tc.wantAddr)
		}
		c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(tc.accepts, 80))
		if err != nil {
			t.Errorf("bind %s: dial %s: %v", tc.bind, tc.accepts, err)
		} else {
			c.Close()
		}
		if _, err := client.DialTCP(context.Background(), netip.AddrPortFrom(tc.refuses, 80)); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("bind %s: dial %s = %v, want ECONNREFUSED: the SYN to another address finds no listener", tc.bind, tc.refuses, err)
		}
		if got := l.Stats().SYNsReceived; got != 1 {
			t.Errorf("bind %s: the listener saw %d SYNs, want only the one to its address", tc.bind, got)
		}
		l.Close()
	}
}

func TestListenTCPAddr_ForeignAddressNotAvailable(t *testing.T) {
	_, server := dualPair(t)
	_, err := server.ListenTCPAddr(netip.MustParseAddrPort("10.0.0.9:80"), stack.ListenOptions{})
	if !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Errorf("listen on an address the stack does not have = %v, want EADDRNOTAVAIL", err)
	}
}

func TestListenTCP_ZeroAddrStillEveryAddress(t *testing.T) {
	client, server := dualPair(t)
	l, err := server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, to := range []string{"10.0.0.2", "fd00::2"} {
		c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(netip.MustParseAddr(to), 80))
		if err != nil {
			t.Errorf("dial %s: %v", to, err)
			continue
		}
		c.Close()
	}
	if got := l.Addr().String(); got != "10.0.0.2:80" {
		t.Errorf("Addr() = %s, want the stack's first address", got)
	}
}
