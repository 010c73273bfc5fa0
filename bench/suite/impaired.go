package suite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/bench/shape"
)

// The rows of issue 15 over impaired in-memory paths (package shape, the
// same model for every stack): random loss at in-memory RTT, and a long
// thin path. The kernel has no such path here and is not measured.

// lossRate is bulk-loss-1pct's loss, each way.
const lossRate = 0.01

// rtt10 is bulk-rtt-10ms's path: 5 ms each way, a 1 Gbit/s bottleneck.
var rtt10 = shape.Path{Delay: 5 * time.Millisecond, Rate: 1e9 / 8}

var impairedStacks = []string{Ours, GVisor, GVisorTuned}

func init() {
	Register(Measure{
		Rows:   []Row{{Measure: "bulk-loss-1pct", Unit: "Gbit/s"}},
		Stacks: impairedStacks,
		Take: func(cfg Config, s string) (map[string]float64, error) {
			r, err := BulkLoss(s, lossRate, cfg.BulkBytes/32, uint64(time.Now().UnixNano()))
			if err != nil {
				return nil, err
			}
			return map[string]float64{"bulk-loss-1pct": r.Gbps(), "bulk-loss-1pct" + cpuSuffix: r.CPUPerByte()}, nil
		},
	})
	Register(Measure{
		Rows:   []Row{{Measure: "bulk-rtt-10ms", Unit: "Gbit/s"}},
		Stacks: impairedStacks,
		Take: func(cfg Config, s string) (map[string]float64, error) {
			r, err := BulkPath(s, rtt10, rtt10Duration(cfg))
			if err != nil {
				return nil, err
			}
			return map[string]float64{"bulk-rtt-10ms": r.Gbps(), "bulk-rtt-10ms" + cpuSuffix: r.CPUPerByte()}, nil
		},
	})
}

// rtt10Duration is how long bulk-rtt-10ms sends: the 5 s, 2 s
// quick.
func rtt10Duration(cfg Config) time.Duration {
	if cfg.ChurnTime < time.Second {
		return 2 * time.Second
	}
	return 5 * time.Second
}

// BulkLoss is Bulk at MTU 1500 over a link that drops each packet with
// probability p in each direction (in-memory RTT otherwise).
func BulkLoss(name string, p float64, n int64, seed uint64) (BulkResult, error) {
	pair, err := NewPathPair(name, 1500, shape.Path{Loss: p, Seed: seed}, shape.Path{Loss: p, Seed: seed + 1})
	if err != nil {
		return BulkResult{}, err
	}
	defer pair.Close()
	return bulkOver(pair, n)
}

// BulkPath sends from client to server at MTU 1500 over path (both
// ways) for d and returns what the server's application had read by then,
// over d: the goodput of the first d, slow start included.
func BulkPath(name string, path shape.Path, d time.Duration) (BulkResult, error) {
	down := path
	down.Seed++
	pair, err := NewPathPair(name, 1500, path, down)
	if err != nil {
		return BulkResult{}, err
	}
	defer pair.Close()
	return timedOver(pair, d)
}

// timedOver writes from client to server for d; the figure is the bytes
// the server read within d.
func timedOver(p Pair, d time.Duration) (BulkResult, error) {
	l, err := p.Listen(benchPort)
	if err != nil {
		return BulkResult{}, err
	}
	defer l.Close()
	var read atomic.Int64
	srv := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			close(srv)
			return
		}
		srv <- c
		buf := make([]byte, 256<<10)
		for {
			n, err := c.Read(buf)
			read.Add(int64(n))
			if err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dialer(p, l, benchPort)(ctx)
	if err != nil {
		return BulkResult{}, fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	s, ok := <-srv
	if !ok {
		return BulkResult{}, fmt.Errorf("accept failed")
	}
	defer s.Close()
	before := p.Retransmits()
	start, cpu0 := time.Now(), cpuTime()
	stop := start.Add(d)
	c.SetWriteDeadline(stop)
	buf := make([]byte, 256<<10)
	for time.Now().Before(stop) {
		if _, err := c.Write(buf); err != nil {
			if time.Now().Before(stop) && !errors.Is(err, os.ErrDeadlineExceeded) {
				return BulkResult{}, fmt.Errorf("write: %w", err)
			}
			break
		}
	}
	if w := time.Until(stop); w > 0 {
		time.Sleep(w)
	}
	got, elapsed, cpu := read.Load(), time.Since(start), cpuTime()-cpu0
	if got == 0 {
		return BulkResult{}, fmt.Errorf("nothing arrived in %v", d)
	}
	return BulkResult{Bytes: got, Elapsed: elapsed, Retransmits: p.Retransmits() - before, CPU: cpu}, nil
}
