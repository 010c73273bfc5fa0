//go:build linux

package stack_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/fault"
	"github.com/teardown-lab/teardown/stack"
)

// streamConn is what both our TCPConn and the kernel's net.TCPConn are.
type streamConn interface {
	net.Conn
	CloseWrite() error
}

// sendStream writes n bytes of a ChaCha8 stream seeded by seed, then
// shuts down the sending direction; it returns the stream's SHA-256.
func sendStream(c streamConn, seed uint64, n int) ([32]byte, error) {
	src := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 't', 'd'})
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for sent := 0; sent < n; {
		b := buf[:min(len(buf), n-sent)]
		src.Read(b)
		h.Write(b)
		if _, err := c.Write(b); err != nil {
			return [32]byte{}, fmt.Errorf("write after %d bytes: %w", sent, err)
		}
		sent += len(b)
	}
	if err := c.CloseWrite(); err != nil {
		return [32]byte{}, fmt.Errorf("shutdown(write): %w", err)
	}
	return [32]byte(h.Sum(nil)), nil
}

// recvStream reads until end-of-stream and returns the bytes' SHA-256.
func recvStream(c streamConn) ([32]byte, int64, error) {
	h := sha256.New()
	n, err := io.CopyBuffer(h, c, make([]byte, 64<<10))
	return [32]byte(h.Sum(nil)), n, err
}

// kernelExchange sends size bytes each way between a and b at once and checks
// that what each side received hashes to what the other sent.
func kernelExchange(t *testing.T, a, b streamConn, size int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for _, c := range []streamConn{a, b} {
		c.SetDeadline(deadline) // a hang fails instead of blocking CI
	}
	type sent struct {
		sum [32]byte
		err error
	}
	type got struct {
		sum [32]byte
		n   int64
		err error
	}
	sentA, sentB := make(chan sent, 1), make(chan sent, 1)
	gotA, gotB := make(chan got, 1), make(chan got, 1)
	go func() { s, err := sendStream(a, 1, size); sentA <- sent{s, err} }()
	go func() { s, err := sendStream(b, 2, size); sentB <- sent{s, err} }()
	go func() { s, n, err := recvStream(a); gotA <- got{s, n, err} }()
	go func() { s, n, err := recvStream(b); gotB <- got{s, n, err} }()
	sa, sb, ga, gb := <-sentA, <-sentB, <-gotA, <-gotB
	for _, e := range []struct {
		what string
		err  error
	}{{"a sends", sa.err}, {"b sends", sb.err}, {"a receives", ga.err}, {"b receives", gb.err}} {
		if e.err != nil {
			t.Errorf("%s: %v", e.what, e.err)
		}
	}
	if gb.n != int64(size) || gb.sum != sa.sum {
		t.Errorf("a→b: received %d bytes of %d, hash match %v", gb.n, size, gb.sum == sa.sum)
	}
	if ga.n != int64(size) || ga.sum != sb.sum {
		t.Errorf("b→a: received %d bytes of %d, hash match %v", ga.n, size, ga.sum == sb.sum)
	}
}

// lossyLink is the fault model of the interop runs: 2% loss and 2%
// reordering (held back 1 ms) each way, from one seed.
func lossyLink(seed uint64) *fault.Config {
	f := fault.Faults{Loss: 0.02, Reorder: 0.02, ReorderDelay: time.Millisecond}
	return &fault.Config{Seed: seed, Out: f, In: f}
}

const bulkSize = 64 << 20

