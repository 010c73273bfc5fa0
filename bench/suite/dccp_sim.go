package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// The DCCP measures on the simulator (issue 17, item 2): CCID 2, CCID 3
// and our TCP over one netsim path with a bottleneck, in virtual time.
// Over link/pipe a transfer is bound by the CPU and the figures say how
// cheap a datagram is; here the bottleneck link and its delay bound it,
// so the figures say how the congestion control fills a path and how it
// answers loss and reordering. Each seed gives the same run again (the
// simulator draws every fault from it, simrun orders the goroutines), so
// the spread over seeds is the spread over fault patterns, not noise.

// DCCPSimPath is the simulated path: a 50 Mbit/s bottleneck each way, 10
// ms one-way delay (20 ms RTT, a bandwidth-delay product of ~90
// full-sized packets) and a 100-packet drop-tail queue.
var DCCPSimPath = netsim.LinkConfig{Bandwidth: 50_000_000, Latency: 10 * time.Millisecond, QueuePackets: 100}

// DCCPCondition is one impairment of the path, applied to both
// directions (data and acknowledgements).
type DCCPCondition struct {
	Name         string
	Loss         float64
	Reorder      float64
	ReorderDelay time.Duration
}

// DCCPConditions are the three conditions of the issue: none, 1 % random
// loss, and reordering. A reordered packet is held back 0.5 ms: at 50
// Mbit/s, with the link busy, about two later packets overtake it, fewer
// than the three that TCP (RFC 5681 §3.2), CCID 2 (RFC 4341 §5) and CCID
// 3's receiver (NDUPACK, RFC 5348 §5.1) wait for before calling it lost.
var DCCPConditions = []DCCPCondition{
	{Name: "none"},
	{Name: "loss-1%", Loss: 0.01},
	{Name: "reorder-5%", Reorder: 0.05, ReorderDelay: 500 * time.Microsecond},
}

func (c DCCPCondition) link() netsim.LinkConfig {
	l := DCCPSimPath
	l.Loss, l.Reorder, l.ReorderDelay = c.Loss, c.Reorder, c.ReorderDelay
	return l
}

// SimResult is one simulated transfer, counted at the receiving
// application, with the counters of both ends and of the link.
type SimResult struct {
	Proto string // "ccid2", "ccid3" or "tcp"
	TimedResult
	// Data and Acks are the link's counters in the data direction
	// (client to server) and back.
	Data, Acks netsim.LinkStats
	// DCCPSender and DCCPReceiver are the connections' counters (DCCP).
	DCCPSender, DCCPReceiver stack.DCCPCounters
	// TCPSender is the sending connection's counters (TCP).
	TCPSender stack.TCPCounters
}

// simSeedBase offsets the seeds so that they differ from other tests'.
const simSeedBase = 1700

