//go:build linux

package drill

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun"
)

// kernelSettle bounds how long settle waits for a blocked call.
const kernelSettle = 2 * time.Millisecond

// kernelRmem is the namespace's net.ipv4.tcp_rmem: Linux's defaults,
// so that what the kernel advertises (the window scale follows the
// largest receive buffer) does not depend on how the host is tuned.
const kernelRmem = "4096 131072 6291456"

// KernelAvailable returns nil if this process can run scripts against
// the kernel (it needs root for the network namespace and TUN device),
// or an error saying why not.
func KernelAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("not root")
	}
	return netns.Available()
}

// RunKernel runs a parsed script against the Linux kernel, in real time:
// the kernel is the local host, in a network namespace of its own made
// for the run; the remote host is a TUN device in that namespace, routed
// to RemoteAddr. Syscall lines are real socket calls made in the
// namespace; inbound packets are written to the device, outbound ones
// read from it and judged as in Run.
func RunKernel(s *Script, opts Options) Result {
	if len(s.Unsupported) > 0 {
		u := s.Unsupported[0]
		return Result{Script: s.Name, Status: Unsupported, Line: u.Line, Message: u.What}
	}
	if s.DCCP() {
		return Result{Script: s.Name, Status: Unsupported, Message: "DCCP lines (the simulator only)"}
	}
	fail := func(err error) Result {
		return Result{Script: s.Name, Status: Fail, Message: "kernel: " + err.Error()}
	}
	if err := KernelAvailable(); err != nil {
		return fail(err)
	}
	ns, err := netns.New("td-drill")
	if err != nil {
		return fail(err)
	}
	defer ns.Close()
	var notApplied []string
	b := &kernelBackend{clk: clock.NewRealTimers(), ns: ns, fds: map[int]int{}, v6: s.IPv6}
	if err := ns.Do(func() error {
		laddr, raddr := addrs(s)
		kernelAddr := netip.PrefixFrom(laddr, 32)
		if s.IPv6 {
			kernelAddr = netip.Prefix{} // added below, without DAD
		}
		// The device takes GSO packets (offloads on): the segments of one
		// inbound line longer than a segment (--mss, else what the MTU
		// allows) reach the kernel as one packet, as packetdrill writes
		// them. What the kernel sends is cut back into its segments.
		// SyncWrites: every packet is in the kernel when written, as
		// packetdrill's are.
		b.dev, err = tun.Open(tun.Config{Name: "drill0", MTU: 1500, Offload: true, SplitGSO: true, SyncWrites: true,
			KernelAddr: kernelAddr})
		if err != nil {
			return err
		}
		if s.IPv6 {
			if err := addNoDAD("drill0", laddr); err != nil {
				return err
			}
		}
		if err := os.WriteFile("/proc/sys/net/ipv4/tcp_rmem", []byte(kernelRmem), 0); err != nil {
			return err
		}
		notApplied = setSysctls(s.Sysctls)
		return routeRemote("drill0", raddr)
	}); err != nil {
		return fail(err)
	}
	defer b.dev.Close()
	defer b.closeAll()
	d := newDriver(s, opts, b)
	if opts.Record {
		d.rec = newRecorder(s.Name, "Linux kernel", b.Now())
	}
	b.dev.Attach(link.ReceiverFunc(d.receive))
	res := d.exec()
	res.Script = s.Name
	if d.rec != nil {
		res.trace, res.Pcap = d.rec.result()
	}
	if n := notAppliedNote("to the namespace", notApplied); n != "" {
		res.Notes = append(res.Notes, n)
	}
	return res
}

// setSysctls writes the script's settings in the namespace (the caller
// runs in it); those the kernel refuses (a global one, a value not
// allowed here) are returned with the reason.
func setSysctls(list []Sysctl) []string {
	var failed []string
	for _, sc := range list {
		path := "/proc/sys/" + strings.ReplaceAll(sc.Name, ".", "/")
		if strings.Contains(sc.Name, "/") || strings.Contains(sc.Name, "..") {
			failed = append(failed, sc.Name+" (not a sysctl name)")
			continue
		}
		if err := os.WriteFile(path, []byte(sc.Value), 0); err != nil {
			failed = append(failed, fmt.Sprintf("%s=%s (%v)", sc.Name, sc.Value, errors.Unwrap(err)))
		}
	}
	return failed
}

