//go:build linux

package tun

import (
	"bytes"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/link"
)

func needNetns(t *testing.T) *netns.NS {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skipf("SKIPPING TUN TEST: %v", err)
	}
	ns, err := netns.New("td-tun")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

func TestHostAddrs(t *testing.T) {
	k, o, ok := HostAddrs(netip.MustParsePrefix("10.7.0.0/24"))
	if !ok || k != netip.MustParseAddr("10.7.0.1") || o != netip.MustParseAddr("10.7.0.2") {
		t.Fatalf("got %v %v %v", k, o, ok)
	}
	if _, _, ok := HostAddrs(netip.MustParsePrefix("10.7.0.0/31")); ok {
		t.Fatal("a /31 has no room for a second host address after the first")
	}
	k6, o6, ok := HostAddrs(netip.MustParsePrefix("fd00:7::/64"))
	if !ok || k6 != netip.MustParseAddr("fd00:7::1") || o6 != netip.MustParseAddr("fd00:7::2") {
		t.Fatalf("v6: got %v %v %v", k6, o6, ok)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	if _, err := Open(Config{Name: ""}); err == nil {
		t.Error("empty name accepted")
	}
	if _, err := Open(Config{Name: "this-name-is-too-long"}); err == nil {
		t.Error("16-byte name accepted")
	}
	if _, err := Open(Config{Name: "td0", MTU: 100}); err == nil {
		t.Error("MTU 100 accepted")
	}
}

// The kernel and the device exchange packets both ways: a kernel UDP socket
// in the namespace receives what we write to the device, and what it sends
// to our address comes out of the device.
func TestKernelExchangesPacketsThroughDevice(t *testing.T) {
	ns := needNetns(t)
	kernel := netip.MustParsePrefix("10.77.0.1/24")
	ours := netip.MustParseAddr("10.77.0.2")
	var dev *Device
	var conn *net.UDPConn
	err := ns.Do(func() error {
		var err error
		dev, err = Open(Config{Name: "tdtest0", KernelAddr: kernel})
		if err != nil {
			return err
		}
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(kernel.Addr().AsSlice()), Port: 9000})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	defer conn.Close()

	var mu sync.Mutex
	got := make(chan []byte, 16)
	dev.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pkts {
			// Keep only UDP to our address: the kernel may also send
			// IPv6 router solicitations and the like.
			if len(p) >= 28 && p[0]>>4 == 4 && p[9] == 17 {
				got <- bytes.Clone(p)
			}
		}
	}))

	// Device → kernel.
	src := netip.AddrPortFrom(ours, 5555)
	dst := netip.AddrPortFrom(kernel.Addr(), 9000)
	if _, err := dev.WritePackets([][]byte{udpPacket(src, dst, []byte("to the kernel"))}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, from, err := conn.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("kernel socket did not receive our packet: %v", err)
	}
	if string(buf[:n]) != "to the kernel" || from.Port != 5555 {
		t.Fatalf("kernel read %q from %v", buf[:n], from)
	}

	// Kernel → device.
	if _, err := conn.WriteToUDP([]byte("to the stack"), &net.UDPAddr{IP: net.IP(ours.AsSlice()), Port: 5555}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		if string(p[28:]) != "to the stack" || netip.AddrFrom4([4]byte(p[16:20])) != ours {
			t.Fatalf("device read %x", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing came out of the device within 5 s")
	}
	if s := dev.Stats(); s.PacketsOut != 1 || s.PacketsIn < 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWriteAfterCloseFails(t *testing.T) {
	ns := needNetns(t)
	var dev *Device
	if err := ns.Do(func() error {
		var err error
		dev, err = Open(Config{Name: "tdtest1"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := dev.WritePackets([][]byte{make([]byte, 20)}); err != link.ErrClosed {
		t.Fatalf("write after close: %v, want link.ErrClosed", err)
	}
}

func TestOversizePacketRejected(t *testing.T) {
	ns := needNetns(t)
	var dev *Device
	if err := ns.Do(func() error {
		var err error
		dev, err = Open(Config{Name: "tdtest2", MTU: 1280})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	if _, err := dev.WritePackets([][]byte{make([]byte, 1281)}); err == nil {
		t.Fatal("a packet over the MTU was accepted")
	}
}
