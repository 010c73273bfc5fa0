//go:build linux

package stack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/fault"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/stack"
)

// kernelEnv is a network namespace with a TUN device: the Linux kernel
// holds the first address of the prefix, our stack (on the wall clock)
// the second, and the kernel's sockets are made inside the namespace.
type kernelEnv struct {
	ns           *netns.NS
	dev          *tun.Device
	flt          *fault.Endpoint
	st           *stack.Stack
	kernel, ours netip.Addr
	capture      *syncbuf.Buffer
}

type envOpts struct {
	faults  *fault.Config // nil: no fault wrapper
	capture bool          // record our link in a pcap (syncbuf.Buffer)
	tcp     stack.TCPOptions
	// offload and splitGSO set tun.Config.Offload and SplitGSO.
	offload, splitGSO bool
	// v6: the link is IPv6 (fd00:79::/64) instead of IPv4 (10.79.0.0/24).
	v6 bool
	// ephemeral is our stack's Config.EphemeralPorts.
	ephemeral [2]uint16
}

// needKernel skips loudly when the test cannot create namespaces.
func needKernel(t testing.TB) {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("SKIPPING LINUX KERNEL INTEROP TEST (TUN in a network namespace): %v", err)
	}
}

func newKernelEnv(t testing.TB, o envOpts) *kernelEnv {
	t.Helper()
	needKernel(t)
	ns, err := netns.New("td-kern")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	prefix := netip.MustParsePrefix("10.79.0.0/24")
	if o.v6 {
		prefix = netip.MustParsePrefix("fd00:79::/64")
	}
	k, ours, _ := tun.HostAddrs(prefix)
	e := &kernelEnv{ns: ns, kernel: k, ours: ours}
	if err := ns.Do(func() error {
		var err error
		cfg := tun.Config{Name: "tdk0", KernelAddr: netip.PrefixFrom(k, prefix.Bits()),
			Offload: o.offload, SplitGSO: o.splitGSO}
		if o.v6 {
			cfg.KernelAddr = netip.Prefix{} // added below, without duplicate address detection
		}
		e.dev, err = tun.Open(cfg)
		if err == nil && o.v6 {
			err = addAddrNoDAD("tdk0", netip.PrefixFrom(k, prefix.Bits()))
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.dev.Close() })
	var ep link.Endpoint = e.dev
	clk := clock.NewRealTimers()
	if o.faults != nil {
		cfg := *o.faults
		cfg.Clock = clk
		e.flt, err = fault.New(ep, cfg)
		if err != nil {
			t.Fatal(err)
		}
		ep = e.flt
	}
	if o.capture {
		// The tap sits between the faults and the stack: it records what
		// our stack wrote and what reached it.
		e.capture = new(syncbuf.Buffer)
		w, err := pcap.NewWriter(e.capture, 0)
		if err != nil {
			t.Fatal(err)
		}
		ep = pcap.NewTap(ep, clk, w)
	}
	e.st, err = stack.New(stack.Config{Name: "ours", Addrs: []netip.Addr{ours}, Link: ep, Clock: clk, TCP: o.tcp,
		EphemeralPorts: o.ephemeral})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.st.Close() })
	return e
}

