//go:build linux

package dccpinterop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/internal/vm/kdccp"
	"github.com/teardown-lab/teardown/stack"
	"golang.org/x/sys/unix"
)

// The transfers of TestThroughputInVM. Each starts its clock before the
// sender's first write and stops it at the receiving application's last
// read (its end-of-stream); DCCP datagrams carry our largest payload
// (1380 bytes at MTU 1500), Linux's capped to the same.

var loopback = netip.MustParseAddr("127.0.0.1")

const datagramSize = 1380

// counted is what a receiving application read.
type counted struct {
	bytes, datagrams int64
	end              time.Time
	err              error
}

func kopt(ccid uint8) kdccp.Options {
	return kdccp.Options{Service: 42, CCID: ccid, Timeout: 10 * time.Second}
}

// kernelCount reads a kernel DCCP socket to its end.
func kernelCount(s *kdccp.Socket) counted {
	var c counted
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Recv(buf)
		if err != nil {
			c.err = err
			return c
		}
		if n == 0 {
			c.err = s.SoError()
			return c
		}
		c.bytes += int64(n)
		c.datagrams++
		c.end = time.Now()
	}
}

// kernelSend sends n bytes in datagrams of at most datagramSize from a
// kernel socket, then closes it. Linux answers EAGAIN on a full tx queue
// even on a blocking socket; the sender then waits 100 µs.
func kernelSend(s *kdccp.Socket, n int64) (sent int64, err error) {
	size := datagramSize
	if mps, err := s.CurMPS(); err == nil && mps < size {
		size = mps
	}
	msg := make([]byte, size)
	for left := n; left > 0; {
		err := s.Send(msg)
		if errors.Is(err, unix.EAGAIN) {
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			s.Close()
			return sent, err
		}
		sent++
		left -= int64(size)
	}
	return sent, s.Close()
}

// kernelSink listens with a kernel DCCP socket at addr and counts what the
// first connection it accepts receives.
func kernelSink(addr netip.AddrPort, ccid uint8) (*kdccp.Socket, <-chan counted, error) {
	l, err := kdccp.Listen(addr, kopt(ccid), 4)
	if err != nil {
		return nil, nil, err
	}
	got := make(chan counted, 1)
	go func() {
		s, _, err := l.Accept()
		if err != nil {
			got <- counted{err: err}
			return
		}
		defer s.Close()
		got <- kernelCount(s)
	}()
	return l, got, nil
}

// dccpToLinux: our client sends to a kernel DCCP server.
func dccpToLinux(e *env, port uint16, ccid uint8, n int64) (throughputResult, error) {
	addr := netip.AddrPortFrom(kernelAddr, port)
	l, got, err := kernelSink(addr, ccid)
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := e.s.DialDCCP(ctx, addr, stack.DCCPOptions{Service: 42, CCID: int(ccid), SendQueueLen: throughputQueue, RecvQueueLen: throughputQueue})
	if err != nil {
		return throughputResult{}, fmt.Errorf("our dial: %w", err)
	}
	msg := make([]byte, min(c.MaxDatagram(), datagramSize))
	var sent int64
	start := time.Now()
	for left := n; left > 0; left -= int64(len(msg)) {
		if _, err := c.Write(msg); err != nil {
			c.Abort()
			return throughputResult{}, fmt.Errorf("our write: %w", err)
		}
		sent++
	}
	if _, err := c.CloseAndWait(ctx); err != nil {
		c.Abort()
		return throughputResult{}, fmt.Errorf("our close: %w (wrote %d datagrams; our counters %+v)", err, sent, c.Stats())
	}
	k := <-got
	if k.err != nil {
		return throughputResult{}, fmt.Errorf("kernel read: %w", k.err)
	}
	return throughputResult{bytes: k.bytes, elapsed: k.end.Sub(start), sent: sent, delivered: k.datagrams}, nil
}

// ourCount reads one of our DCCP connections to its end-of-stream.
func ourCount(c *stack.DCCPConn) counted {
	var r counted
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				r.err = err
			}
			return r
		}
		r.bytes += int64(n)
		r.datagrams++
		r.end = time.Now()
	}
}

// dccpFromLinux: a kernel DCCP client sends to our server.
func dccpFromLinux(e *env, port uint16, ccid uint8, n int64) (throughputResult, error) {
	l, err := e.s.ListenDCCP(port, stack.DCCPListenOptions{Services: []uint32{42}, CCID: int(ccid), RecvQueueLen: throughputQueue})
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	k, err := kdccp.Dial(netip.AddrPortFrom(ourAddr, port), kopt(ccid))
	if err != nil {
		return throughputResult{}, fmt.Errorf("Linux dial: %w", err)
	}
	c, err := acceptWithin(l, 10*time.Second)
	if err != nil {
		k.Close()
		return throughputResult{}, err
	}
	got := make(chan counted, 1)
	go func() {
		r := ourCount(c)
		if d := c.Stats().RecvQueueDrops; d > 0 {
			fmt.Printf("%s: our receive queue dropped %d datagrams\n", l.Addr(), d)
		}
		c.Close()
		got <- r
	}()
	start := time.Now()
	sent, err := kernelSend(k, n)
	if err != nil {
		c.Abort()
		return throughputResult{}, fmt.Errorf("Linux send: %w", err)
	}
	r := <-got
	if r.err != nil {
		return throughputResult{}, fmt.Errorf("our read: %w", r.err)
	}
	return throughputResult{bytes: r.bytes, elapsed: r.end.Sub(start), sent: sent, delivered: r.datagrams}, nil
}

