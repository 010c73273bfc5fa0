package stack_test

import (
	"context"
	"net/netip"
	"sync"
	"testing"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// Dials from many goroutines at once to one server each get a 4-tuple of
// their own (the port choice and the connection's registration are one
// step, whichever table shard the 4-tuple lands in), and every one of
// them connects; the table then holds exactly the open connections.
func TestConcurrentDialsTakeDistinctPorts(t *testing.T) {
	a, b := pipe.New(1500)
	client, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a,
		EphemeralPorts: [2]uint16{40000, 40000 + 200}})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: b})
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	l, err := server.ListenTCP(80, stack.ListenOptions{Backlog: 512})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	const dialers, each = 16, 8
	conns := make(chan *stack.TCPConn, dialers*each)
	var wg sync.WaitGroup
	for range dialers {
		wg.Go(func() {
			for range each {
				c, err := client.DialTCP(context.Background(), netip.MustParseAddrPort("10.8.0.2:80"))
				if err != nil {
					t.Error(err)
					return
				}
				conns <- c
			}
		})
	}
	wg.Wait()
	close(conns)
	ports := map[uint16]bool{}
	for c := range conns {
		p := c.LocalAddrPort().Port()
		if ports[p] {
			t.Errorf("port %d given to two open connections", p)
		}
		ports[p] = true
	}
	if len(ports) != dialers*each {
		t.Fatalf("%d distinct ports for %d dials", len(ports), dialers*each)
	}
	open := 0
	for _, s := range client.Sockets() {
		if s.Proto == "tcp" && s.State == "ESTABLISHED" {
			open++
		}
	}
	if open != dialers*each {
		t.Errorf("client lists %d established connections, want %d", open, dialers*each)
	}
}