// routeRemote routes the remote address's /24 (IPv6: /32) through the
// device, as packetdrill routes its remote address through its tun device.
func routeRemote(dev string, remote netip.Addr) error {
	l, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	bits := 24
	if remote.Is6() {
		bits = 32
	}
	dst := netip.PrefixFrom(remote, bits).Masked()
	r := &netlink.Route{LinkIndex: l.Attrs().Index, Scope: netlink.SCOPE_LINK,
		Dst: &net.IPNet{IP: dst.Addr().AsSlice(), Mask: net.CIDRMask(dst.Bits(), remote.BitLen())}}
	if err := netlink.RouteAdd(r); err != nil {
		return fmt.Errorf("route %v via %s: %w", dst, dev, err)
	}
	return nil
}

// kernelBackend is the Linux kernel behind a TUN device, in real time.
type kernelBackend struct {
	clk clock.RealTimers
	ns  *netns.NS
	dev *tun.Device

	mu     sync.Mutex
	v6     bool        // --ip_version=ipv6: AF_INET6 sockets
	fds    map[int]int // the script's fd numbers → the kernel's
	closed bool        // closeAll ran: a late accept's fd is closed at once
}

func (b *kernelBackend) Now() clock.Instant             { return b.clk.Now() }
func (b *kernelBackend) NewTimer(fn func()) clock.Timer { return b.clk.NewTimer(fn) }
func (b *kernelBackend) Go(fn func())                   { go fn() }
func (b *kernelBackend) Park(w chan struct{})           { <-w }
func (b *kernelBackend) Unpark(chan struct{})           {}

// settle gives a blocked call a moment to return: a packet just written
// to the device may have woken it (an RST ending a connect), and its
// goroutine must run before the next line finds it still blocked.
func (b *kernelBackend) settle(d *driver) {
	if d.block != nil {
		d.waitUntil(b.Now().Add(kernelSettle), d.block.isDone)
	}
}

func (b *kernelBackend) gso() bool { return true }

func (b *kernelBackend) send(pkts [][]byte) error {
	_, err := b.dev.WritePackets(pkts)
	return err
}

// closeAll closes what the script left open; shutdown first wakes a call
// still blocked in it.
func (b *kernelBackend) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for n, fd := range b.fds {
		unix.Shutdown(fd, unix.SHUT_RDWR) //nolint:errcheck // best effort
		unix.Close(fd)                    //nolint:errcheck // as above
		delete(b.fds, n)
	}
}

// newFD numbers a kernel fd as the script sees it: the lowest from 3.
func (b *kernelBackend) newFD(fd int) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		unix.Close(fd) //nolint:errcheck // the run is over
		return -1
	}
	n := 3
	for _, ok := b.fds[n]; ok; _, ok = b.fds[n] {
		n++
	}
	b.fds[n] = fd
	return int64(n)
}

func (b *kernelBackend) fd(c *Call) (int, int, error) {
	if len(c.Args) == 0 || c.Args[0].Kind != ArgInt {
		return 0, 0, errUnsupported(c.Name + " without a file descriptor number")
	}
	n := int(c.Args[0].Int)
	b.mu.Lock()
	defer b.mu.Unlock()
	fd, ok := b.fds[n]
	if !ok {
		return 0, n, syscall.EBADF
	}
	return fd, n, nil
}

