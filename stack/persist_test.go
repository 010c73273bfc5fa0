package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// zeroWindowPeer connects the client to a server that accepts and never
// reads, and has a writer fill the server's receive buffer and the
// client's send buffer. It returns the client's connection and the
// writer's result, set when Write returns.
func zeroWindowPeer(t *testing.T, n *simNet) (*stack.TCPConn, *error) {
	t.Helper()
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		if _, err := l.AcceptTCP(); err != nil { // held, never read
			t.Error(err)
		}
	})
	var c *stack.TCPConn
	c, err = nil, nil
	werr := new(error)
	ready := false
	n.run.Go(func() {
		var err error
		c, err = n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		ready = true
		_, *werr = c.Write(make([]byte, 2<<20)) // far more than both buffers
	})
	if err := n.run.Run(func() bool { return ready }); err != nil {
		t.Fatal(err)
	}
	return c, werr
}

// runFor runs the simulation for d of virtual time.
func runFor(t *testing.T, n *simNet, d time.Duration) {
	t.Helper()
	done := false
	n.run.Go(func() { n.run.Sleep(d); done = true })
	if err := n.run.Run(func() bool { return done }); err != nil {
		t.Fatal(err)
	}
}

// The user timeout covers the persist state (RFC 6429): a peer that keeps
// answering window probes with a zero window holds the connection only
// that long, and the blocked Write returns ETIMEDOUT.
func TestZeroWindowPeerUserTimeout(t *testing.T) {
	n := newSimNet(t, 7, simOpts{tcp: stack.TCPOptions{UserTimeout: 30 * time.Second}})
	c, werr := zeroWindowPeer(t, n)
	runFor(t, n, 10*time.Minute)
	if !errors.Is(*werr, stack.ErrTimedOut) {
		t.Errorf("blocked Write returned %v, want ErrTimedOut", *werr)
	}
	if st := c.State(); st != "CLOSED" {
		t.Errorf("after 10 minutes of a shut window the connection is %s, want CLOSED", st)
	}
	n.client.Close()
	n.server.Close()
}

// An application that closed its connection while the peer's window was
// shut leaves an orphan in FIN-WAIT-1; when the peer then goes silent the
// unanswered probes give it up (Linux tcp_orphan_retries, tcp_retries2)
// instead of holding its buffers for ever.
func TestZeroWindowPeerSilentOrphan(t *testing.T) {
	n := newSimNet(t, 8, simOpts{})
	c, _ := zeroWindowPeer(t, n)
	runFor(t, n, 5*time.Second)
	c.Close()
	if st := c.State(); st != "FIN-WAIT-1" {
		t.Fatalf("after Close with a shut window: %s, want FIN-WAIT-1", st)
	}
	n.link.SetDown(netsim.Both)
	runFor(t, n, time.Hour)
	if st := c.State(); st != "CLOSED" {
		t.Errorf("an hour after the peer went silent the orphan is %s, want CLOSED", st)
	}
	n.client.Close()
	n.server.Close()
}
