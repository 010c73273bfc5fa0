package stack_test

import (
	"context"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

const benchDatagram = 1000

// BenchmarkDCCPPipe measures DCCP throughput (wall clock) between two
// stacks joined by link/pipe, with CCID 2 and CCID 3, and TCP moving the
// same bytes as the reference. delivered-% is the share of datagrams the
// reader got (DCCP drops what its receive queue cannot hold).
func BenchmarkDCCPPipe(b *testing.B) {
	for _, ccid := range []int{2, 3} {
		b.Run(map[int]string{2: "ccid2", 3: "ccid3"}[ccid], func(b *testing.B) { benchDCCPPipe(b, ccid) })
	}
	b.Run("tcp", benchTCPPipe)
}

func pipeStacks(b *testing.B) (client, server *stack.Stack) {
	ea, eb := pipe.New(1500)
	var err error
	if client, err = stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{clientAddr}, Link: ea, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	if server, err = stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{serverAddr}, Link: eb, Seed: 2}); err != nil {
		b.Fatal(err)
	}
	return client, server
}

func benchDCCPPipe(b *testing.B, ccid int) {
	client, server := pipeStacks(b)
	l, err := server.ListenDCCP(dccpPort, stack.DCCPListenOptions{CCID: ccid, RecvQueueLen: 1024})
	if err != nil {
		b.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			got <- 0
			return
		}
		n, buf := 0, make([]byte, 2048)
		for {
			if _, err := c.Read(buf); err != nil {
				break
			}
			n++
		}
		c.Close()
		got <- n
	}()
	c, err := client.DialDCCP(context.Background(), netip.AddrPortFrom(serverAddr, dccpPort), stack.DCCPOptions{CCID: ccid, SendQueueLen: 64})
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, benchDatagram)
	b.SetBytes(benchDatagram)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c.CloseAndWait(ctx)
	n := <-got
	b.StopTimer()
	b.ReportMetric(100*float64(n)/float64(b.N), "delivered-%")
}

func benchTCPPipe(b *testing.B) {
	client, server := pipeStacks(b)
	l, err := server.ListenTCP(9001, stack.ListenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan int64, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			done <- 0
			return
		}
		n, _ := io.Copy(io.Discard, c)
		c.Close()
		done <- n
	}()
	c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 9001))
	if err != nil {
		b.Fatal(err)
	}
	msg := make([]byte, benchDatagram)
	b.SetBytes(benchDatagram)
	b.ResetTimer()
	for range b.N {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
	}
	c.CloseWrite()
	<-done
	b.StopTimer()
	c.Close()
}

// BenchmarkDCCPNetsim measures throughput in simulated time over a
// 100 Mbit/s link with 10 ms one-way delay and a 100-packet queue: each
// iteration moves 2 MB (2,000 datagrams of 1,000 bytes) and sim-Mbit/s is
// what arrived per simulated second. TCP is the reference.
func BenchmarkDCCPNetsim(b *testing.B) {
	for _, name := range []string{"ccid2", "ccid3", "tcp"} {
		b.Run(name, func(b *testing.B) { benchNetsim(b, name) })
	}
}

func benchNetsim(b *testing.B, proto string) {
	const count = 2000
	var bits, secs float64
	for i := range b.N {
		t := &testing.T{}
		n := newDCCPNet(t, uint64(i+1), profileLinux(), netsim.LinkConfig{
			Latency: 10 * time.Millisecond, Bandwidth: 100_000_000, QueuePackets: 100,
		})
		var start, end time.Duration
		received := 0
		if proto == "tcp" {
			l, _ := n.server.ListenTCP(9001, stack.ListenOptions{})
			n.run.Go(func() {
				c, err := l.AcceptTCP()
				if err != nil {
					return
				}
				k, _ := io.Copy(io.Discard, c)
				received = int(k) / benchDatagram
				end = time.Duration(n.run.Now())
				c.Close()
			})
			n.run.Go(func() {
				c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 9001))
				if err != nil {
					return
				}
				start = time.Duration(n.run.Now())
				msg := make([]byte, benchDatagram)
				for range count {
					c.Write(msg)
				}
				c.Close()
			})
		} else {
			ccid := map[string]int{"ccid2": 2, "ccid3": 3}[proto]
			l, _ := n.server.ListenDCCP(dccpPort, stack.DCCPListenOptions{CCID: ccid, RecvQueueLen: 4096})
			n.run.Go(func() {
				c, err := l.AcceptDCCP()
				if err != nil {
					return
				}
				buf := make([]byte, 2048)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
					received++
					end = time.Duration(n.run.Now())
				}
				c.Close()
			})
			n.run.Go(func() {
				c, err := n.dial(stack.DCCPOptions{CCID: ccid, SendQueueLen: 64})
				if err != nil {
					return
				}
				start = time.Duration(n.run.Now())
				msg := make([]byte, benchDatagram)
				for range count {
					c.Write(msg)
				}
				c.Close()
			})
		}
		if err := n.run.Run(nil); err != nil {
			b.Fatal(err)
		}
		bits += float64(received * benchDatagram * 8)
		secs += (end - start).Seconds()
	}
	b.ReportMetric(bits/secs/1e6, "sim-Mbit/s")
}
