package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const benchPort = 5201

// BulkResult is one bulk transfer's outcome.
type BulkResult struct {
	Bytes       int64
	Elapsed     time.Duration
	Retransmits uint64 // segments retransmitted by either host
	// CPU is the process's CPU time (user and system, every goroutine)
	// over Elapsed: both hosts' work, the link's and the collector's.
	CPU time.Duration
}

// CPUPerByte is the CPU time per byte moved, in nanoseconds.
func (r BulkResult) CPUPerByte() float64 { return float64(r.CPU.Nanoseconds()) / float64(r.Bytes) }

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Gbps is the goodput in Gbit/s.
func (r BulkResult) Gbps() float64 { return float64(r.Bytes) * 8 / r.Elapsed.Seconds() / 1e9 }

// RetransmitsPerGiB scales the retransmissions to one GiB transferred.
func (r BulkResult) RetransmitsPerGiB() float64 {
	return float64(r.Retransmits) * float64(1<<30) / float64(r.Bytes)
}

// Bulk sends n bytes over one connection from client to server, timing
// from the first write to the server's end-of-stream.
func Bulk(name string, mtu int, n int64) (BulkResult, error) {
	p, err := NewPair(name, mtu)
	if err != nil {
		return BulkResult{}, err
	}
	defer p.Close()
	return bulkOver(p, n)
}

// bulkOver is Bulk over a pair already built.
func bulkOver(p Pair, n int64) (BulkResult, error) {
	l, err := p.Listen(benchPort)
	if err != nil {
		return BulkResult{}, err
	}
	defer l.Close()
	got := make(chan error, 1)
	var received int64
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- err
			return
		}
		defer c.Close()
		received, err = io.CopyBuffer(io.Discard, c, make([]byte, 256<<10))
		got <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := dialer(p, l, benchPort)(ctx)
	if err != nil {
		return BulkResult{}, fmt.Errorf("dial: %w", err)
	}
	c.SetDeadline(time.Now().Add(120 * time.Second))
	before := p.Retransmits()
	buf := make([]byte, 256<<10)
	start, cpu0 := time.Now(), cpuTime()
	for left := n; left > 0; {
		m, err := c.Write(buf[:min(left, int64(len(buf)))])
		if err != nil {
			c.Close()
			return BulkResult{}, fmt.Errorf("write: %w", err)
		}
		left -= int64(m)
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	if err := <-got; err != nil {
		c.Close()
		return BulkResult{}, fmt.Errorf("read: %w", err)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	c.Close()
	if received != n {
		return BulkResult{}, fmt.Errorf("received %d bytes of %d", received, n)
	}
	return BulkResult{Bytes: n, Elapsed: elapsed, Retransmits: p.Retransmits() - before, CPU: cpu}, nil
}

// echoServer answers each connection of l: read 100 bytes, write them
// back, read to end-of-stream, close. It returns when l is closed.
func echoServer(l net.Listener, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			var b [100]byte
			if _, err := io.ReadFull(c, b[:]); err != nil {
				return
			}
			if _, err := c.Write(b[:]); err != nil {
				return
			}
			io.Copy(io.Discard, c)
		}()
	}
}

// Churn runs conc clients for d, each connecting, exchanging a 100-byte
// echo and closing, again and again; it returns connections per second.
// The client closes first, so TIME-WAIT stays on the client's side.
func Churn(name string, conc int, d time.Duration) (float64, error) {
	p, err := NewPair(name, 1500)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	l, err := p.Listen(benchPort)
	if err != nil {
		return 0, err
	}
	var srv sync.WaitGroup
	srv.Add(1)
	go echoServer(l, &srv)
	dial := dialer(p, l, benchPort)
	var done atomic.Int64
	var firstErr atomic.Pointer[error]
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			msg := make([]byte, 100)
			back := make([]byte, 100)
			for time.Now().Before(stop) {
				if err := echoOnce(dial, msg, back); err != nil {
					firstErr.CompareAndSwap(nil, &err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	l.Close()
	srv.Wait()
	if e := firstErr.Load(); e != nil {
		return 0, *e
	}
	return float64(done.Load()) / elapsed.Seconds(), nil
}

func echoOnce(dial func(context.Context) (net.Conn, error), msg, back []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx)
	if err != nil {
		return fmt.Errorf("dial: %w", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(msg); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if _, err := io.ReadFull(c, back); err != nil {
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// ErrNotMeasurable is returned for a measure a stack cannot take part in.
var ErrNotMeasurable = errors.New("suite: not measurable for this stack")

// Memory opens n idle established connections and returns the heap
// growth per connection endpoint (each connection has two, one per
// host), measured with runtime.ReadMemStats after garbage collection,
// from a baseline taken once a first connection is up.
func Memory(name string, n int) (float64, error) {
	if name == Kernel {
		return 0, ErrNotMeasurable
	}
	if n < 1 {
		return 0, fmt.Errorf("suite: Memory needs at least one connection, not %d", n)
	}
	p, err := NewPair(name, 1500)
	if err != nil {
		return 0, err
	}
	defer p.Close()
	l, err := p.Listen(benchPort)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	dial := dialer(p, l, benchPort)
	clients := make([]net.Conn, 0, n+1)
	servers := make([]net.Conn, 0, n+1)
	accepted := make(chan net.Conn, 64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func() error {
		c, err := dial(ctx)
		if err != nil {
			return fmt.Errorf("dial: %w", err)
		}
		clients = append(clients, c)
		select {
		case s := <-accepted:
			servers = append(servers, s)
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	// One connection first, kept open and outside the measure: what a stack
	// sets up once, on its first connection (a listener's SYN queue, its
	// tables), is not the cost of a connection.
	if err := open(); err != nil {
		return 0, err
	}
	base := heapAfterGC()
	for range n {
		if err := open(); err != nil {
			return 0, err
		}
	}
	// Let the last ACKs settle, then measure with everything idle.
	time.Sleep(50 * time.Millisecond)
	grown := heapAfterGC() - base
	for _, c := range append(clients, servers...) {
		c.Close()
	}
	runtime.KeepAlive(clients)
	return float64(grown) / float64(2*n), nil
}

func heapAfterGC() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
