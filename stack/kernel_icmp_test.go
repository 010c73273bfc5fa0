//go:build linux

package stack_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

// ICMP and ICMPv6 judged by the Linux kernel: the kernel on the far side
// of our TUN device routes, and its own ICMP code tells us about paths
// and refusals; its raw sockets ping us.

// addAddrNoDAD gives the device dev the address p without duplicate
// address detection, so that an IPv6 address is usable at once. Run it
// inside the namespace.
func addAddrNoDAD(dev string, p netip.Prefix) error {
	l, err := netlink.LinkByName(dev)
	if err != nil {
		return err
	}
	return netlink.AddrReplace(l, &netlink.Addr{IPNet: prefixNet(p), Flags: unix.IFA_F_NODAD})
}

func prefixNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// writeSysctl writes a sysctl of the namespace the calling thread is in.
func writeSysctl(name, value string) error {
	return os.WriteFile(filepath.Join("/proc/sys", name), []byte(value), 0o644)
}

// enableForwarding makes the kernel of e's namespace a router for the
// family of e's link.
func (e *kernelEnv) enableForwarding() error {
	if e.kernel.Is4() {
		return writeSysctl("net/ipv4/ip_forward", "1")
	}
	return writeSysctl("net/ipv6/conf/all/forwarding", "1")
}

// routerEnv is a kernelEnv whose kernel forwards to a second namespace,
// "far", where a kernel server holds farAddr. The route toward it has a
// locked MTU of 1280 while every device has 1500, so the far server
// announces MSS 1460 and our full-sized segments reach a hop that cannot
// carry them: the router sends us Fragmentation Needed or Packet Too Big.
type routerEnv struct {
	*kernelEnv
	far     *netns.NS
	farAddr netip.Addr
}

func newRouterEnv(t *testing.T, v6 bool) *routerEnv {
	t.Helper()
	e := newKernelEnv(t, envOpts{v6: v6, tcp: stack.TCPOptions{RTOInitial: 200 * time.Millisecond}})
	far, err := netns.New("td-far")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { far.Close() })
	near, farA, bits := netip.MustParseAddr("10.81.0.1"), netip.MustParseAddr("10.81.0.2"), 24
	tunPfx := netip.PrefixFrom(e.kernel, 24).Masked()
	if v6 {
		near, farA, bits = netip.MustParseAddr("fd00:81::1"), netip.MustParseAddr("fd00:81::2"), 64
		tunPfx = netip.PrefixFrom(e.kernel, 64).Masked()
	}
	farFd, err := os.Open(filepath.Join("/var/run/netns", far.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer farFd.Close()
	if err := e.ns.Do(func() error {
		veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "tdva", MTU: 1500}, PeerName: "tdvb",
			PeerNamespace: netlink.NsFd(farFd.Fd())}
		if err := netlink.LinkAdd(veth); err != nil {
			return fmt.Errorf("veth: %w", err)
		}
		l, err := netlink.LinkByName("tdva")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		if err := addAddrNoDAD("tdva", netip.PrefixFrom(near, bits)); err != nil {
			return err
		}
		// The host route to the far server with the small MTU, locked so
		// that forwarding honours it for IPv6 too.
		host := netip.PrefixFrom(farA, farA.BitLen())
		if err := netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: prefixNet(host), MTU: 1280, MTULock: true}); err != nil {
			return fmt.Errorf("route: %w", err)
		}
		return e.enableForwarding()
	}); err != nil {
		t.Fatal(err)
	}
	if err := far.Do(func() error {
		l, err := netlink.LinkByName("tdvb")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetUp(l); err != nil {
			return err
		}
		if err := addAddrNoDAD("tdvb", netip.PrefixFrom(farA, bits)); err != nil {
			return err
		}
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Dst: prefixNet(tunPfx), Gw: near.AsSlice()})
	}); err != nil {
		t.Fatal(err)
	}
	return &routerEnv{kernelEnv: e, far: far, farAddr: farA}
}