// DCCPSimTransfer moves datagrams full-sized datagrams (or as many bytes
// over TCP) from client to server over the simulated path under cond,
// with the given seed, and counts what the receiving application read
// and when, in virtual time from the first write to the last read.
func DCCPSimTransfer(proto string, cond DCCPCondition, seed uint64, datagrams int) (SimResult, error) {
	sim := netsim.New(seed)
	a, b := sim.AddHost("client", clientAddr), sim.AddHost("server", serverAddr)
	a.SetMTU(1500)
	b.SetMTU(1500)
	lk := sim.Connect(a, b, cond.link())
	run := simrun.New(sim)
	opts := stack.TCPOptions{SendBuffer: BufferSize, ReceiveBuffer: BufferSize}
	client, err := stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{clientAddr}, Seed: seed,
		Link: run.Endpoint(a), Clock: run.Clock(), Scheduler: run, TCP: opts})
	if err != nil {
		return SimResult{}, err
	}
	defer client.Close()
	server, err := stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{serverAddr}, Seed: seed + 1,
		Link: run.Endpoint(b), Clock: run.Clock(), Scheduler: run, TCP: opts})
	if err != nil {
		return SimResult{}, err
	}
	defer server.Close()

	res := SimResult{Proto: proto}
	var start, end time.Duration
	var sendErr, recvErr error
	var finished atomic.Int32
	now := func() time.Duration { return time.Duration(run.Now()) }
	switch proto {
	case "ccid2", "ccid3":
		ccid := 2
		if proto == "ccid3" {
			ccid = 3
		}
		l, err := server.ListenDCCP(benchPort, stack.DCCPListenOptions{CCID: ccid, RecvQueueLen: DCCPQueueLen})
		if err != nil {
			return SimResult{}, err
		}
		run.Go(func() {
			defer finished.Add(1)
			c, err := l.AcceptDCCP()
			if err != nil {
				recvErr = err
				return
			}
			buf := make([]byte, 2048)
			for {
				n, err := c.Read(buf)
				if err != nil {
					if !errors.Is(err, io.EOF) {
						recvErr = err
					}
					break
				}
				res.Bytes += int64(n)
				res.Delivered++
				end = now()
			}
			res.DCCPReceiver = c.Stats()
			res.RecvQueueDrops = res.DCCPReceiver.RecvQueueDrops
			c.Close()
		})
		run.Go(func() {
			defer finished.Add(1)
			c, err := client.DialDCCP(context.Background(), netip.AddrPortFrom(serverAddr, benchPort),
				stack.DCCPOptions{CCID: ccid, SendQueueLen: DCCPQueueLen})
			if err != nil {
				sendErr = fmt.Errorf("dial: %w", err)
				return
			}
			msg := make([]byte, c.MaxDatagram())
			start = now()
			for range datagrams {
				if _, err := c.Write(msg); err != nil {
					sendErr = fmt.Errorf("write: %w", err)
					c.Abort()
					return
				}
				res.Sent++
			}
			if _, err := c.CloseAndWait(context.Background()); err != nil {
				sendErr = fmt.Errorf("close: %w", err)
			}
			res.DCCPSender = c.Stats()
		})
	case "tcp":
		l, err := server.ListenTCP(benchPort, stack.ListenOptions{})
		if err != nil {
			return SimResult{}, err
		}
		run.Go(func() {
			defer finished.Add(1)
			c, err := l.AcceptTCP()
			if err != nil {
				recvErr = err
				return
			}
			buf := make([]byte, 64<<10)
			for {
				n, err := c.Read(buf)
				res.Bytes += int64(n)
				if n > 0 {
					end = now()
				}
				if err != nil {
					if !errors.Is(err, io.EOF) {
						recvErr = err
					}
					break
				}
			}
			c.Close()
		})
		run.Go(func() {
			defer finished.Add(1)
			c, err := client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, benchPort))
			if err != nil {
				sendErr = fmt.Errorf("dial: %w", err)
				return
			}
			buf := make([]byte, 64<<10)
			start = now()
			for left := int64(datagrams) * dccpPayload; left > 0; {
				n, err := c.Write(buf[:min(left, int64(len(buf)))])
				if err != nil {
					sendErr = fmt.Errorf("write: %w", err)
					c.Close()
					return
				}
				left -= int64(n)
			}
			c.CloseWrite()
			// The server closes at end-of-stream: its FIN comes after
			// every byte was acknowledged, so the counters are final.
			io.Copy(io.Discard, c)
			res.TCPSender = c.Stats()
			c.Close()
		})
	default:
		return SimResult{}, fmt.Errorf("unknown protocol %q", proto)
	}
	// Both programs end on their own; the stacks' timers (TIME-WAIT)
	// would run on for minutes of virtual time, so stop there.
	if err := run.Run(func() bool { return finished.Load() == 2 }); err != nil {
		return SimResult{}, err
	}
	if err := errors.Join(sendErr, recvErr); err != nil {
		return SimResult{}, err
	}
	res.Elapsed = end - start
	res.Data, res.Acks = lk.Stats()
	return res, nil
}

// dccpPayload is the largest DCCP payload at MTU 1500 (what MaxDatagram
// gives): TCP moves as many bytes as DCCP's datagrams carry.
const dccpPayload = 1380
