//go:build linux

package dccpbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"github.com/teardown-lab/teardown/internal/vm/kdccp"
	"github.com/teardown-lab/teardown/stack"
	"golang.org/x/sys/unix"
)

// Each transfer starts its clock before the sender's first write and
// stops it at the receiving application's last read (its end-of-stream).

// Linux's CCID 3 information (include/uapi/linux/dccp.h, tfrc.h):
// getsockopt(SOL_DCCP, DCCP_SOCKOPT_CCID_RX_INFO) gives struct
// tfrc_rx_info {x_recv, rtt, p} (u32 each), DCCP_SOCKOPT_CCID_TX_INFO
// struct tfrc_tx_info {u64 x, x_recv; u32 x_calc, rtt, p, rto, ipi}; p
// is scaled by 1e6, and a receiver that saw no loss reports ~0.
const (
	optCCIDRxInfo = 128
	optCCIDTxInfo = 192
	rxInfoPOffset = 8
	txInfoPOffset = 24
)

// linuxP reads a kernel CCID 3 socket's loss event rate (×1e6), nil if
// the kernel does not answer.
func linuxP(s *kdccp.Socket, tx bool) *float64 {
	opt, off, size := optCCIDRxInfo, rxInfoPOffset, 12
	if tx {
		opt, off, size = optCCIDTxInfo, txInfoPOffset, 40
	}
	buf := make([]byte, size)
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(s.Fd()), kdccp.SolDCCP, uintptr(opt),
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 || int(l) < off+4 {
		return nil
	}
	p := binary.NativeEndian.Uint32(buf[off:])
	v := float64(p)
	if p == ^uint32(0) {
		v = 0
	}
	return &v
}

// skMeminfoDrops indexes SO_MEMINFO's u32 array (include/uapi/linux/
// sock_diag.h, SK_MEMINFO_DROPS): the socket's sk_drops, packets it
// dropped on receive (backlog or receive buffer full).
const skMeminfoDrops = 8

// socketDrops reads a kernel socket's sk_drops, 0 if it cannot.
func socketDrops(fd int) uint64 {
	buf := make([]byte, 4*(skMeminfoDrops+1))
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_MEMINFO,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 || int(l) < len(buf) {
		return 0
	}
	return uint64(binary.NativeEndian.Uint32(buf[4*skMeminfoDrops:]))
}

func kopt(ccid uint8) kdccp.Options {
	return kdccp.Options{Service: service, CCID: ccid, Timeout: transferTimeout}
}

// counted is what a receiving application read.
type counted struct {
	bytes, datagrams int64
	end              time.Time
	p                *float64
	drops            uint64 // the kernel receiver's sk_drops
	err              error
}

