package stack_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/net/nettest"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// wallPair wires two stacks with addresses a and b back to back over an
// in-memory link on the wall clock, closed when the test ends.
func wallPair(t testing.TB, a, b netip.Addr, cfg stack.Config) (client, server *stack.Stack) {
	ea, eb := pipe.New(1500)
	mk := func(addr netip.Addr, ep *pipe.Endpoint) *stack.Stack {
		c := cfg
		c.Addrs, c.Link = []netip.Addr{addr}, ep
		s, err := stack.New(c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	return mk(a, ea), mk(b, eb)
}

// tcpPipe returns a nettest.MakePipe giving the two ends of a fresh TCP
// connection between the stacks: c1 the dialling end, c2 the accepted.
func tcpPipe(client, server *stack.Stack, to netip.Addr) nettest.MakePipe {
	port := uint16(7000)
	return func() (net.Conn, net.Conn, func(), error) {
		port++
		l, err := server.ListenTCP(port, stack.ListenOptions{})
		if err != nil {
			return nil, nil, nil, err
		}
		defer l.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		type accepted struct {
			c   net.Conn
			err error
		}
		ch := make(chan accepted, 1)
		go func() {
			c, err := l.Accept()
			ch <- accepted{c, err}
		}()
		c1, err := client.DialTCP(ctx, netip.AddrPortFrom(to, port))
		if err != nil {
			return nil, nil, nil, err
		}
		a := <-ch
		if a.err != nil {
			c1.Close()
			return nil, nil, nil, a.err
		}
		stop := func() {
			c1.Close()
			a.c.Close()
		}
		return c1, a.c, stop, nil
	}
}

// TCPConn is a net.Conn as golang.org/x/net/nettest checks one: basic and
// concurrent I/O, deadlines in the past, present and future, and Close
// ending blocked calls — over IPv4 and IPv6.
func TestNettestConn(t *testing.T) {
	for _, fam := range []struct {
		name string
		a, b netip.Addr
	}{
		{"IPv4", netip.MustParseAddr("10.9.0.1"), netip.MustParseAddr("10.9.0.2")},
		{"IPv6", netip.MustParseAddr("fd00:9::1"), netip.MustParseAddr("fd00:9::2")},
	} {
		t.Run(fam.name, func(t *testing.T) {
			client, server := wallPair(t, fam.a, fam.b, stack.Config{})
			nettest.TestConn(t, tcpPipe(client, server, fam.b))
		})
	}
}

// TCPConn has the methods of Go's *net.TCPConn that a program sets up
// its connections with, with the same signatures, so that code written
// against them compiles unchanged over the stack.
var _ interface {
	net.Conn
	CloseRead() error
	CloseWrite() error
	SetLinger(sec int) error
	SetNoDelay(noDelay bool) error
	SetKeepAlive(keepalive bool) error
	SetKeepAlivePeriod(d time.Duration) error
	SetKeepAliveConfig(config net.KeepAliveConfig) error
	SetReadBuffer(bytes int) error
	SetWriteBuffer(bytes int) error
} = (*stack.TCPConn)(nil)