// listen opens a kernel listener in the namespace.
func (e *kernelEnv) listen(t testing.TB, port uint16) *net.TCPListener {
	t.Helper()
	var l net.Listener
	if err := e.ns.Do(func() error {
		var err error
		l, err = net.Listen("tcp", netip.AddrPortFrom(e.kernel, port).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l.(*net.TCPListener)
}

// dial opens a kernel connection from the namespace to our stack.
func (e *kernelEnv) dial(ctx context.Context, port uint16) (*net.TCPConn, error) {
	var c net.Conn
	err := e.ns.Do(func() error {
		var err error
		var d net.Dialer
		c, err = d.DialContext(ctx, "tcp", netip.AddrPortFrom(e.ours, port).String())
		return err
	})
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// dialKernel has our stack dial a kernel listener on port while the
// kernel accepts; both ends close when the test ends.
func (e *kernelEnv) dialKernel(t *testing.T, port uint16) (*stack.TCPConn, *net.TCPConn) {
	t.Helper()
	l := e.listen(t, port)
	kc := make(chan *net.TCPConn, 1)
	go func() {
		c, err := acceptKernel(l, 10*time.Second)
		if err != nil {
			t.Errorf("kernel accept: %v", err)
		}
		kc <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ours, err := e.st.DialTCP(ctx, e.addrPort(port))
	if err != nil {
		t.Fatalf("dial the kernel: %v", err)
	}
	t.Cleanup(func() { ours.Close() })
	k := <-kc
	if k == nil {
		t.FailNow()
	}
	t.Cleanup(func() { k.Close() })
	return ours, k
}

// acceptKernel accepts one connection on a kernel listener, or fails
// after the deadline.
func acceptKernel(l *net.TCPListener, within time.Duration) (*net.TCPConn, error) {
	l.SetDeadline(time.Now().Add(within))
	return l.AcceptTCP()
}

// kernelTCPInfo reads TCP_INFO of a kernel socket: the options bits and
// the window scale shifts (a bitfield golang.org/x/sys leaves in padding:
// byte 6, snd_wscale in the low nibble, rcv_wscale in the high one).
type kernelInfo struct {
	sack, ts, wscale     bool
	sndWScale, rcvWScale uint8
	retrans              uint32
	rttMicros            uint32
}

func kernelTCPInfo(c *net.TCPConn) (kernelInfo, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return kernelInfo{}, err
	}
	var ti *unix.TCPInfo
	var gerr error
	if err := rc.Control(func(fd uintptr) {
		ti, gerr = unix.GetsockoptTCPInfo(int(fd), unix.SOL_TCP, unix.TCP_INFO)
	}); err != nil {
		return kernelInfo{}, err
	}
	if gerr != nil {
		return kernelInfo{}, gerr
	}
	ws := *(*uint8)(unsafe.Add(unsafe.Pointer(ti), 6))
	const optTS, optSACK, optWS = 1, 2, 4 // TCPI_OPT_*
	return kernelInfo{
		ts: ti.Options&optTS != 0, sack: ti.Options&optSACK != 0, wscale: ti.Options&optWS != 0,
		sndWScale: ws & 0xf, rcvWScale: ws >> 4,
		retrans: ti.Total_retrans, rttMicros: ti.Rtt,
	}, nil
}

// rstsOnWire counts the TCP segments with RST in the capture, by
// direction (from our address / from the kernel's).
func (e *kernelEnv) rstsOnWire(t testing.TB) (fromUs, fromKernel int, segs int) {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(e.capture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("reading our capture: %v", err)
		}
		ip, err := wire.ParseIP(p.IP)
		if err != nil || ip.Protocol != wire.IPProtoTCP {
			continue
		}
		tcp, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			continue
		}
		segs++
		if tcp.Flags()&wire.RST != 0 {
			if ip.Src == e.ours {
				fromUs++
			} else {
				fromKernel++
			}
		}
	}
}

// logLink logs the kernel's drops on the TUN device (packets it could not
// queue to us) and our stack's drops.
func (e *kernelEnv) logLink(t testing.TB) {
	t.Helper()
	var txDropped uint64
	e.ns.Do(func() error { //nolint:errcheck // diagnostics only
		l, err := netlink.LinkByName(e.dev.Name())
		if err == nil && l.Attrs().Statistics != nil {
			txDropped = l.Attrs().Statistics.TxDropped
		}
		return err
	})
	s := e.st.Stats()
	t.Logf("kernel dropped %d packets queued to the TUN device; our stack dropped %v, TCP drops %v", txDropped, s.Dropped, s.TCP.Drops)
}

func (e *kernelEnv) String() string {
	return fmt.Sprintf("ns %s, kernel %v, ours %v", e.ns.Name(), e.kernel, e.ours)
}