// checkOptionsInUse asserts that SACK, timestamps and window scaling were
// negotiated on both sides and that their effects are visible: the
// kernel's window beyond 65535 (scaled), its timestamps echoed, and, when
// our packets were lost, SACK blocks in its ACKs.
func checkOptionsInUse(t *testing.T, ours *stack.TCPConn, kernel *net.TCPConn, lossy bool) {
	t.Helper()
	in := ours.Info()
	if !in.SACK || !in.Timestamps || !in.WindowScaling {
		t.Errorf("our side negotiated SACK %v, timestamps %v, window scaling %v; want all three", in.SACK, in.Timestamps, in.WindowScaling)
	}
	if in.SndWScale == 0 || in.MaxPeerWindow <= 65535 {
		t.Errorf("kernel's window scale %d, largest window %d: window scaling not in use", in.SndWScale, in.MaxPeerWindow)
	}
	if in.TSRecent == 0 {
		t.Error("no timestamp taken from the kernel: timestamps not in use")
	}
	if lossy && in.SACKACKs == 0 {
		t.Errorf("no ACK from the kernel carried SACK blocks though our packets were lost (retransmits %d)", in.Retransmits)
	}
	ki, err := kernelTCPInfo(kernel)
	if err != nil {
		t.Fatalf("TCP_INFO: %v", err)
	}
	if !ki.sack || !ki.ts || !ki.wscale || ki.sndWScale == 0 {
		t.Errorf("kernel's TCP_INFO: sack %v, ts %v, wscale %v (snd %d, rcv %d); want all on", ki.sack, ki.ts, ki.wscale, ki.sndWScale, ki.rcvWScale)
	}
	if ki.sndWScale != in.RcvWScale || ki.rcvWScale != in.SndWScale {
		t.Errorf("shifts disagree: kernel snd %d rcv %d, ours snd %d rcv %d", ki.sndWScale, ki.rcvWScale, in.SndWScale, in.RcvWScale)
	}
	t.Logf("ours: MSS %d SRTT %v RTO %v cwnd %d retransmits %d SACK ACKs %d; kernel: rtt %dµs retrans %d",
		in.MSS, in.SRTT, in.RTO, in.CWnd, in.Retransmits, in.SACKACKs, ki.rttMicros, ki.retrans)
}

// Our client dials a kernel server; 64 MiB cross each way at once.
func TestKernelBulkOurClient(t *testing.T) {
	for _, lossy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lossy=%v", lossy), func(t *testing.T) {
			o := envOpts{}
			if lossy {
				o.faults = lossyLink(11)
			}
			e := newKernelEnv(t, o)
			ours, k := e.dialKernel(t, 5001)
			start := time.Now()
			kernelExchange(t, ours, k, bulkSize, 90*time.Second)
			t.Logf("%d MiB each way in %v", bulkSize>>20, time.Since(start))
			checkOptionsInUse(t, ours, k, lossy)
			e.logFaults(t)
			e.logLink(t)
		})
	}
}

// A kernel client dials our server; 64 MiB cross each way at once.
func TestKernelBulkOurServer(t *testing.T) {
	for _, lossy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lossy=%v", lossy), func(t *testing.T) {
			o := envOpts{}
			if lossy {
				o.faults = lossyLink(12)
			}
			e := newKernelEnv(t, o)
			l, err := e.st.ListenTCP(5002, stack.ListenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			oc := make(chan *stack.TCPConn, 1)
			go func() {
				c, err := l.AcceptTCP()
				if err != nil {
					t.Errorf("our accept: %v", err)
				}
				oc <- c
			}()
			k, err := e.dial(ctx, 5002)
			if err != nil {
				t.Fatalf("kernel dial: %v", err)
			}
			defer k.Close()
			var ours *stack.TCPConn
			select {
			case ours = <-oc:
			case <-time.After(10 * time.Second):
				t.Fatal("our listener accepted nothing within 10 s")
			}
			if ours == nil {
				t.FailNow()
			}
			defer ours.Close()
			start := time.Now()
			kernelExchange(t, ours, k, bulkSize, 90*time.Second)
			t.Logf("%d MiB each way in %v", bulkSize>>20, time.Since(start))
			checkOptionsInUse(t, ours, k, lossy)
			e.logFaults(t)
			e.logLink(t)
		})
	}
}

func (e *kernelEnv) addrPort(port uint16) netip.AddrPort { return netip.AddrPortFrom(e.kernel, port) }

func (e *kernelEnv) logFaults(t *testing.T) {
	if e.flt == nil {
		return
	}
	s := e.flt.Stats()
	t.Logf("faults out: %d packets, %d lost, %d reordered; in: %d packets, %d lost, %d reordered",
		s.Out.Packets, s.Out.Lost, s.Out.Reordered, s.In.Packets, s.In.Lost, s.In.Reordered)
}

var _ = errors.Is
