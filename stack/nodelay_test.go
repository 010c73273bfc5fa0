package stack_test

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// writeWriteRead runs a write-write-read exchange each way — the client
// writes two bytes in two Writes and waits for two back, which the server
// writes the same way once it has read both — rounds times, and returns
// the longest the client waited, in the simulation's virtual time (5 ms
// each way).
func writeWriteRead(t *testing.T, o stack.TCPOptions, rounds int) time.Duration {
	n := newSimNet(t, 3, simOpts{tcp: o})
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	twice := func(c *stack.TCPConn, a, b string) {
		for _, s := range []string{a, b} {
			if _, err := c.Write([]byte(s)); err != nil {
				t.Error(err)
			}
		}
	}
	n.run.Go(func() {
		c, err := l.AcceptTCP()
		if err != nil {
			t.Error(err)
			return
		}
		for range rounds {
			if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
				t.Error(err)
			}
			twice(c, "x", "y")
		}
	})
	var took time.Duration
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		for range rounds {
			start := n.run.Now()
			twice(c, "a", "b")
			if _, err := io.ReadFull(c, make([]byte, 2)); err != nil {
				t.Error(err)
			}
			took = max(took, n.run.Now().Sub(start))
		}
	})
	n.runAll()
	return took
}

// Connections dialled and accepted have Nagle's algorithm off by default,
// as Go's net.TCPConn does (TCP_NODELAY): the second small write leaves at
// once, so every exchange takes one round trip (10 ms), not the delayed
// ACK the held-back byte waits for once the receiver leaves its quick-ACK
// start (110 ms here). TCPOptions.Nagle turns it back on.
func TestTCPConn_NoDelayByDefault(t *testing.T) {
	const rtt = 10 * time.Millisecond
	if took := writeWriteRead(t, stack.TCPOptions{}, 10); took > rtt+time.Millisecond {
		t.Errorf("write-write-read took %v of virtual time, want one round trip (%v)", took, rtt)
	}
	const delayedACK = 40 * time.Millisecond
	if took := writeWriteRead(t, stack.TCPOptions{Nagle: true}, 10); took < rtt+delayedACK {
		t.Errorf("with Nagle, write-write-read took %v, want at least a round trip and a delayed ACK (%v)", took, rtt+delayedACK)
	}
}
