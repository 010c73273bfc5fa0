package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// The flows-N rows: N connections at once over one in-memory link, each
// writing as fast as it can for the churn time; the aggregate goodput,
// Jain's fairness index over what each flow delivered, and the segments
// retransmitted per GiB (the link cannot drop: every one is spurious).

func init() {
	for _, n := range []int{16, 128} {
		name := fmt.Sprintf("flows-%d", n)
		Register(Measure{
			Rows: []Row{
				{Measure: name, Unit: "Gbit/s"},
				{Measure: name + " fairness", Unit: "Jain's index"},
				{Measure: name + " retransmissions", Unit: "per GiB", LowerIsBetter: true},
			},
			Stacks: impairedStacks,
			Take: func(cfg Config, s string) (map[string]float64, error) {
				r, err := Flows(s, n, cfg.ChurnTime)
				if err != nil {
					return nil, err
				}
				return map[string]float64{name: r.Gbps(), name + " fairness": r.Jain(),
					name + " retransmissions": r.RetransmitsPerGiB(), name + cpuSuffix: r.CPUPerByte()}, nil
			},
		})
	}
}

// FlowsResult is one flows-N run.
type FlowsResult struct {
	PerFlow     []int64 // bytes each flow's server read within the time
	Elapsed     time.Duration
	Retransmits uint64
	CPU         time.Duration
}

func (r FlowsResult) total() (t int64) {
	for _, b := range r.PerFlow {
		t += b
	}
	return t
}

// Gbps is the aggregate goodput.
func (r FlowsResult) Gbps() float64 { return float64(r.total()) * 8 / r.Elapsed.Seconds() / 1e9 }

// Jain is Jain's fairness index of the flows' bytes: (Σx)² / (n·Σx²), 1
// when all moved the same, 1/n when one moved everything.
func (r FlowsResult) Jain() float64 { return jain(r.PerFlow) }

func jain(x []int64) float64 {
	var s, s2 float64
	for _, v := range x {
		s += float64(v)
		s2 += float64(v) * float64(v)
	}
	if s2 == 0 {
		return 0
	}
	return s * s / (float64(len(x)) * s2)
}

// RetransmitsPerGiB scales the retransmissions to one GiB delivered.
func (r FlowsResult) RetransmitsPerGiB() float64 {
	if t := r.total(); t > 0 {
		return float64(r.Retransmits) * float64(1<<30) / float64(t)
	}
	return 0
}

// CPUPerByte is the CPU time per byte delivered, in nanoseconds.
func (r FlowsResult) CPUPerByte() float64 {
	if t := r.total(); t > 0 {
		return float64(r.CPU.Nanoseconds()) / float64(t)
	}
	return 0
}

// Flows runs n flows from client to server at MTU 1500 for d.
func Flows(name string, n int, d time.Duration) (FlowsResult, error) {
	if name == Kernel {
		return FlowsResult{}, ErrNotMeasurable
	}
	p, err := NewPair(name, 1500)
	if err != nil {
		return FlowsResult{}, err
	}
	defer p.Close()
	l, err := p.Listen(benchPort)
	if err != nil {
		return FlowsResult{}, err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := dialer(p, l, benchPort)
	read := make([]atomic.Int64, n)
	clients := make([]net.Conn, 0, n)
	var conns sync.WaitGroup
	defer func() {
		for _, c := range clients {
			c.Close()
		}
		conns.Wait()
	}()
	// Open every connection first, each served by a reader that counts
	// what it gets; the flows start together.
	for i := range n {
		c, err := dial(ctx)
		if err != nil {
			return FlowsResult{}, fmt.Errorf("dial %d: %w", i, err)
		}
		clients = append(clients, c)
		s, err := l.Accept()
		if err != nil {
			return FlowsResult{}, fmt.Errorf("accept %d: %w", i, err)
		}
		conns.Add(1)
		go func() {
			defer conns.Done()
			defer s.Close()
			buf := make([]byte, 64<<10)
			for {
				m, err := s.Read(buf)
				read[i].Add(int64(m))
				if err != nil {
					return
				}
			}
		}()
	}
	before := p.Retransmits()
	start, cpu0 := time.Now(), cpuTime()
	stop := start.Add(d)
	var writers sync.WaitGroup
	var werr atomic.Pointer[error]
	for _, c := range clients {
		writers.Add(1)
		go func() {
			defer writers.Done()
			c.SetWriteDeadline(stop)
			buf := make([]byte, 64<<10)
			for time.Now().Before(stop) {
				if _, err := c.Write(buf); err != nil {
					var ne net.Error
					if !(errors.As(err, &ne) && ne.Timeout()) && !errors.Is(err, io.ErrClosedPipe) {
						werr.CompareAndSwap(nil, &err)
					}
					return
				}
			}
		}()
	}
	time.Sleep(time.Until(stop))
	r := FlowsResult{PerFlow: make([]int64, n), Elapsed: time.Since(start), CPU: cpuTime() - cpu0}
	for i := range read {
		r.PerFlow[i] = read[i].Load()
	}
	r.Retransmits = p.Retransmits() - before
	writers.Wait()
	if e := werr.Load(); e != nil {
		return r, fmt.Errorf("write: %w", *e)
	}
	return r, nil
}
