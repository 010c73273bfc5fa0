//go:build linux

package tun

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/wire"
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

// openIn opens a device in ns with cfg.
func openIn(t *testing.T, ns *netns.NS, cfg Config) *Device {
	t.Helper()
	var dev *Device
	if err := ns.Do(func() error {
		var err error
		dev, err = Open(cfg)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dev.Close() })
	return dev
}

// With offloads on, plain packets still cross both ways: ours go behind
// an all-zero vnet header, and the kernel's UDP datagram, whose checksum
// it left to the device (NEEDS_CSUM), arrives with the checksum complete.
// offloadDev opens the offloading device name in a fresh namespace, on
// 10.78.n.0/24: the kernel at .1, ours at .2.
func offloadDev(t *testing.T, name string, n int, cfg Config) (dev *Device, ns *netns.NS, kernel netip.Prefix, ours netip.Addr) {
	t.Helper()
	ns = needNetns(t)
	kernel = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 78, byte(n), 1}), 24)
	ours = netip.AddrFrom4([4]byte{10, 78, byte(n), 2})
	cfg.Name, cfg.KernelAddr, cfg.Offload = name, kernel, true
	return openIn(t, ns, cfg), ns, kernel, ours
}

func TestOffloadDeviceCarriesPlainPackets(t *testing.T) {
	dev, ns, kernel, ours := offloadDev(t, "tdoff0", 0, Config{})
	var conn *net.UDPConn
	if err := ns.Do(func() error {
		var err error
		conn, err = net.ListenUDP("udp4", &net.UDPAddr{IP: net.IP(kernel.Addr().AsSlice()), Port: 9000})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	got := make(chan []byte, 16)
	dev.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			if len(p) >= 28 && p[0]>>4 == 4 && p[9] == 17 {
				got <- bytes.Clone(p)
			}
		}
	}))
	src, dst := netip.AddrPortFrom(ours, 5555), netip.AddrPortFrom(kernel.Addr(), 9000)
	if _, err := dev.WritePackets([][]byte{udpPacket(src, dst, []byte("to the kernel"))}); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	if n, _, err := conn.ReadFromUDP(buf); err != nil || string(buf[:n]) != "to the kernel" {
		t.Fatalf("kernel read %q, %v", buf[:n], err)
	}
	payload := bytes.Repeat([]byte("odd-length payload "), 51)[:967]
	if _, err := conn.WriteToUDP(payload, &net.UDPAddr{IP: net.IP(ours.AsSlice()), Port: 5555}); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-got:
		udp := p[20:]
		ph := wire.PseudoHeaderSum(kernel.Addr(), ours, 17, len(udp))
		if binary.BigEndian.Uint16(udp[6:]) == 0 || wire.Fold(wire.Sum(ph, udp)) != 0 {
			t.Fatalf("UDP checksum %#04x does not verify: the device did not complete it", binary.BigEndian.Uint16(udp[6:]))
		}
		if !bytes.Equal(udp[8:], payload) {
			t.Fatal("payload changed")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing came out of the device within 5 s")
	}
	if s := dev.Stats(); s.BadVnetHeaders != 0 || s.PacketsOut != 1 || s.GSOPacketsOut != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// Writers on several goroutines share the device: every super-packet
// and plain packet reaches the kernel whole (its counters match ours).
func TestOffloadConcurrentWriters(t *testing.T) {
	dev, ns, kernel, ours := offloadDev(t, "tdoff1", 1, Config{})
	const writers, batches = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			// A run of 8 segments to a closed port (the kernel answers
			// RST), then a UDP datagram: one super-packet and one plain.
			port := uint16(41000 + w)
			for i := range batches {
				pkts := train(t, 8, 1000, func(_ int, s *segSpec) {
					s.src = netip.AddrPortFrom(ours, port)
					s.dst = netip.AddrPortFrom(kernel.Addr(), 7)
					s.seq += uint32(i * 8000)
				})
				pkts = append(pkts, udpPacket(netip.AddrPortFrom(ours, port), netip.AddrPortFrom(kernel.Addr(), 9), []byte("x")))
				if n, err := dev.WritePackets(pkts); err != nil || n != len(pkts) {
					t.Errorf("writer %d: %d of %d written: %v", w, n, len(pkts), err)
					return
				}
			}
		})
	}
	wg.Wait()
	s := dev.Stats()
	if s.GSOPacketsOut != writers*batches || s.GSOSegmentsOut != 8*writers*batches || s.PacketsOut != 2*writers*batches {
		t.Fatalf("stats %+v: want %d super-packets of 8 and as many plain packets", s, writers*batches)
	}
	var rx, rxErr uint64
	ns.Do(func() error { //nolint:errcheck // checked through rx below
		l, err := netlink.LinkByName("tdoff1")
		if err == nil {
			rx, rxErr = l.Attrs().Statistics.RxPackets, l.Attrs().Statistics.RxErrors+l.Attrs().Statistics.RxDropped
		}
		return err
	})
	if rx != s.PacketsOut || rxErr != 0 {
		t.Fatalf("kernel received %d packets (%d errors/drops), we wrote %d", rx, rxErr, s.PacketsOut)
	}
}