func (b *kernelBackend) syscall(_ *driver, c *Call) (int64, error) {
	if c.Name == "socket" {
		if err := socketArgs(c, b.v6); err != nil {
			return 0, err
		}
		family := unix.AF_INET
		if b.v6 {
			family = unix.AF_INET6
		}
		var fd int
		err := b.ns.Do(func() error {
			var err error
			fd, err = unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
			return err
		})
		if err != nil {
			return 0, err
		}
		return b.newFD(fd), nil
	}
	fd, n, err := b.fd(c)
	if err != nil {
		return 0, err
	}
	switch c.Name {
	case "bind":
		return 0, unix.Bind(fd, b.sockaddr(LocalAddr6, LocalAddr))
	case "listen":
		if c.arg(1).Kind != ArgInt {
			return 0, errUnsupported("listen without a number backlog")
		}
		return 0, unix.Listen(fd, int(c.arg(1).Int))
	case "accept":
		nfd, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
		if err != nil {
			return 0, err
		}
		return b.newFD(nfd), nil
	case "connect":
		return 0, unix.Connect(fd, b.sockaddr(RemoteAddr6, RemoteAddr))
	case "write", "send", "read", "recv", "sendmsg", "recvmsg":
		if (c.Name == "send" || c.Name == "recv") && !zeroFlags(c.arg(3)) {
			return 0, errUnsupported(c.Name + " flags " + c.arg(3).Text)
		}
		l := c.arg(2)
		if c.Name == "sendmsg" || c.Name == "recvmsg" {
			if l, err = msgLen(c); err != nil {
				return 0, err
			}
		}
		if l.Kind != ArgInt || l.Int < 0 || l.Int > 1<<24 {
			return 0, errUnsupported(c.Name + " length " + l.Text)
		}
		buf := make([]byte, l.Int)
		var r int
		if c.Name == "write" || c.Name == "send" || c.Name == "sendmsg" {
			r, err = unix.Write(fd, buf)
		} else {
			r, err = unix.Read(fd, buf)
		}
		return int64(r), err
	case "close":
		b.mu.Lock()
		delete(b.fds, n)
		b.mu.Unlock()
		return 0, unix.Close(fd)
	case "shutdown":
		how, ok := map[string]int{"SHUT_RD": unix.SHUT_RD, "SHUT_WR": unix.SHUT_WR, "SHUT_RDWR": unix.SHUT_RDWR}[symArg(c.arg(1))]
		if !ok {
			return 0, errUnsupported("shutdown how " + c.arg(1).Text)
		}
		return 0, unix.Shutdown(fd, how)
	case "setsockopt":
		return 0, b.setsockopt(fd, symArg(c.arg(2)), c.arg(3))
	case "getsockopt":
		if symArg(c.arg(2)) != "SO_ERROR" {
			return 0, b.getsockopt(fd, symArg(c.arg(2)), c.arg(3))
		}
		v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return 0, err
		}
		return 0, checkSOError(syscall.Errno(v), c.arg(3))
	case "fcntl":
		if symArg(c.arg(1)) == "F_GETFL" {
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			return int64(fl &^ unix.O_LARGEFILE), err
		}
		if symArg(c.arg(1)) != "F_SETFL" {
			return 0, errUnsupported("fcntl " + c.arg(1).Text)
		}
		flags := unix.O_RDWR
		if slices.Contains(c.arg(2).Syms, "O_NONBLOCK") {
			flags |= unix.O_NONBLOCK
		}
		_, err := unix.FcntlInt(uintptr(fd), unix.F_SETFL, flags)
		return 0, err
	}
	if c.Name == "ioctl" {
		return 0, b.ioctl(fd, c)
	}
	return 0, errUnsupported("call " + c.Name)
}

// sockaddr is port 8080 at v6 or v4, as the run's family says.
func (b *kernelBackend) sockaddr(v6, v4 netip.Addr) unix.Sockaddr {
	if b.v6 {
		return &unix.SockaddrInet6{Port: localPort, Addr: v6.As16()}
	}
	return &unix.SockaddrInet4{Port: localPort, Addr: v4.As4()}
}

func (b *kernelBackend) setsockopt(fd int, name string, v Arg) error {
	opt := map[string][2]int{
		"SO_REUSEADDR":     {unix.SOL_SOCKET, unix.SO_REUSEADDR},
		"SO_KEEPALIVE":     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
		"TCP_NODELAY":      {unix.IPPROTO_TCP, unix.TCP_NODELAY},
		"TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
	}
	if name == "SO_LINGER" {
		l, err := lingerArg(v)
		if err != nil {
			return err
		}
		lg := &unix.Linger{}
		if l >= 0 {
			lg.Onoff, lg.Linger = 1, int32(l)
		}
		return unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, lg)
	}
	o, ok := opt[name]
	if !ok {
		return b.setsockoptInt(fd, name, v)
	}
	n, err := intArg(name, v)
	if err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, o[0], o[1], int(n))
}

// addNoDAD gives the device an IPv6 address usable at once: without
// duplicate address detection it is never tentative, so bind does not
// fail with EADDRNOTAVAIL for the first second.
func addNoDAD(dev string, a netip.Addr) error {
	l, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	addr := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(128, 128)}, Flags: unix.IFA_F_NODAD}
	if err := netlink.AddrReplace(l, addr); err != nil {
		return fmt.Errorf("add %v to %s: %w", a, dev, err)
	}
	// IPv6 on the device is ready once the kernel has given it its
	// link-local address (addrconf, after the link came up); a SYN that
	// arrives before is not answered.
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
		list, err := netlink.AddrList(l, netlink.FAMILY_V6)
		if err != nil {
			return err
		}
		for _, x := range list {
			if x.IP.IsLinkLocalUnicast() && x.Flags&unix.IFA_F_TENTATIVE == 0 {
				return nil
			}
		}
	}
	return fmt.Errorf("IPv6 on %s not ready after 2 s", dev)
}
