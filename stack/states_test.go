package stack

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pipe"
)

// A traced stack (the lab's) hears of every state change from the cores'
// output, not from a hook in the core's Config: its connections share the
// one tcp.Config of the stack (Config.Share), as a plain stack's do.
func TestTracedStackSharesOneTCPConfig(t *testing.T) {
	var mu sync.Mutex
	changes := map[netip.AddrPort][]string{} // local endpoint → "FROM>TO"
	onState := func(_ clock.Instant, local, _ netip.AddrPort, from, to, _ string) {
		mu.Lock()
		changes[local] = append(changes[local], from+">"+to)
		mu.Unlock()
	}
	a, b := pipe.New(1500)
	client, err := New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a, OnStateChange: onState})
	if err != nil {
		t.Fatal(err)
	}
	server, err := New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	l, err := server.ListenTCP(7000, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var conns []*TCPConn
	for range 2 {
		c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.2:7000"))
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}

	shared := client.tcpConfig(netip.MustParseAddr("10.9.0.1"))
	for i, c := range conns {
		c.mu.Lock()
		cfg := c.core.Config()
		c.mu.Unlock()
		if cfg != shared {
			t.Errorf("connection %d runs with a Config of its own (%p), not the stack's shared one (%p)", i, cfg, shared)
		}
	}
	// The hook still hears of every change, named by its connection; a
	// dial returns once its changes were reported.
	mu.Lock()
	defer mu.Unlock()
	want := []string{"CLOSED>SYN-SENT", "SYN-SENT>ESTABLISHED"}
	for _, c := range conns {
		if got := changes[c.tuple.local]; !slices.Equal(got, want) {
			t.Errorf("state changes reported for %v: %v, want %v", c.tuple.local, got, want)
		}
	}
	if len(changes) != len(conns) {
		t.Errorf("state changes reported for %d endpoints, want %d: %v", len(changes), len(conns), fmt.Sprint(changes))
	}
}
