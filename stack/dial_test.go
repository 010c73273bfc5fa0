package stack_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// Stack.DialContext has net.Dialer's signature: "tcp", "tcp4", "tcp6" and
// "dccp" to "host:port" with a literal IP, over either family; what it
// cannot dial fails with the error net.Dial gives for it, and a refused
// connection still matches its errno.
func TestStack_DialContext(t *testing.T) {
	ea, eb := pipe.New(1500)
	mk := func(ep *pipe.Endpoint, addrs ...string) *stack.Stack {
		var as []netip.Addr
		for _, a := range addrs {
			as = append(as, netip.MustParseAddr(a))
		}
		s, err := stack.New(stack.Config{Addrs: as, Link: ep})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	client := mk(ea, "10.9.2.1", "fd00:92::1")
	server := mk(eb, "10.9.2.2", "fd00:92::2")
	lt, err := server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	ld, err := server.ListenDCCP(81, stack.DCCPListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer ld.Close()
	go func() {
		for {
			if _, err := lt.Accept(); err != nil {
				return
			}
		}
	}()
	go func() {
		for {
			if _, err := ld.Accept(); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tt := range []struct{ network, address, remote string }{
		{"tcp", "10.9.2.2:80", "10.9.2.2:80"},
		{"tcp", "[fd00:92::2]:80", "[fd00:92::2]:80"},
		{"tcp4", "10.9.2.2:80", "10.9.2.2:80"},
		{"tcp6", "[fd00:92::2]:80", "[fd00:92::2]:80"},
		{"dccp", "10.9.2.2:81", "10.9.2.2:81"},
		{"dccp", "[fd00:92::2]:81", "[fd00:92::2]:81"},
	} {
		c, err := client.DialContext(ctx, tt.network, tt.address)
		if err != nil {
			t.Errorf("DialContext(%q, %q): %v", tt.network, tt.address, err)
			continue
		}
		if got, want := c.RemoteAddr(), tt.remote; got.String() != want || got.Network() != map[bool]string{true: "dccp", false: "tcp"}[tt.network == "dccp"] {
			t.Errorf("DialContext(%q, %q): remote %s %v, want %s", tt.network, tt.address, got.Network(), got, want)
		}
		c.Close()
	}

	var unknown net.UnknownNetworkError
	var addrErr *net.AddrError
	var dnsErr *net.DNSError
	for _, tt := range []struct {
		network, address string
		is               func(error) bool
	}{
		{"udp", "10.9.2.2:80", func(err error) bool { return errors.As(err, &unknown) }},
		{"tcp4", "[fd00:92::2]:80", func(err error) bool { return errors.As(err, &addrErr) }},
		{"tcp6", "10.9.2.2:80", func(err error) bool { return errors.As(err, &addrErr) }},
		{"tcp", "server:80", func(err error) bool { return errors.As(err, &dnsErr) && dnsErr.IsNotFound }},
		{"tcp", "10.9.2.2:http", func(err error) bool { return errors.As(err, &addrErr) }},
		{"tcp", "10.9.2.2", func(err error) bool { return errors.As(err, &addrErr) }},
		{"tcp", ":80", func(err error) bool { return errors.As(err, &addrErr) }},
		{"tcp", "10.9.2.2:9", func(err error) bool { return errors.Is(err, syscall.ECONNREFUSED) }},
	} {
		c, err := client.DialContext(ctx, tt.network, tt.address)
		var op *net.OpError
		if c != nil || !errors.As(err, &op) || op.Op != "dial" || !tt.is(err) {
			t.Errorf("DialContext(%q, %q) = %v, %v (%T)", tt.network, tt.address, c, err, err)
		}
	}
}
