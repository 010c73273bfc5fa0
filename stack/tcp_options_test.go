package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// openPair runs fn(client, server) on an established connection of n, in
// a program of the simulation, and runs the simulation to its end.
func openPair(t *testing.T, n *simNet, fn func(c, s *stack.TCPConn)) {
	t.Helper()
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		s, err := l.AcceptTCP()
		if err != nil {
			t.Error(err)
			return
		}
		fn(c, s)
		c.Close()
		s.Close()
	})
	n.runAll()
}

// A peer that vanishes behind a dead link is found out by keepalive with
// the timing of SetKeepAliveConfig (RFC 1122 §4.2.3.6): probes after Idle,
// then every Interval, and after Count unanswered ones the blocked Read
// fails with ETIMEDOUT — here 5 s + 3 × 2 s after the last segment.
func TestTCPConn_SetKeepAliveConfig(t *testing.T) {
	n := newSimNet(t, 5, simOpts{})
	openPair(t, n, func(c, _ *stack.TCPConn) {
		if err := c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}); err != nil {
			t.Error(err)
		}
		n.link.SetDown(netsim.Both)
		start := n.run.Now()
		_, err := c.Read(make([]byte, 1))
		if took := n.run.Now().Sub(start); !errors.Is(err, syscall.ETIMEDOUT) || took != 11*time.Second {
			t.Errorf("Read after %v: %v, want ETIMEDOUT after 11s", took, err)
		}
	})
}

// TCPOptions.KeepAlive turns keepalive on for every new connection of the
// stack, dialled and accepted alike, as Go's Dialer and ListenConfig do.
func TestStack_KeepAliveOption(t *testing.T) {
	ka := stack.TCPOptions{KeepAlive: net.KeepAliveConfig{Enable: true, Idle: 5 * time.Second, Interval: 2 * time.Second, Count: 3}}
	n := newSimNet(t, 5, simOpts{tcp: ka})
	openPair(t, n, func(c, s *stack.TCPConn) {
		n.link.SetDown(netsim.Both)
		start := n.run.Now()
		for i, conn := range []*stack.TCPConn{c, s} {
			name := []string{"dialled", "accepted"}[i]
			n.run.Go(func() {
				_, err := conn.Read(make([]byte, 1))
				// 5 s + 3 × 2 s from the last segment each end heard (the
				// dialled end's, the SYN-ACK, came a one-way trip earlier).
				if took := n.run.Now().Sub(start); !errors.Is(err, syscall.ETIMEDOUT) || took <= 10*time.Second || took > 11*time.Second {
					t.Errorf("%s end: Read after %v: %v, want ETIMEDOUT about 11s after the link went down", name, took, err)
				}
			})
		}
		n.run.Sleep(time.Minute)
	})
}

// The user timeout (RFC 5482, Linux TCP_USER_TIMEOUT) gives up data the
// dead link never delivers that long after its first retransmission, not
// after the fifteen retransmissions of TCPOptions.Retries (minutes).
func TestTCPConn_SetUserTimeout(t *testing.T) {
	n := newSimNet(t, 5, simOpts{})
	openPair(t, n, func(c, _ *stack.TCPConn) {
		if err := c.SetUserTimeout(3 * time.Second); err != nil {
			t.Error(err)
		}
		n.link.SetDown(netsim.Both)
		start := n.run.Now()
		if _, err := c.Write([]byte("lost")); err != nil {
			t.Error(err)
		}
		_, err := c.Read(make([]byte, 1))
		if took := n.run.Now().Sub(start); !errors.Is(err, syscall.ETIMEDOUT) || took < 3*time.Second || took > 4*time.Second {
			t.Errorf("Read after %v: %v, want ETIMEDOUT 3 s after the first retransmission (under a second in)", took, err)
		}
	})
}

// SetWriteBuffer bounds what Write queues: over a dead link only that much
// of a larger write is taken before its deadline.
func TestTCPConn_SetWriteBuffer(t *testing.T) {
	n := newSimNet(t, 5, simOpts{})
	openPair(t, n, func(c, _ *stack.TCPConn) {
		n.link.SetDown(netsim.Both)
		if err := c.SetWriteBuffer(4096); err != nil {
			t.Error(err)
		}
		c.SetWriteDeadline(n.run.Now().Add(time.Second).Time())
		if w, err := c.Write(make([]byte, 10000)); w != 4096 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Write of 10000 bytes with a 4096-byte buffer = %d, %v; want 4096 and a timeout", w, err)
		}
	})
}

// SetReadBuffer grows the window a server advertises while it does not
// read: with 16 KiB buffers each side, a 70000-byte write completes only
// if the server's receive buffer took what the client's could not.
func TestTCPConn_SetReadBuffer(t *testing.T) {
	small := stack.TCPOptions{SendBuffer: 16 << 10, ReceiveBuffer: 16 << 10}
	for _, grow := range []bool{false, true} {
		n := newSimNet(t, 5, simOpts{tcp: small})
		openPair(t, n, func(c, s *stack.TCPConn) {
			if grow {
				if err := s.SetReadBuffer(128 << 10); err != nil {
					t.Error(err)
				}
			}
			c.SetWriteDeadline(n.run.Now().Add(5 * time.Second).Time())
			w, err := c.Write(make([]byte, 70000))
			if grow && err != nil || !grow && !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("grown %v: Write of 70000 bytes = %d, %v", grow, w, err)
			}
			if grow {
				if got, err := io.ReadFull(s, make([]byte, 70000)); err != nil {
					t.Errorf("server read %d: %v", got, err)
				}
			}
		})
	}
}

// After Close the socket options fail with net.ErrClosed, as Go's do.
func TestTCPConn_OptionsAfterClose(t *testing.T) {
	c1, _ := connPair(t, "tcp")
	c := c1.(*stack.TCPConn)
	c.Close()
	for name, err := range map[string]error{
		"SetNoDelay":         c.SetNoDelay(true),
		"SetKeepAlive":       c.SetKeepAlive(true),
		"SetKeepAliveConfig": c.SetKeepAliveConfig(net.KeepAliveConfig{Enable: true}),
		"SetKeepAlivePeriod": c.SetKeepAlivePeriod(time.Second),
		"SetUserTimeout":     c.SetUserTimeout(time.Second),
		"SetReadBuffer":      c.SetReadBuffer(1 << 20),
		"SetWriteBuffer":     c.SetWriteBuffer(1 << 20),
		"SetLinger":          c.SetLinger(0),
	} {
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
		}
	}
}
