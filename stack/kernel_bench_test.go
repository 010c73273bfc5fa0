//go:build linux

package stack_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// BenchmarkKernelTUN measures bulk throughput between our stack and the
// Linux kernel over a TUN device in a namespace, one way at a time: our
// client sending to a kernel server, and a kernel client sending to our
// server; with the device's offloads off, on (GSO super-packets both
// ways, delivered whole to our stack) and on with the kernel's
// super-packets split into MTU-sized segments by the link. Each
// iteration sends 4 MiB; besides MB/s it reports Gbit/s. Needs root;
// skipped otherwise. A short run on a small machine:
//
//	go test ./stack -run '^$' -bench KernelTUN -benchtime 20x -count 5
func BenchmarkKernelTUN(b *testing.B) {
	modes := []struct {
		name string
		opts envOpts
	}{
		{"offload=off", envOpts{}},
		{"offload=on", envOpts{offload: true}},
		{"offload=split", envOpts{offload: true, splitGSO: true}},
	}
	for _, m := range modes {
		b.Run(m.name+"/our-client-to-kernel", func(b *testing.B) {
			e := newKernelEnv(b, m.opts)
			ours, k := ourClientKernelServer(b, e, 5003)
			benchBulk(b, ours, k)
		})
		b.Run(m.name+"/kernel-to-our-server", func(b *testing.B) {
			e := newKernelEnv(b, m.opts)
			k, ours := kernelClientOurServer(b, e, 5004)
			benchBulk(b, k, ours)
		})
	}
}

// benchChunk is what one benchmark iteration writes.
const benchChunk = 4 << 20

// benchBulk writes b.N chunks on tx and reads them all on rx.
func benchBulk(b *testing.B, tx, rx net.Conn) {
	b.SetBytes(benchChunk)
	buf := make([]byte, benchChunk)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	done := make(chan error, 1)
	total := int64(b.N) * benchChunk
	go func() {
		_, err := io.CopyN(io.Discard, rx, total)
		done <- err
	}()
	tx.SetDeadline(time.Now().Add(5 * time.Minute))
	rx.SetDeadline(time.Now().Add(5 * time.Minute))
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := tx.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(total)*8/1e9/time.Since(start).Seconds(), "Gbit/s")
}

// ourClientKernelServer connects our stack's client to a kernel listener
// on port and returns both ends; they close with the benchmark.
func ourClientKernelServer(b testing.TB, e *kernelEnv, port uint16) (*stack.TCPConn, *net.TCPConn) {
	l := e.listen(b, port)
	kc := make(chan *net.TCPConn, 1)
	go func() { c, _ := acceptKernel(l, 10*time.Second); kc <- c }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ours, err := e.st.DialTCP(ctx, e.addrPort(port))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ours.Close() })
	k := <-kc
	if k == nil {
		b.Fatal("kernel accepted nothing")
	}
	b.Cleanup(func() { k.Close() })
	return ours, k
}

// kernelClientOurServer connects a kernel client to our listener on port
// and returns both ends; they close with the benchmark.
func kernelClientOurServer(b testing.TB, e *kernelEnv, port uint16) (*net.TCPConn, *stack.TCPConn) {
	l, err := e.st.ListenTCP(port, stack.ListenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	oc := make(chan *stack.TCPConn, 1)
	go func() { c, _ := l.AcceptTCP(); oc <- c }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := e.dial(ctx, port)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { k.Close() })
	ours := <-oc
	if ours == nil {
		b.Fatal("our listener accepted nothing")
	}
	b.Cleanup(func() { ours.Close() })
	return k, ours
}
