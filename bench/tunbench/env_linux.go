//go:build linux

package tunbench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/link/fdbased"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"

	"github.com/teardown-lab/teardown/bench/gvlink"
	"github.com/teardown-lab/teardown/bench/gvtun"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

// The stacks a row can run.
const (
	Ours        = "ours"         // link/tun, no offloads
	OursOffload = "ours-offload" // link/tun with IFF_VNET_HDR, TSO/GSO both ways
	// OursCoalesce is OursOffload with the stack blind to the link's
	// super-segments (link.GSOEndpoint): it hands over MSS segments and
	// the link coalesces them, as before the stack built its own.
	OursCoalesce = "ours-coalesce"
	GVisorFD     = "gvisor-fdbased"
	// GVisorGSO is gVisor as tailscale runs it: its TCP tuned as
	// tailscale tunes it, on a link that offloads both ways (package
	// gvtun: host GSO with partial checksums out, the kernel's
	// super-packets whole through GRO in).
	GVisorGSO = "gvisor-gso"
)

var (
	prefix     = netip.MustParsePrefix("10.81.0.0/24")
	kernelAddr = netip.MustParseAddr("10.81.0.1")
	stackAddr  = netip.MustParseAddr("10.81.0.2")
)

const devName = "tdb0"

// OursReceiveBuffer, if not zero, is our stack's TCP receive buffer
// (stack.TCPOptions.ReceiveBuffer); zero keeps the stack's default.
var OursReceiveBuffer int

// KernelCC, if not empty, is the congestion control of the kernel's TCP
// sockets in each transfer ("cubic", "bbr", "reno": TCP_CONGESTION, set
// on the client and on the listener, whose connections inherit it);
// empty keeps what a new namespace inherits, the host's default. (A new
// namespace may not make cubic its default unless the host allows it,
// net.ipv4.tcp_allowed_congestion_control; a socket of a process with
// CAP_NET_ADMIN may use any the kernel has.) It decides tun-recv, where
// the kernel sends: with bbr it paces itself at the rate it measures from
// the receiver's ACKs.
var KernelCC string

// env is one namespace with a TUN device: the kernel on one side, the
// stack under test on the other.
type env struct {
	ns    *netNS
	close []func()
	// dial and listen are the stack's.
	dial   func(ctx context.Context, ap netip.AddrPort) (net.Conn, error)
	listen func(port uint16) (net.Listener, error)
	// gso, for the offloading links, counts the super-packets written
	// to the device and read from it.
	gso func() (out, in uint64)
}