// dccpToLinux: our client sends n bytes to a kernel DCCP server.
func (g *guest) dccpToLinux(port uint16, ccid uint8, n int64) (Result, error) {
	addr := netip.AddrPortFrom(kernelAddr, port)
	l, err := kdccp.Listen(addr, kopt(ccid), 4)
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	got := make(chan counted, 1)
	go func() {
		s, _, err := l.Accept()
		if err != nil {
			got <- counted{err: err}
			return
		}
		defer s.Close()
		var c counted
		buf := make([]byte, 64<<10)
		for {
			k, err := s.Recv(buf)
			if err != nil || k == 0 {
				c.err = err
				c.drops = socketDrops(s.Fd())
				if ccid == 3 {
					c.p = linuxP(s, false)
				}
				got <- c
				return
			}
			c.bytes += int64(k)
			c.datagrams++
			c.end = time.Now()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	c, err := g.s.DialDCCP(ctx, addr, stack.DCCPOptions{Service: service, CCID: int(ccid), SendQueueLen: queueLen, RecvQueueLen: queueLen})
	if err != nil {
		return Result{}, fmt.Errorf("our dial: %w", err)
	}
	c.SetWriteDeadline(time.Now().Add(transferTimeout))
	msg := make([]byte, min(c.MaxDatagram(), datagramSize))
	var r Result
	start := time.Now()
	for left := n; left > 0; left -= int64(len(msg)) {
		if _, err := c.Write(msg); err != nil {
			c.Abort()
			return Result{}, fmt.Errorf("our write: %w", err)
		}
		r.Sent++
	}
	if _, err := c.CloseAndWait(ctx); err != nil {
		c.Abort()
		return Result{}, fmt.Errorf("our close: %w", err)
	}
	r.SeqWindowStalls = c.Stats().SeqWindowStalls
	k := <-got
	if k.err != nil {
		return Result{}, fmt.Errorf("kernel read: %w", k.err)
	}
	r.Bytes, r.Delivered, r.ElapsedNS, r.LinuxP = k.bytes, k.datagrams, k.end.Sub(start).Nanoseconds(), k.p
	r.LinuxRecvDrops = k.drops
	return r, nil
}

// dccpFromLinux: a kernel DCCP client sends n bytes to our server.
func (g *guest) dccpFromLinux(port uint16, ccid uint8, n int64) (Result, error) {
	l, err := g.s.ListenDCCP(port, stack.DCCPListenOptions{Services: []uint32{service}, CCID: int(ccid), RecvQueueLen: queueLen})
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	k, err := kdccp.Dial(netip.AddrPortFrom(ourAddr, port), kopt(ccid))
	if err != nil {
		return Result{}, fmt.Errorf("dial from Linux: %w", err)
	}
	// Without SO_LINGER, Linux's dccp_close purges the datagrams still in
	// its write queue; with it, close waits for a CCID that delays
	// packets (CCID 3) to send them (below for CCID 2).
	if err := unix.SetsockoptLinger(k.Fd(), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 60}); err != nil {
		k.Close()
		return Result{}, fmt.Errorf("SO_LINGER: %w", err)
	}
	type accepted struct {
		c   *stack.DCCPConn
		err error
	}
	acc := make(chan accepted, 1)
	go func() { c, err := l.AcceptDCCP(); acc <- accepted{c, err} }()
	var c *stack.DCCPConn
	select {
	case a := <-acc:
		c, err = a.c, a.err
	case <-time.After(30 * time.Second):
		err = errors.New("no connection accepted in 30 s")
	}
	if err != nil {
		k.Close()
		return Result{}, err
	}
	got := make(chan counted, 1)
	go func() {
		var r counted
		c.SetReadDeadline(time.Now().Add(transferTimeout))
		buf := make([]byte, 64<<10)
		for {
			m, err := c.Read(buf)
			if err != nil {
				if !errors.Is(err, io.EOF) {
					r.err = err
				}
				break
			}
			r.bytes += int64(m)
			r.datagrams++
			r.end = time.Now()
		}
		got <- r
	}()
	size := datagramSize
	if mps, err := k.CurMPS(); err == nil && mps < size {
		size = mps
	}
	msg := make([]byte, size)
	var res Result
	start := time.Now()
	for left := n; left > 0; {
		err := k.Send(msg)
		if errors.Is(err, unix.EAGAIN) {
			// Linux answers EAGAIN on a full tx queue even when
			// blocking; wait a little.
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			k.Close()
			c.Abort()
			return Result{}, fmt.Errorf("send from Linux: %w", err)
		}
		res.Sent++
		left -= int64(size)
	}
	if ccid == 3 {
		res.LinuxP = linuxP(k, true)
	}
	// Linux's dccp_close purges its write queue when the CCID cannot send
	// at once (CCID 2 with a full window), lingering or not: wait for the
	// queue to drain first, or those datagrams would count as lost.
	for deadline := time.Now().Add(transferTimeout); time.Now().Before(deadline); {
		if q, err := unix.IoctlGetInt(k.Fd(), unix.SIOCOUTQ); err != nil || q == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	k.Close()
	r := <-got
	st := c.Stats()
	c.Close()
	if r.err != nil {
		return Result{}, fmt.Errorf("our read: %w", r.err)
	}
	res.Bytes, res.Delivered, res.ElapsedNS = r.bytes, r.datagrams, r.end.Sub(start).Nanoseconds()
	res.RecvQueueDrops, res.LossEvents = st.RecvQueueDrops, st.LossEvents
	return res, nil
}

// tcpSend writes n bytes on w in 64 KiB writes, half-closes, waits for
// the reader's count and, once the reader closed too (after every byte
// was acknowledged), reads retx, the sender's retransmissions.
func tcpSend(w net.Conn, got <-chan counted, n int64, retx func() uint64) (Result, error) {
	defer w.Close()
	buf := make([]byte, 64<<10)
	w.SetDeadline(time.Now().Add(transferTimeout))
	start := time.Now()
	for left := n; left > 0; {
		m, err := w.Write(buf[:min(left, int64(len(buf)))])
		if err != nil {
			return Result{}, fmt.Errorf("write: %w", err)
		}
		left -= int64(m)
	}
	w.(interface{ CloseWrite() error }).CloseWrite()
	r := <-got
	if r.err != nil {
		return Result{}, fmt.Errorf("read: %w", r.err)
	}
	if r.bytes != n {
		return Result{}, fmt.Errorf("read %d bytes of %d", r.bytes, n)
	}
	io.Copy(io.Discard, w) // to the reader's FIN
	return Result{Bytes: r.bytes, ElapsedNS: r.end.Sub(start).Nanoseconds(), Retransmits: retx()}, nil
}

// tcpReceive accepts one connection on l and counts it to end-of-stream.
func tcpReceive(l net.Listener) <-chan counted {
	got := make(chan counted, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			got <- counted{err: err}
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(transferTimeout))
		m, err := io.CopyBuffer(io.Discard, c, make([]byte, 64<<10))
		got <- counted{bytes: m, end: time.Now(), err: err}
	}()
	return got
}

func (g *guest) tcpToLinux(port uint16, n int64) (Result, error) {
	l, err := net.Listen("tcp4", netip.AddrPortFrom(kernelAddr, port).String())
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	got := tcpReceive(l)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := g.s.DialTCP(ctx, netip.AddrPortFrom(kernelAddr, port))
	if err != nil {
		return Result{}, err
	}
	return tcpSend(c, got, n, func() uint64 { return c.Stats().Retransmits })
}

func (g *guest) tcpFromLinux(port uint16, n int64) (Result, error) {
	l, err := g.s.ListenTCP(port, stack.ListenOptions{})
	if err != nil {
		return Result{}, err
	}
	defer l.Close()
	got := tcpReceive(l)
	c, err := net.DialTimeout("tcp4", netip.AddrPortFrom(ourAddr, port).String(), 30*time.Second)
	if err != nil {
		return Result{}, err
	}
	return tcpSend(c, got, n, func() uint64 { return kernelRetrans(c) })
}

// kernelRetrans is a kernel TCP socket's tcp_info total_retrans.
func kernelRetrans(c net.Conn) uint64 {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0
	}
	var v uint64
	raw.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil {
			v = uint64(info.Total_retrans)
		}
	})
	return v
}