// Over a path whose second hop carries 1280 bytes, 4 MiB cross each way
// between our stack and a kernel server behind the router: the router's
// ICMP lowers our MSS (without it, DF makes the path a black hole).
func TestKernelICMPPathMTU(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "v4", true: "v6"}[v6], func(t *testing.T) {
			e := newRouterEnv(t, v6)
			var l net.Listener
			if err := e.far.Do(func() error {
				var err error
				l, err = net.Listen("tcp", netip.AddrPortFrom(e.farAddr, 5001).String())
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			kc := make(chan *net.TCPConn, 1)
			go func() {
				c, err := acceptKernel(l.(*net.TCPListener), 20*time.Second)
				if err != nil {
					t.Errorf("kernel accept: %v", err)
				}
				kc <- c
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ours, err := e.st.DialTCP(ctx, netip.AddrPortFrom(e.farAddr, 5001))
			if err != nil {
				t.Fatalf("dial the far kernel: %v", err)
			}
			defer ours.Close()
			k := <-kc
			if k == nil {
				t.FailNow()
			}
			defer k.Close()
			hdr := 40
			if v6 {
				hdr = 60
			}
			before := ours.Info().MSS
			kernelExchange(t, ours, k, 4<<20, 60*time.Second)
			st := e.st.Stats()
			t.Logf("MSS %d -> %d; ICMP %+v; RTOs %d", before, ours.Info().MSS, st.ICMP, st.TCP.RTOs)
			if st.ICMP.PathMTUDrops == 0 || ours.Info().MSS > 1280-hdr {
				t.Fatalf("send MSS %d after the transfer (ICMP %+v): the path's 1280 bytes were not learnt", ours.Info().MSS, st.ICMP)
			}
		})
	}
}

// A connect to an address the kernel's route table prohibits fails at
// once with the errno Linux gives its own sockets for the kernel's answer
// (ICMP code 13: EHOSTUNREACH; ICMPv6 administratively prohibited:
// EACCES), though the SYN timeout is a minute; an "unreachable" route's
// host unreachable is soft: retried, then reported instead of ETIMEDOUT.
func TestKernelICMPUnreachableEndsConnect(t *testing.T) {
	for _, c := range []struct {
		name      string
		v6        bool
		routeType int
		want      syscall.Errno
		hard      bool
	}{
		{"v4-prohibit", false, unix.RTN_PROHIBIT, syscall.EHOSTUNREACH, true},
		{"v6-prohibit", true, unix.RTN_PROHIBIT, syscall.EACCES, true},
		{"v4-unreachable", false, unix.RTN_UNREACHABLE, syscall.EHOSTUNREACH, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := envOpts{v6: c.v6, tcp: stack.TCPOptions{RTOInitial: time.Minute, RTOMin: time.Minute}}
			if !c.hard {
				o.tcp = stack.TCPOptions{SYNRetries: 2, RTOInitial: 100 * time.Millisecond, RTOMin: 100 * time.Millisecond}
			}
			e := newKernelEnv(t, o)
			dst := netip.MustParseAddr("10.82.0.9")
			if c.v6 {
				dst = netip.MustParseAddr("fd00:82::9")
			}
			if err := e.ns.Do(func() error {
				if err := e.enableForwarding(); err != nil {
					return err
				}
				return netlink.RouteAdd(&netlink.Route{Dst: prefixNet(netip.PrefixFrom(dst, dst.BitLen())), Type: c.routeType})
			}); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			_, err := e.st.DialTCP(ctx, netip.AddrPortFrom(dst, 80))
			st := e.st.Stats().ICMP
			t.Logf("dial: %v; ICMP %+v", err, st)
			if !errors.Is(err, c.want) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("dial: %v, want %v", err, c.want)
			}
			if c.hard && st.HardErrors != 1 || !c.hard && (st.SoftErrors == 0 || st.HardErrors != 0) {
				t.Fatalf("ICMP counters %+v", st)
			}
		})
	}
}