func newEnv(which string) (*env, error) {
	ns, err := newNetNS()
	if err != nil {
		return nil, err
	}
	e := &env{ns: ns}
	e.close = append(e.close, ns.close)
	kp := netip.PrefixFrom(kernelAddr, prefix.Bits())
	switch which {
	case Ours, OursOffload, OursCoalesce:
		var dev *tun.Device
		if err := ns.do(func() error {
			var err error
			dev, err = tun.Open(tun.Config{Name: devName, KernelAddr: kp, Offload: which != Ours})
			return err
		}); err != nil {
			e.Close()
			return nil, err
		}
		e.close = append(e.close, func() { dev.Close() })
		e.gso = func() (uint64, uint64) { s := dev.Stats(); return s.GSOPacketsOut, s.GSOPacketsIn }
		var l link.Endpoint = dev
		if which == OursCoalesce {
			l = segmentsOnly{dev}
		}
		st, err := stack.New(stack.Config{Addrs: []netip.Addr{stackAddr}, Link: l,
			TCP: stack.TCPOptions{ReceiveBuffer: OursReceiveBuffer}})
		if err != nil {
			e.Close()
			return nil, err
		}
		e.close = append([]func(){func() { st.Close() }}, e.close...)
		e.dial = func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) { return st.DialTCP(ctx, ap) }
		e.listen = func(port uint16) (net.Listener, error) { return st.ListenTCP(port, stack.ListenOptions{}) }
	case GVisorFD:
		var fd int
		if err := ns.do(func() error {
			var err error
			fd, err = openRawTUN(devName, kp)
			return err
		}); err != nil {
			e.Close()
			return nil, err
		}
		ep, err := fdbased.New(&fdbased.Options{FDs: []int{fd}, MTU: 1500})
		if err != nil {
			unix.Close(fd)
			e.Close()
			return nil, err
		}
		gs, err := gvlink.NewStack(ep, gvlink.StackOptions{Addr: stackAddr})
		if err != nil {
			unix.Close(fd)
			e.Close()
			return nil, err
		}
		// The dispatcher must be stopped (Attach(nil) stops it and waits
		// for it) before the descriptor is closed: closing does not wake a
		// dispatcher blocked in poll, and once the number is reused by the
		// next row's device, a dispatcher still alive reads that device's
		// packets — the next transfer then stalls for want of its ACKs.
		e.close = append([]func(){func() { gs.Close(); ep.Attach(nil); unix.Close(fd) }}, e.close...)
		e.dial = func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
			return gonet.DialContextTCP(ctx, gs, gvlink.FullAddr(ap), ipv4.ProtocolNumber)
		}
		e.listen = func(port uint16) (net.Listener, error) {
			return gonet.ListenTCP(gs, gvlink.FullAddr(netip.AddrPortFrom(stackAddr, port)), ipv4.ProtocolNumber)
		}
	case GVisorGSO:
		var fd int
		if err := ns.do(func() error {
			var err error
			fd, err = gvtun.Open(gvtun.Config{Name: devName, KernelAddr: kp, TxQueueLen: tun.DefaultTxQueueLen})
			return err
		}); err != nil {
			e.Close()
			return nil, err
		}
		ep, err := gvtun.New(fd, 1500)
		if err != nil {
			unix.Close(fd)
			e.Close()
			return nil, err
		}
		gs, err := gvlink.NewStack(ep, gvlink.StackOptions{Addr: stackAddr, Tailscale: true})
		if err != nil {
			ep.Close()
			e.Close()
			return nil, err
		}
		e.close = append([]func(){func() { gs.Close(); ep.Close() }}, e.close...)
		e.gso = func() (uint64, uint64) { return ep.GSOOut.Load(), ep.GSOIn.Load() }
		e.dial = func(ctx context.Context, ap netip.AddrPort) (net.Conn, error) {
			return gonet.DialContextTCP(ctx, gs, gvlink.FullAddr(ap), ipv4.ProtocolNumber)
		}
		e.listen = func(port uint16) (net.Listener, error) {
			return gonet.ListenTCP(gs, gvlink.FullAddr(netip.AddrPortFrom(stackAddr, port)), ipv4.ProtocolNumber)
		}
	default:
		return nil, fmt.Errorf("tunbench: unknown stack %q", which)
	}
	return e, nil
}

// segmentsOnly hides every method of a link but link.Endpoint's.
type segmentsOnly struct{ link.Endpoint }

func (e *env) Close() {
	for _, f := range e.close {
		f()
	}
}

