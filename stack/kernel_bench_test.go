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
// server. Needs root; skipped otherwise.
func BenchmarkKernelTUN(b *testing.B) {
	const chunk = 4 << 20
	run := func(b *testing.B, tx, rx net.Conn) {
		b.SetBytes(chunk)
		buf := make([]byte, chunk)
		for i := range buf {
			buf[i] = byte(i * 7)
		}
		done := make(chan error, 1)
		total := int64(b.N) * chunk
		go func() {
			_, err := io.CopyN(io.Discard, rx, total)
			done <- err
		}()
		tx.SetDeadline(time.Now().Add(5 * time.Minute))
		rx.SetDeadline(time.Now().Add(5 * time.Minute))
		b.ResetTimer()
		for range b.N {
			if _, err := tx.Write(buf); err != nil {
				b.Fatal(err)
			}
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
	b.Run("our-client-to-kernel", func(b *testing.B) {
		e := newKernelEnv(b, envOpts{})
		l := e.listen(b, 5003)
		kc := make(chan *net.TCPConn, 1)
		go func() { c, _ := acceptKernel(l, 10*time.Second); kc <- c }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ours, err := e.st.DialTCP(ctx, e.addrPort(5003))
		if err != nil {
			b.Fatal(err)
		}
		defer ours.Close()
		k := <-kc
		if k == nil {
			b.Fatal("kernel accepted nothing")
		}
		defer k.Close()
		run(b, ours, k)
	})
	b.Run("kernel-to-our-server", func(b *testing.B) {
		e := newKernelEnv(b, envOpts{})
		l, err := e.st.ListenTCP(5004, stack.ListenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		oc := make(chan *stack.TCPConn, 1)
		go func() { c, _ := l.AcceptTCP(); oc <- c }()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		k, err := e.dial(ctx, 5004)
		if err != nil {
			b.Fatal(err)
		}
		defer k.Close()
		ours := <-oc
		if ours == nil {
			b.Fatal("our listener accepted nothing")
		}
		defer ours.Close()
		run(b, k, ours)
	})
}