// dccpLinuxLoopback: Linux to Linux over the guest's loopback (MTU set
// to 1500 by TestThroughputInVM), the kernel's own figure.
func dccpLinuxLoopback(port uint16, ccid uint8, n int64) (throughputResult, error) {
	addr := netip.AddrPortFrom(loopback, port)
	l, got, err := kernelSink(addr, ccid)
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	k, err := kdccp.Dial(addr, kopt(ccid))
	if err != nil {
		return throughputResult{}, err
	}
	start := time.Now()
	sent, err := kernelSend(k, n)
	if err != nil {
		return throughputResult{}, fmt.Errorf("send: %w", err)
	}
	r := <-got
	if r.err != nil {
		return throughputResult{}, fmt.Errorf("read: %w", r.err)
	}
	return throughputResult{bytes: r.bytes, elapsed: r.end.Sub(start), sent: sent, delivered: r.datagrams}, nil
}

// tcpTransfer writes n bytes on w in 64 KiB writes, half-closes, and
// waits for the reader's count.
func tcpTransfer(w net.Conn, got <-chan counted, n int64) (throughputResult, error) {
	buf := make([]byte, 64<<10)
	w.SetWriteDeadline(time.Now().Add(5 * time.Minute))
	start := time.Now()
	for left := n; left > 0; {
		m, err := w.Write(buf[:min(left, int64(len(buf)))])
		if err != nil {
			w.Close()
			return throughputResult{}, fmt.Errorf("write: %w", err)
		}
		left -= int64(m)
	}
	w.(interface{ CloseWrite() error }).CloseWrite()
	r := <-got
	w.Close()
	if r.err != nil {
		return throughputResult{}, fmt.Errorf("read: %w", r.err)
	}
	if r.bytes != n {
		return throughputResult{}, fmt.Errorf("read %d bytes of %d", r.bytes, n)
	}
	return throughputResult{bytes: r.bytes, elapsed: r.end.Sub(start)}, nil
}

// tcpCount reads c to end-of-stream.
func tcpCount(c net.Conn) counted {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Minute))
	n, err := io.CopyBuffer(io.Discard, c, make([]byte, 64<<10))
	return counted{bytes: n, end: time.Now(), err: err}
}

// tcpPair serves one connection on l (counting it) and dials it.
func tcpPair(l net.Listener, dial func() (net.Conn, error)) (net.Conn, <-chan counted, error) {
	got := make(chan counted, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- counted{err: err}
			return
		}
		got <- tcpCount(c)
	}()
	w, err := dial()
	return w, got, err
}

func tcpToLinux(e *env, port uint16, n int64) (throughputResult, error) {
	l, err := net.Listen("tcp4", netip.AddrPortFrom(kernelAddr, port).String())
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	w, got, err := tcpPair(l, func() (net.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return e.s.DialTCP(ctx, netip.AddrPortFrom(kernelAddr, port))
	})
	if err != nil {
		return throughputResult{}, err
	}
	return tcpTransfer(w, got, n)
}

func tcpFromLinux(e *env, port uint16, n int64) (throughputResult, error) {
	l, err := e.s.ListenTCP(port, stack.ListenOptions{})
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	w, got, err := tcpPair(l, func() (net.Conn, error) {
		return net.DialTimeout("tcp4", netip.AddrPortFrom(ourAddr, port).String(), 10*time.Second)
	})
	if err != nil {
		return throughputResult{}, err
	}
	return tcpTransfer(w, got, n)
}

func tcpLinuxLoopback(port uint16, n int64) (throughputResult, error) {
	l, err := net.Listen("tcp4", netip.AddrPortFrom(loopback, port).String())
	if err != nil {
		return throughputResult{}, err
	}
	defer l.Close()
	w, got, err := tcpPair(l, func() (net.Conn, error) {
		return net.DialTimeout("tcp4", l.Addr().String(), 10*time.Second)
	})
	if err != nil {
		return throughputResult{}, err
	}
	return tcpTransfer(w, got, n)
}

// setLoopbackMTU gives the guest's lo the TUN device's MTU, so that
// Linux-to-Linux figures use the same packet size as the TUN path.
func setLoopbackMTU(mtu int) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint32(uint32(mtu))
	return unix.IoctlIfreq(fd, unix.SIOCSIFMTU, ifr)
}