// openRawTUN makes a plain TUN device (no packet information, no vnet
// header) with the kernel's address, up, and returns its descriptor.
func openRawTUN(name string, kernel netip.Prefix) (int, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var req struct {
		name  [16]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		unix.Close(fd)
		return -1, e
	}
	l, err := netlink.LinkByName(name)
	if err == nil {
		err = netlink.LinkSetMTU(l, 1500)
	}
	if err == nil {
		ipn := &net.IPNet{IP: kernel.Addr().AsSlice(), Mask: net.CIDRMask(kernel.Bits(), 32)}
		err = netlink.AddrAdd(l, &netlink.Addr{IPNet: ipn})
	}
	if err == nil {
		err = netlink.LinkSetUp(l)
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// kernelDropped is the device's transmit drops as the kernel counts them:
// packets toward the stack that found its queue full.
func (e *env) kernelDropped() uint64 {
	var n uint64
	e.ns.do(func() error {
		l, err := netlink.LinkByName(devName)
		if err == nil && l.Attrs().Statistics != nil {
			n = l.Attrs().Statistics.TxDropped
		}
		return err
	})
	return n
}

// Result is one transfer.
type Result struct {
	Gbps float64
	// KernelCC is the congestion control the kernel's connection used.
	KernelCC string
	// CPUPerByte is the process's CPU time (user and system) per byte
	// moved, in nanoseconds: the stack under test and the kernel's work
	// in the Linux peer's system calls, both in this process. The
	// kernel's work in softirq or timers (bbr's pacing) counts only when
	// it runs on one of the process's threads.
	CPUPerByte float64
	Dropped    uint64
	// GSOOut and GSOIn count the GSO super-packets the stack's link
	// wrote to the device and read from it (offloading links only).
	GSOOut, GSOIn uint64
}

// Transfer moves n bytes one way: send true from the stack to a kernel
// server (tun-send), false from a kernel client to the stack (tun-recv).
func Transfer(which string, send bool, n int64) (Result, error) {
	e, err := newEnv(which)
	if err != nil {
		return Result{}, err
	}
	defer e.Close()
	const port = 5201
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var tx, rx net.Conn
	if send {
		var l net.Listener
		if err := e.ns.do(func() error {
			var err error
			l, err = (&net.ListenConfig{Control: kernelCC}).Listen(ctx, "tcp", netip.AddrPortFrom(kernelAddr, port).String())
			return err
		}); err != nil {
			return Result{}, err
		}
		defer l.Close()
		acc := make(chan net.Conn, 1)
		go func() { c, _ := l.Accept(); acc <- c }()
		if tx, err = e.dial(ctx, netip.AddrPortFrom(kernelAddr, port)); err != nil {
			return Result{}, err
		}
		if rx = <-acc; rx == nil {
			return Result{}, fmt.Errorf("kernel accepted nothing")
		}
	} else {
		l, err := e.listen(port)
		if err != nil {
			return Result{}, err
		}
		defer l.Close()
		acc := make(chan net.Conn, 1)
		go func() { c, _ := l.Accept(); acc <- c }()
		if err := e.ns.do(func() error {
			var err error
			tx, err = (&net.Dialer{Control: kernelCC}).DialContext(ctx, "tcp", netip.AddrPortFrom(stackAddr, port).String())
			return err
		}); err != nil {
			return Result{}, err
		}
		if rx = <-acc; rx == nil {
			return Result{}, fmt.Errorf("the stack accepted nothing")
		}
	}
	defer tx.Close()
	defer rx.Close()
	kc := rx
	if !send {
		kc = tx
	}
	cc, err := connCC(kc)
	if err != nil {
		return Result{}, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	tx.SetDeadline(deadline)
	rx.SetDeadline(deadline)
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, rx, n)
		done <- err
	}()
	buf := make([]byte, 256<<10)
	cpu0, err := processCPU()
	if err != nil {
		return Result{}, err
	}
	start := time.Now()
	for left := n; left > 0; left -= int64(len(buf)) {
		if _, err := tx.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			return Result{}, fmt.Errorf("write: %w", err)
		}
	}
	if err := <-done; err != nil {
		return Result{}, fmt.Errorf("read: %w", err)
	}
	el := time.Since(start)
	cpu1, err := processCPU()
	if err != nil {
		return Result{}, err
	}
	res := Result{Gbps: float64(n) * 8 / 1e9 / el.Seconds(), CPUPerByte: float64(cpu1-cpu0) / float64(n), KernelCC: cc, Dropped: e.kernelDropped()}
	if e.gso != nil {
		res.GSOOut, res.GSOIn = e.gso()
	}
	return res, nil
}

// processCPU is the CPU time this process has used, user and system.
func processCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("getrusage: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// kernelCC is the kernel sockets' Control function: it sets KernelCC.
func kernelCC(_, _ string, c syscall.RawConn) error {
	if KernelCC == "" {
		return nil
	}
	var err error
	if cerr := c.Control(func(fd uintptr) {
		err = unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, KernelCC)
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("tunbench: kernel congestion control %q: %w", KernelCC, err)
	}
	return nil
}

// connCC reads the congestion control of a kernel TCP connection.
func connCC(c net.Conn) (string, error) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return "", fmt.Errorf("tunbench: %T is not the kernel's TCP connection", c)
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return "", err
	}
	var cc string
	if cerr := rc.Control(func(fd uintptr) {
		cc, err = unix.GetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION)
	}); cerr != nil {
		return "", cerr
	}
	return cc, err
}
