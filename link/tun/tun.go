//go:build linux

// Package tun is a link.Endpoint over a Linux TUN device: the kernel on one
// side, a teardown stack on the other, IP packets in between.
//
// Open creates the device (or attaches to an existing one of that name),
// configures it through netlink (address, MTU, up) and starts one reader
// goroutine that drains the device in batches: every wake-up reads packets
// until the device is empty and hands them to the Receiver in one call.
// Writing needs no goroutine.
//
// Creating a TUN device needs CAP_NET_ADMIN (root). Tests create their
// devices inside a network namespace of their own (internal/netns).
package tun

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/link"
)

// Config describes the device to open.
type Config struct {
	// Name is the interface name, at most 15 bytes (e.g. "td0").
	Name string
	// MTU of the device; 0 means 1500.
	MTU int
	// KernelAddr, if valid, is assigned to the device: it is the kernel's
	// own address on this link, and its prefix is routed through the
	// device. The stack on our side uses another address of the prefix.
	KernelAddr netip.Prefix
	// BatchSize is the most packets delivered in one call; 0 means 64.
	BatchSize int
}

// Stats counts what crossed the device.
type Stats struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	// ReadErrors counts failed reads other than "no packet ready".
	ReadErrors uint64
	// DroppedNoReceiver counts packets read while no Receiver was attached.
	DroppedNoReceiver uint64
}

// Device is an open TUN device. It implements link.Endpoint.
type Device struct {
	name string
	mtu  int
	file *os.File
	rc   interface {
		Read(func(fd uintptr) bool) error
		Write(func(fd uintptr) bool) error
	}

	mu     sync.Mutex
	recv   link.Receiver
	closed atomic.Bool
	done   chan struct{}

	pktsIn, pktsOut, bytesIn, bytesOut, readErrs, noRecv atomic.Uint64

	batch int
}

const ifnamsiz = 16

// ifreq is struct ifreq as TUNSETIFF reads it: a name and a flags word.
type ifreq struct {
	name  [ifnamsiz]byte
	flags uint16
	_     [22]byte
}

// Open creates or attaches to the TUN device cfg.Name, configures it and
// starts reading. Close removes nothing the caller created before Open; a
// device Open created disappears with Close (TUN devices are not persistent).
func Open(cfg Config) (*Device, error) {
	if cfg.Name == "" || len(cfg.Name) >= ifnamsiz {
		return nil, fmt.Errorf("tun: interface name %q: must be 1 to %d bytes", cfg.Name, ifnamsiz-1)
	}
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	if cfg.MTU < 576 || cfg.MTU > 65535 {
		return nil, fmt.Errorf("tun: MTU %d out of range [576, 65535]", cfg.MTU)
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 64
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("tun: open /dev/net/tun: %w", err)
	}
	var req ifreq
	copy(req.name[:], cfg.Name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: TUNSETIFF %s: %w", cfg.Name, e)
	}
	if err := configure(cfg); err != nil {
		unix.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "/dev/net/tun:"+cfg.Name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tun: %w", err)
	}
	d := &Device{name: cfg.Name, mtu: cfg.MTU, file: f, rc: rc, done: make(chan struct{}), batch: cfg.BatchSize}
	go d.readLoop()
	return d, nil
}

// configure sets the MTU, the kernel's address and brings the link up.
func configure(cfg Config) error {
	l, err := netlink.LinkByName(cfg.Name)
	if err != nil {
		return fmt.Errorf("tun: find link %s: %w", cfg.Name, err)
	}
	if err := netlink.LinkSetMTU(l, cfg.MTU); err != nil {
		return fmt.Errorf("tun: set MTU of %s: %w", cfg.Name, err)
	}
	if cfg.KernelAddr.IsValid() {
		a := &netlink.Addr{IPNet: prefixToIPNet(cfg.KernelAddr)}
		if err := netlink.AddrReplace(l, a); err != nil {
			return fmt.Errorf("tun: add address %v to %s: %w", cfg.KernelAddr, cfg.Name, err)
		}
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return fmt.Errorf("tun: set %s up: %w", cfg.Name, err)
	}
	return nil
}

// Name returns the interface name.
func (d *Device) Name() string { return d.name }

// MTU returns the device MTU.
func (d *Device) MTU() int { return d.mtu }

// Attach sets the receiver of incoming packets.
func (d *Device) Attach(r link.Receiver) {
	d.mu.Lock()
	d.recv = r
	d.mu.Unlock()
}

// WritePackets writes each packet to the device (one write(2) per packet,
// which is what a TUN device without offloads accepts).
func (d *Device) WritePackets(pkts [][]byte) (int, error) {
	if d.closed.Load() {
		return 0, link.ErrClosed
	}
	n := 0
	for _, p := range pkts {
		if len(p) > d.mtu {
			return n, fmt.Errorf("%w: %d bytes, MTU %d", link.ErrTooBig, len(p), d.mtu)
		}
		var werr error
		err := d.rc.Write(func(fd uintptr) bool {
			_, werr = unix.Write(int(fd), p)
			return werr != unix.EAGAIN
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			if d.closed.Load() {
				return n, link.ErrClosed
			}
			return n, fmt.Errorf("tun: write %s: %w", d.name, err)
		}
		d.pktsOut.Add(1)
		d.bytesOut.Add(uint64(len(p)))
		n++
	}
	return n, nil
}

// readLoop drains the device: each time it becomes readable, read until it
// is empty (or the batch is full) and deliver the batch in one call.
func (d *Device) readLoop() {
	defer close(d.done)
	bufs := make([][]byte, d.batch)
	for i := range bufs {
		bufs[i] = make([]byte, d.mtu)
	}
	batch := make([][]byte, 0, d.batch)
	for {
		batch = batch[:0]
		err := d.rc.Read(func(fd uintptr) bool {
			for len(batch) < len(bufs) {
				b := bufs[len(batch)]
				n, err := unix.Read(int(fd), b[:cap(b)])
				if err == unix.EAGAIN {
					break
				}
				if err == unix.EINTR {
					continue
				}
				if err != nil {
					d.readErrs.Add(1)
					break
				}
				batch = append(batch, b[:n])
			}
			return len(batch) > 0 // false: wait until readable again
		})
		if err != nil {
			if d.closed.Load() || errors.Is(err, os.ErrClosed) {
				return
			}
			d.readErrs.Add(1)
			continue
		}
		for _, p := range batch {
			d.bytesIn.Add(uint64(len(p)))
		}
		d.pktsIn.Add(uint64(len(batch)))
		d.mu.Lock()
		r := d.recv
		d.mu.Unlock()
		if r == nil {
			d.noRecv.Add(uint64(len(batch)))
			continue
		}
		r.DeliverPackets(batch)
	}
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	return Stats{
		PacketsIn: d.pktsIn.Load(), PacketsOut: d.pktsOut.Load(),
		BytesIn: d.bytesIn.Load(), BytesOut: d.bytesOut.Load(),
		ReadErrors: d.readErrs.Load(), DroppedNoReceiver: d.noRecv.Load(),
	}
}

// Close stops the reader and closes the device; the kernel removes the
// interface when its last file descriptor closes.
func (d *Device) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	err := d.file.Close()
	<-d.done
	return err
}
