//go:build linux

package gvtun

import (
	"fmt"
	"net"
	"net/netip"
	"unsafe"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// Config is the device Open makes.
type Config struct {
	Name string
	// KernelAddr is the kernel's address on the device and its prefix.
	KernelAddr netip.Prefix
	// MTU; 0 means 1500.
	MTU int
	// TxQueueLen is the kernel's queue toward the endpoint; 0 keeps the
	// kernel's default (500).
	TxQueueLen int
}

// Open creates the TUN device with IFF_VNET_HDR, turns on TUN_F_CSUM,
// TUN_F_TSO4 and TUN_F_TSO6, gives the kernel its address, sets it up and
// returns the descriptor for New.
func Open(cfg Config) (int, error) {
	if cfg.MTU == 0 {
		cfg.MTU = 1500
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	fail := func(err error) (int, error) { unix.Close(fd); return -1, err }
	var req struct {
		name  [16]byte
		flags uint16
		_     [22]byte
	}
	copy(req.name[:], cfg.Name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI | unix.IFF_VNET_HDR
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		return fail(fmt.Errorf("gvtun: TUNSETIFF: %w", e))
	}
	sz := int32(vnethdr.Len)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETVNETHDRSZ, uintptr(unsafe.Pointer(&sz))); e != 0 {
		return fail(fmt.Errorf("gvtun: TUNSETVNETHDRSZ: %w", e))
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETOFFLOAD, unix.TUN_F_CSUM|unix.TUN_F_TSO4|unix.TUN_F_TSO6); e != 0 {
		return fail(fmt.Errorf("gvtun: TUNSETOFFLOAD: %w", e))
	}
	l, err := netlink.LinkByName(cfg.Name)
	if err == nil {
		err = netlink.LinkSetMTU(l, cfg.MTU)
	}
	if err == nil && cfg.TxQueueLen > 0 {
		err = netlink.LinkSetTxQLen(l, cfg.TxQueueLen)
	}
	if err == nil {
		a := cfg.KernelAddr
		ipn := &net.IPNet{IP: a.Addr().AsSlice(), Mask: net.CIDRMask(a.Bits(), a.Addr().BitLen())}
		err = netlink.AddrAdd(l, &netlink.Addr{IPNet: ipn})
	}
	if err == nil {
		err = netlink.LinkSetUp(l)
	}
	if err != nil {
		return fail(fmt.Errorf("gvtun: configure %s: %w", cfg.Name, err))
	}
	return fd, nil
}
