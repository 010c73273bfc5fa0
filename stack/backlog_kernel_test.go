//go:build linux

package stack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/link/tun"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// kernelNet is a network namespace with a TUN device: the kernel on one
// side (10.77.0.1), our stack as a client on the other (10.77.0.2), every
// packet of our side captured by a pcap Tap.
type kernelNet struct {
	ns           *netns.NS
	kernel, ours netip.Addr
	client       *stack.Stack
	capMu        sync.Mutex
	capture      bytes.Buffer
	nextPort     uint16
}

// lockedWriter serializes the Tap's writes (both directions write).
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func newKernelNet(t *testing.T) *kernelNet { t.Helper(); return newKernelNetFamily(t, false) }

// newKernelNetFamily is newKernelNet over IPv6 (fd00:77::/64) when v6.
func newKernelNetFamily(t *testing.T, v6 bool) *kernelNet {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("SKIPPING KERNEL JUDGE: %v", err)
	}
	ns, err := netns.New("td-backlog")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	pfx := netip.MustParsePrefix("10.77.0.0/24")
	if v6 {
		pfx = netip.MustParsePrefix("fd00:77::/64")
	}
	k, o, _ := tun.HostAddrs(pfx)
	var dev *tun.Device
	if err := ns.Do(func() error {
		var err error
		if v6 { // the address without duplicate address detection (kernel_icmp_test.go)
			dev, err = tun.Open(tun.Config{Name: "tdbl0", MTU: 1500})
			if err == nil {
				err = addAddrNoDAD("tdbl0", netip.PrefixFrom(k, pfx.Bits()))
			}
			return err
		}
		dev, err = tun.Open(tun.Config{Name: "tdbl0", MTU: 1500, KernelAddr: netip.PrefixFrom(k, pfx.Bits())})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	kn := &kernelNet{ns: ns, kernel: k, ours: o, nextPort: 5000}
	w, err := pcap.NewWriter(lockedWriter{&kn.capMu, &kn.capture}, 0)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewRealTimers()
	tap := pcap.NewTap(dev, clk, w)
	kn.client, err = stack.New(stack.Config{
		Name: "client", Addrs: []netip.Addr{o}, Link: tap, Clock: clk, Profile: profile.Linux,
		TCP: stack.TCPOptions{RTOInitial: 200 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kn.client.Close(); dev.Close() })
	return kn
}

// listen opens a kernel listener in the namespace with an exact backlog
// (Go's net.Listen always asks for somaxconn).
func (kn *kernelNet) listen(t *testing.T, backlog int) (*net.TCPListener, uint16) {
	t.Helper()
	kn.nextPort++
	port := kn.nextPort
	var ln net.Listener
	err := kn.ns.Do(func() error {
		family := unix.AF_INET6
		var sa unix.Sockaddr = &unix.SockaddrInet6{Port: int(port), Addr: kn.kernel.As16()}
		if kn.kernel.Is4() {
			family, sa = unix.AF_INET, &unix.SockaddrInet4{Port: int(port), Addr: kn.kernel.As4()}
		}
		fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), "listener")
		defer f.Close()
		if err := unix.Bind(fd, sa); err != nil {
			return err
		}
		if err := unix.Listen(fd, backlog); err != nil {
			return err
		}
		ln, err = net.FileListener(f)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener), port
}

// wireCount counts, in the capture, SYN-ACKs and RSTs sent by the kernel
// and SYNs sent by us, to and from port.
type wireCount struct{ syns, synacks, rstsIn, rstsOut int }

func countWire(t *testing.T, capture []byte, port uint16) wireCount {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	var c wireCount
	for {
		p, err := r.Next()
		if err == io.EOF {
			return c
		}
		if err != nil {
			t.Fatal(err)
		}
		ip, err := wire.ParseIP(p.IP)
		if err != nil || ip.Protocol != wire.IPProtoTCP {
			continue
		}
		tc, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			continue
		}
		f := tc.Flags()
		switch {
		case tc.DstPort() == port && f&(wire.SYN|wire.ACK) == wire.SYN:
			c.syns++
		case tc.SrcPort() == port && f&(wire.SYN|wire.ACK) == wire.SYN|wire.ACK:
			c.synacks++
		case tc.SrcPort() == port && f&wire.RST != 0:
			c.rstsIn++
		case tc.DstPort() == port && f&wire.RST != 0:
			c.rstsOut++
		}
	}
}

// realScale shortens the scenario's pauses for wall-clock runs.
func realSleep(d time.Duration) { time.Sleep(d / 4) }

// kernelRow plays a row against a kernel listener: our client connects
// and acts, then the kernel accepts and reads.
func (kn *kernelNet) row(t *testing.T, id string, fast bool) backlogRow {
	ln, port := kn.listen(t, 4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := kn.client.DialTCP(ctx, netip.AddrPortFrom(kn.kernel, port))
	if err != nil {
		t.Fatalf("%s: dial: %v", id, err)
	}
	backlogClient(id, c, realSleep)
	time.Sleep(300 * time.Millisecond) // the client's last segment lands
	srv := newBacklogServer()
	ln.SetDeadline(time.Now().Add(time.Second))
	kc, err := ln.AcceptTCP()
	if err != nil {
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s: accept: %v", id, err)
		}
		return srv.row(id)
	}
	defer kc.Close()
	srv.serve(kc, fast, realSleep, time.Now, 500*time.Millisecond,
		func() uint64 { return kn.client.Stats().RSTsForNoConnection })
	return srv.row(id)
}

// TestBacklogKernelJudge: the Linux kernel is the judge of the linux
// profile. Every backlog-* row is played by our stack as the client
// against a kernel listener that accepts only after the client acted;
// what the kernel's accept and reads return must be linuxTable, which
// TestBacklogSeedTable requires of our listener under the linux profile.
func TestBacklogKernelJudge(t *testing.T) {
	kn := newKernelNet(t)
	for _, want := range linuxTable {
		got := kn.row(t, want.id, false)
		if got != want {
			t.Errorf("kernel, %s:\n got  accept %q, read1 %q, read2 %q\n want accept %q, read1 %q, read2 %q",
				want.id, got.accept, got.read1, got.read2, want.accept, want.read1, want.read2)
		}
	}
	got := kn.row(t, "backlog-data-fin-gone", true)
	if want := (backlogRow{"backlog-data-fin-gone", "returns", "data", "EOF"}); got != want {
		t.Errorf("kernel, fast reader: %+v, want %+v", got, want)
	}
}