// The kernel pings our stack from a raw ICMP socket in its namespace and
// gets its echo back: same identifier, sequence and data. Like ping, it
// sends again after a second without answer (a freshly configured IPv6
// device may lose the first packet).
func TestKernelICMPEcho(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "v4", true: "v6"}[v6], func(t *testing.T) {
			e := newKernelEnv(t, envOpts{v6: v6})
			var reply []byte
			var seq uint16
			if err := e.ns.Do(func() error {
				var err error
				reply, seq, err = kernelEchoRequest(e.kernel, e.ours, 0x7d01, []byte("teardown ping"))
				return err
			}); err != nil {
				t.Fatalf("%v; our stack: %+v", err, e.st.Stats())
			}
			m, err := wire.ParseICMP(reply)
			want := uint8(wire.ICMPv4EchoReply)
			if v6 {
				want = wire.ICMPv6EchoReply
			}
			if err != nil || m.Type() != want || m.Rest() != 0x7d01<<16|uint32(seq) || string(m.Body()) != "teardown ping" {
				t.Fatalf("reply % x (%v)", reply, err)
			}
			if n := e.st.Stats().ICMP.EchoReplies; n == 0 || n > uint64(seq) {
				t.Fatalf("%d echo replies counted for %d requests", n, seq)
			}
		})
	}
}

// kernelEchoRequest sends echo requests (sequence 1, 2, ... one a second,
// five at most) from a raw socket of the calling thread's namespace and
// returns the ICMP message of the first reply and its request's sequence.
func kernelEchoRequest(from, to netip.Addr, id uint16, data []byte) ([]byte, uint16, error) {
	family, proto, typ := unix.AF_INET, unix.IPPROTO_ICMP, uint8(wire.ICMPv4Echo)
	if to.Is6() {
		family, proto, typ = unix.AF_INET6, unix.IPPROTO_ICMPV6, wire.ICMPv6Echo
	}
	fd, err := unix.Socket(family, unix.SOCK_RAW, proto)
	if err != nil {
		return nil, 0, err
	}
	defer unix.Close(fd)
	tv := unix.NsecToTimeval(int64(time.Second))
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, 0, err
	}
	var sa unix.Sockaddr
	if to.Is4() {
		sa = &unix.SockaddrInet4{Addr: to.As4()}
	} else {
		sa = &unix.SockaddrInet6{Addr: to.As16()}
	}
	buf := make([]byte, 2048)
	for seq := uint16(1); seq <= 5; seq++ {
		msg := make([]byte, wire.ICMPHeaderLen+len(data))
		h := wire.ICMPHeader{Type: typ, Rest: uint32(id)<<16 | uint32(seq)}
		if _, err := h.Encode(msg, from, to, data); err != nil { // the kernel redoes ICMPv6's
			return nil, 0, err
		}
		if err := unix.Sendto(fd, msg, 0, sa); err != nil {
			return nil, 0, err
		}
		for {
			n, _, err := unix.Recvfrom(fd, buf, 0)
			if err != nil {
				break // no answer within a second: send again
			}
			b := buf[:n]
			if to.Is4() { // a raw IPv4 socket reads the IP header too
				ip, err := wire.ParseIP(b)
				if err != nil {
					continue
				}
				b = ip.Payload
			}
			if len(b) >= wire.ICMPHeaderLen && b[0] != typ { // our own request is seen too
				return append([]byte(nil), b...), seq, nil
			}
		}
	}
	return nil, 0, errors.New("no echo reply to five requests")
}

// The kernel cuts a 4000-byte UDP datagram for our 1500-byte link into
// fragments (path MTU discovery off for the socket); our stack puts them
// together, then drops the datagram for its protocol, as it drops any UDP.
func TestKernelFragmentsReassembled(t *testing.T) {
	e := newKernelEnv(t, envOpts{})
	if err := e.ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DONT); err != nil {
			return err
		}
		return unix.Sendto(fd, make([]byte, 4000), 0, &unix.SockaddrInet4{Port: 9, Addr: e.ours.As4()})
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := e.st.Stats()
		if st.Fragments.Reassembled == 1 && st.Dropped["unknown-protocol"] == 1 {
			if st.Fragments.Fragments != 3 {
				t.Fatalf("%d fragments taken, want 3 (4008 bytes of UDP in 1480-byte pieces)", st.Fragments.Fragments)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no reassembled datagram within 10 s: fragments %+v, dropped %v", st.Fragments, st.Dropped)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
