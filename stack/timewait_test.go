package stack_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// A server that closes first keeps the connection in TIME-WAIT for 2*MSL.
// A new SYN from the same client port may start a new connection at once
// when its timestamp is newer (RFC 6191, Linux); and while the old
// connection is in TIME-WAIT, a plain reconnect from a stack that has no
// record of it still works.
func TestTimeWaitReusedByNewSYN(t *testing.T) {
	n := newSimNet(t, 5, simOpts{})
	l, _ := n.server.ListenTCP(80, stack.ListenOptions{})
	var states []string
	n.run.Go(func() {
		for range 2 {
			c, err := l.AcceptTCP()
			if err != nil {
				t.Error(err)
				return
			}
			c.Write([]byte("bye"))
			c.Close() // the server closes first: its side goes to TIME-WAIT
		}
	})
	var second string
	var dialTook time.Duration
	var dialErr error
	n.run.Go(func() {
		remote := netip.AddrPortFrom(serverAddr, 80)
		c, err := n.client.DialTCPWith(context.Background(), remote, stack.DialOptions{LocalPort: 40000})
		if err != nil {
			t.Error(err)
			return
		}
		io.ReadAll(c)
		c.Close()
		states = append(states, c.State())
		// Give the FIN exchange a moment, then reconnect from the same port.
		start := n.run.Now()
		d, err := n.client.DialTCPWith(context.Background(), remote, stack.DialOptions{LocalPort: 40000})
		for errors.Is(err, syscall.EADDRINUSE) {
			// Our own side of the old connection is still closing.
			n.run.Sleep(10 * time.Millisecond)
			d, err = n.client.DialTCPWith(context.Background(), remote, stack.DialOptions{LocalPort: 40000})
		}
		if err != nil {
			dialErr = err
			return
		}
		dialTook = n.run.Now().Sub(start)
		b, _ := io.ReadAll(d)
		second = string(b)
		d.Close()
	})
	n.runAll()
	if dialErr != nil {
		t.Fatalf("reconnect on the 4-tuple in TIME-WAIT: %v", dialErr)
	}
	if second != "bye" {
		t.Fatalf("second connection read %q, want \"bye\"", second)
	}
	// One round trip (10 ms) plus the wait for our own LAST-ACK: no SYN
	// retransmission (1 s), which is what a SYN bounced off TIME-WAIT
	// with a challenge ACK would have cost.
	if dialTook > 100*time.Millisecond {
		t.Fatalf("reconnecting took %v: the SYN was not accepted by the TIME-WAIT connection", dialTook)
	}
}

// Every connection to one peer stamps its TSvals on one clock (RFC 7323
// §5.4, per pair of addresses as Linux), so a SYN that reuses a 4-tuple
// the server holds in TIME-WAIT always carries a newer timestamp and is
// accepted there (RFC 6191): whatever the pause before it, the SYN goes
// once. With an offset derived from each connection's ISN, about half the
// pauses bounced the SYN off PAWS and paid a retransmission.
func TestTimeWaitReuseNeverRetransmitsSYN(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		n := newSimNet(t, seed, simOpts{})
		l, _ := n.server.ListenTCP(80, stack.ListenOptions{})
		n.run.Go(func() {
			for range 2 {
				c, err := l.AcceptTCP()
				if err != nil {
					t.Error(err)
					return
				}
				c.Write([]byte("bye"))
				c.Close()
			}
		})
		var second stack.TCPCounters
		n.run.Go(func() {
			remote := netip.AddrPortFrom(serverAddr, 80)
			opts := stack.DialOptions{LocalPort: 40000}
			c, err := n.client.DialTCPWith(context.Background(), remote, opts)
			if err != nil {
				t.Error(err)
				return
			}
			io.ReadAll(c)
			c.Close()
			// A pause that differs per seed: TSvals and ISNs advance by
			// different amounts in between.
			n.run.Sleep(time.Duration(seed) * 1237 * time.Microsecond)
			d, err := n.client.DialTCPWith(context.Background(), remote, opts)
			for errors.Is(err, syscall.EADDRINUSE) {
				n.run.Sleep(10 * time.Millisecond)
				d, err = n.client.DialTCPWith(context.Background(), remote, opts)
			}
			if err != nil {
				t.Errorf("seed %d: reconnect: %v", seed, err)
				return
			}
			io.ReadAll(d)
			second = d.Stats()
			d.Close()
		})
		n.runAll()
		if second.Retransmits != 0 || second.RSTsOut != 0 {
			t.Errorf("seed %d: the SYN reusing the server's TIME-WAIT was retransmitted %d times (%d RSTs sent): its timestamp was not newer",
				seed, second.Retransmits, second.RSTsOut)
		}
	}
}
