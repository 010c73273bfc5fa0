package stack_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

var (
	wallA = netip.MustParseAddr("10.9.1.1")
	wallB = netip.MustParseAddr("10.9.1.2")
)

// connPair opens one connection of the protocol ("tcp" or "dccp")
// between two stacks on the wall clock: c1 dialled, c2 accepted.
func connPair(t *testing.T, proto string) (c1, c2 net.Conn) {
	t.Helper()
	client, server := wallPair(t, wallA, wallB, stack.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var l net.Listener
	var err error
	var dial func() (net.Conn, error)
	switch proto {
	case "tcp":
		l, err = server.ListenTCP(80, stack.ListenOptions{})
		dial = func() (net.Conn, error) { return client.DialTCP(ctx, netip.AddrPortFrom(wallB, 80)) }
	case "dccp":
		l, err = server.ListenDCCP(80, stack.DCCPListenOptions{})
		dial = func() (net.Conn, error) {
			return client.DialDCCP(ctx, netip.AddrPortFrom(wallB, 80), stack.DCCPOptions{})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if c1, err = dial(); err != nil {
		t.Fatal(err)
	}
	if c2, err = l.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c1.Close(); c2.Close() })
	return c1, c2
}

// readOne reads one byte (one datagram for DCCP) and checks it is want.
func readOne(t *testing.T, c net.Conn, want byte) {
	t.Helper()
	b := make([]byte, 1)
	if n, err := c.Read(b); n != 1 || err != nil || b[0] != want {
		t.Fatalf("Read = %d %q, %v; want %q", n, b[:n], err, want)
	}
}

// A deadline already in the past fails Read and Write at once, even when
// data waits to be read and there is room to write (net.Conn: "a deadline
// can be set in the past to make pending and future calls fail"); once
// cleared, the waiting data is still there and writes go through.
func TestConn_ExpiredDeadlineFailsReadyCalls(t *testing.T) {
	for _, proto := range []string{"tcp", "dccp"} {
		t.Run(proto, func(t *testing.T) {
			c1, c2 := connPair(t, proto)
			// The pipe delivers inside Write: once it returns, both
			// bytes (TCP: one segment; DCCP: two datagrams) are queued
			// at c1.
			msgs := [][]byte{[]byte("ab")}
			if proto == "dccp" {
				msgs = [][]byte{[]byte("a"), []byte("b")}
			}
			for _, m := range msgs {
				if _, err := c2.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			readOne(t, c1, 'a')
			c1.SetReadDeadline(time.Unix(1, 0))
			if n, err := c1.Read(make([]byte, 1)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Read past its deadline with 'b' queued = %d, %v; want 0 and a timeout", n, err)
			}
			c1.SetReadDeadline(time.Time{})
			readOne(t, c1, 'b')
			c1.SetWriteDeadline(time.Unix(1, 0))
			if n, err := c1.Write([]byte("x")); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Write past its deadline = %d, %v; want 0 and a timeout", n, err)
			}
			c1.SetWriteDeadline(time.Time{})
			if _, err := c1.Write([]byte("y")); err != nil {
				t.Fatal(err)
			}
			readOne(t, c2, 'y') // the timed-out 'x' was never sent
		})
	}
}

// After the application's own Close, Read, Write and the deadline setters
// fail with net.ErrClosed, as on Go's own conns, not with an errno of the
// connection's state; so does a second Close, and a Read blocked at the
// time of Close returns too.
func TestConn_OwnCloseGivesErrClosed(t *testing.T) {
	for _, proto := range []string{"tcp", "dccp"} {
		t.Run(proto, func(t *testing.T) {
			c1, c2 := connPair(t, proto)
			blocked := make(chan error, 1)
			go func() {
				_, err := c1.Read(make([]byte, 10))
				blocked <- err
			}()
			if _, err := c2.Write([]byte("unread")); err != nil {
				t.Fatal(err)
			}
			c1.Close()
			// The blocked Read may have returned the data first; if so it
			// would return nil, then fail on a second call.
			if err := <-blocked; err != nil && !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read blocked during Close: %v, want net.ErrClosed", err)
			}
			if _, err := c1.Read(make([]byte, 10)); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Read after Close: %v, want net.ErrClosed", err)
			}
			if _, err := c1.Read(nil); !errors.Is(err, net.ErrClosed) {
				t.Errorf("empty Read after Close: %v, want net.ErrClosed", err)
			}
			if _, err := c1.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write after Close: %v, want net.ErrClosed", err)
			}
			if err := c1.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
				t.Errorf("SetDeadline after Close: %v, want net.ErrClosed", err)
			}
			if err := c1.Close(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("second Close: %v, want net.ErrClosed", err)
			}
		})
	}
}
