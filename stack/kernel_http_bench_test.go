//go:build linux

package stack_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/stack"
)

// Non-keep-alive HTTP over TUN against kernel peers, the traffic of
// `Connection: close` (wrk -H 'Connection: close', nginx behind a
// tunnel): a connection per request, net/http on both ends. Three pairs:
//
//	kernel-to-ours   a kernel client, net/http's server on our stack
//	ours-to-kernel   Go's http.Client on our stack, a kernel server
//	kernel-to-kernel both on the kernel, over the namespace's loopback:
//	                 what either of the others would get without us
//
// Each reports requests per second (sequential: one request at a time;
// conc=4: four clients at once) and, for the pair's server, how long its
// FIN follows the response: fin-p50-µs and fin-p90-µs, measured by a
// client that reads the response's last byte and then waits for EOF.
// Needs root; skipped otherwise.
//
//	go test ./stack -run '^$' -bench KernelHTTPClose -benchtime 2000x -count 3
func BenchmarkKernelHTTPClose(b *testing.B) {
	for _, pair := range []string{"kernel-to-ours", "ours-to-kernel", "kernel-to-kernel"} {
		for _, conc := range []int{1, 4} {
			b.Run(fmt.Sprintf("%s/conc=%d", pair, conc), func(b *testing.B) {
				e := newKernelEnv(b, envOpts{})
				dial, addr := e.httpPair(b, pair)
				benchHTTPClose(b, dial, addr, conc)
			})
		}
	}
}

type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// httpPair starts the pair's net/http server and returns the client's dial
// function and the server's address.
func (e *kernelEnv) httpPair(b *testing.B, pair string) (dialFunc, string) {
	const port = 8081
	hello := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello, world\n")
	})
	kernelDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := e.ns.Do(func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	switch pair {
	case "kernel-to-ours":
		l, err := e.st.ListenTCP(port, stack.ListenOptions{Backlog: 1024})
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: hello}
		go srv.Serve(l)
		b.Cleanup(func() { srv.Close() })
		return kernelDial, netip.AddrPortFrom(e.ours, port).String()
	case "ours-to-kernel":
		srv := &http.Server{Handler: hello}
		go srv.Serve(e.listen(b, port))
		b.Cleanup(func() { srv.Close() })
		return e.st.DialContext, e.addrPort(port).String()
	default:
		var l net.Listener
		if err := e.ns.Do(func() error {
			var err error
			l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
			return err
		}); err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: hello}
		go srv.Serve(l)
		b.Cleanup(func() { srv.Close() })
		return kernelDial, l.Addr().String()
	}
}

// benchHTTPClose runs b.N requests, conc at a time, each on a connection
// of its own, and times the server's FIN after each response.
func benchHTTPClose(b *testing.B, dial dialFunc, addr string, conc int) {
	var (
		mu   sync.Mutex
		fins []time.Duration
		errs int
	)
	next := make(chan struct{}, b.N)
	for range b.N {
		next <- struct{}{}
	}
	close(next)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range next {
				fin, err := closeExchange(dial, addr)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					fins = append(fins, fin)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if errs > 0 {
		b.Errorf("%d of %d requests failed", errs, b.N)
	}
	if len(fins) == 0 {
		return
	}
	slices.Sort(fins)
	b.ReportMetric(float64(len(fins))/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(fins[len(fins)/2].Nanoseconds())/1e3, "fin-p50-µs")
	b.ReportMetric(float64(fins[len(fins)*9/10].Nanoseconds())/1e3, "fin-p90-µs")
}

// closeExchange makes one `Connection: close` request on a new connection
// and returns how long after the response's last byte the server's FIN
// (EOF) came.
func closeExchange(dial dialFunc, addr string) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		return 0, err
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(resp.Body, resp.ContentLength)); err != nil {
		return 0, err
	}
	got := time.Now()
	var one [1]byte
	if n, err := r.Read(one[:]); n != 0 || err != io.EOF {
		return 0, fmt.Errorf("after the response: %d bytes, %v (want EOF)", n, err)
	}
	return time.Since(got), nil
}

// BenchmarkKernelHTTPFIN times, on our link, how long after the last
// segment of a response net/http's server on our stack sends its FIN
// (`Connection: close`, a kernel client, one request at a time): the
// handler's response is flushed, net/http aborts its background Read
// (SetReadDeadline in the past), then closes. It reports wire-fin-p50-µs,
// wire-fin-p90-µs, and how many FINs left with the response's data.
//
//	go test ./stack -run '^$' -bench KernelHTTPFIN -benchtime 1000x -count 3
func BenchmarkKernelHTTPFIN(b *testing.B) {
	e := newKernelEnv(b, envOpts{capture: true})
	dial, addr := e.httpPair(b, "kernel-to-ours")
	for b.Loop() {
		if _, err := closeExchange(dial, addr); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	time.Sleep(50 * time.Millisecond) // the last closes
	fins, withData := e.finDelays(b)
	if len(fins) == 0 {
		b.Fatal("no FIN of ours on the wire")
	}
	slices.Sort(fins)
	b.ReportMetric(float64(fins[len(fins)/2].Nanoseconds())/1e3, "wire-fin-p50-µs")
	b.ReportMetric(float64(fins[len(fins)*9/10].Nanoseconds())/1e3, "wire-fin-p90-µs")
	b.ReportMetric(float64(withData), "fins-with-data")
}

// finDelays reads the capture: for each FIN our stack sent without data,
// how long after our last data segment on that connection it left; and
// how many FINs rode on data.
func (e *kernelEnv) finDelays(b *testing.B) (fins []time.Duration, withData int) {
	r, err := pcap.NewReader(bytes.NewReader(e.capture.Bytes()))
	if err != nil {
		b.Fatal(err)
	}
	lastData := map[uint16]clock.Instant{}
	for {
		p, err := r.Next()
		if err == io.EOF {
			return fins, withData
		}
		if err != nil {
			b.Fatal(err)
		}
		ip, err := wire.ParseIP(p.IP)
		if err != nil || ip.Src != e.ours || ip.Protocol != wire.IPProtoTCP {
			continue
		}
		t, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			continue
		}
		switch port := t.DstPort(); {
		case len(t.Payload()) > 0 && t.Flags()&wire.FIN != 0:
			withData++
		case len(t.Payload()) > 0:
			lastData[port] = p.Time
		case t.Flags()&wire.FIN != 0 && lastData[port] != 0:
			fins = append(fins, p.Time.Sub(lastData[port]))
			delete(lastData, port)
		}
	}
}
