package stack_test

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// BenchmarkChurnCycle times one short connection over the pipe, as the
// bench suite's churn rows make them (dial, deadline, 100-byte echo,
// close; TIME-WAIT on the client), one after the other, and counts the
// allocations of both hosts per connection:
//
//	go test ./stack -run '^$' -bench ChurnCycle -benchtime 20000x
func BenchmarkChurnCycle(b *testing.B) {
	a, z := pipe.New(1500, pipe.ShareBuffers())
	opts := stack.TCPOptions{SendBuffer: 1 << 20, ReceiveBuffer: 1 << 20, MSL: 500 * time.Millisecond}
	client, _ := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a, TCP: opts, EphemeralPorts: [2]uint16{16000, 65535}})
	server, _ := stack.New(stack.Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.2")}, Link: z, TCP: opts})
	defer client.Close()
	defer server.Close()
	l, _ := server.ListenTCP(80, stack.ListenOptions{Backlog: 4096})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			var buf [100]byte
			io.ReadFull(c, buf[:])
			c.Write(buf[:])
			io.Copy(io.Discard, c)
			c.Close()
		}
	}()
	msg := make([]byte, 100)
	back := make([]byte, 100)
	dst := netip.MustParseAddrPort("10.8.0.2:80")
	b.ReportAllocs()
	for b.Loop() {
		c, err := client.DialTCP(context.Background(), dst)
		if err != nil {
			b.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(msg)
		io.ReadFull(c, back)
		c.Close()
	}
}