// Pure ACKs are written by the device's own goroutine (unless
// Config.SyncWrites), yet what one goroutine writes reaches the kernel in
// its order: 50 ACKs to closed ports, each written alone, then a segment
// with data (written by the caller) to a closed port from port 41999.
// The kernel answers each with a RST, in the order it took them: the
// RST to 41999 comes last. With SyncWrites no ACK is handed over.
func TestOffloadHandedOverACKsKeepTheWritersOrder(t *testing.T) {
	for i, syncWrites := range []bool{false, true} {
		dev, _, kernel, ours := offloadDev(t, fmt.Sprintf("tdack%d", i), 2+i, Config{SyncWrites: syncWrites})
		const acks, lastPort = 50, 41999
		var mu sync.Mutex
		var order []uint16 // the ports the RSTs went to, as they came back
		lastSeen := make(chan struct{})
		dev.Attach(link.ReceiverFunc(func(pkts [][]byte) {
			mu.Lock()
			defer mu.Unlock()
			for _, p := range pkts {
				if len(p) < 40 || p[0] != 0x45 || p[9] != 6 || p[20+13]&0x04 == 0 {
					continue
				}
				port := binary.BigEndian.Uint16(p[22:])
				order = append(order, port)
				if port == lastPort {
					close(lastSeen)
				}
			}
		}))
		for k := range acks {
			ack := seg(t, segSpec{src: netip.AddrPortFrom(ours, uint16(42000+k)), dst: netip.AddrPortFrom(kernel.Addr(), 9),
				seq: 1, ack: 1, flags: wire.ACK, noTS: true})
			if _, err := dev.WritePackets([][]byte{ack}); err != nil {
				t.Fatal(err)
			}
		}
		data := seg(t, segSpec{src: netip.AddrPortFrom(ours, lastPort), dst: netip.AddrPortFrom(kernel.Addr(), 9),
			seq: 1, ack: 1, flags: wire.ACK, n: 10, noTS: true})
		if _, err := dev.WritePackets([][]byte{data}); err != nil {
			t.Fatal(err)
		}
		select {
		case <-lastSeen:
		case <-time.After(10 * time.Second):
			t.Fatalf("SyncWrites %v: no RST for the data segment within 10 s", syncWrites)
		}
		mu.Lock()
		before := 0
		for _, port := range order {
			if port == lastPort {
				break
			}
			before++
		}
		mu.Unlock()
		if before != acks {
			t.Errorf("SyncWrites %v: %d RSTs came back before the data segment's, want all %d: it overtook ACKs written before it", syncWrites, before, acks)
		}
		handed := dev.Stats().ACKsHandedOver
		if syncWrites && handed != 0 || !syncWrites && handed == 0 {
			t.Errorf("SyncWrites %v: %d ACKs handed over to the device's writer", syncWrites, handed)
		}
		dev.Close()
	}
}

// Writers that hand ACKs over faster than the device's goroutine writes
// them (the queue fills, and they write themselves) and a Close in the
// middle: every WritePackets returns, written or with ErrClosed, and
// Close returns; nothing waits for ACKs the stop dropped.
func TestOffloadHandedOverACKsCloseWhileWriting(t *testing.T) {
	dev, _, kernel, ours := offloadDev(t, "tdack9", 4, Config{})
	const writers, each = 4, 3000
	var wg sync.WaitGroup
	var started sync.WaitGroup
	started.Add(writers)
	errs := make(chan error, writers)
	var accepted atomic.Uint64 // packets WritePackets took (returned no error for)
	for w := range writers {
		wg.Go(func() {
			ack := seg(t, segSpec{src: netip.AddrPortFrom(ours, uint16(43000+w)), dst: netip.AddrPortFrom(kernel.Addr(), 9),
				seq: 1, ack: 1, flags: wire.ACK, noTS: true})
			data := seg(t, segSpec{src: netip.AddrPortFrom(ours, uint16(43000+w)), dst: netip.AddrPortFrom(kernel.Addr(), 9),
				seq: 1, ack: 1, flags: wire.ACK, n: 100, noTS: true})
			for i := range each {
				if i == 100 {
					started.Done()
				}
				p := ack
				if i%10 == 9 {
					p = data // a write that waits for the ACKs before it
				}
				_, err := dev.WritePackets([][]byte{p})
				if err == nil {
					accepted.Add(1)
				}
				if err != nil {
					if !errors.Is(err, link.ErrClosed) {
						errs <- fmt.Errorf("writer %d, packet %d: %w", w, i, err)
					}
					if i < 100 {
						started.Done()
					}
					return
				}
			}
		})
	}
	started.Wait()
	dev.Close()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s := dev.Stats()
	if s.ACKsHandedOver == 0 {
		t.Errorf("stats %+v: no ACK was handed over", s)
	}
	// Every packet taken was written or counted lost; a writer that
	// passed the closed check just before Close may hand one ACK over
	// after the writer stopped, uncounted.
	if n, got := accepted.Load(), s.PacketsOut+s.ACKWriteErrors; got > n || got+writers < n {
		t.Errorf("%d packets taken, %d written and %d counted lost: want the sum within %d of what was taken",
			n, s.PacketsOut, s.ACKWriteErrors, writers)
	}
}
