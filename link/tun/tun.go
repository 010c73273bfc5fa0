//go:build linux

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
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
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
	// BatchSize is the most packets read per delivery; 0 means 64.
	BatchSize int
	// TxQueueLen is the length of the kernel's queue of packets toward
	// us (ip link's txqueuelen): what the kernel holds while our reader
	// is busy delivering. A packet that finds it full is dropped, and
	// its sender retransmits. 0 means DefaultTxQueueLen.
	TxQueueLen int
	// Offload opens the device with IFF_VNET_HDR and enables the
	// kernel's checksum and TCP segmentation offloads (TUN_F_CSUM,
	// TUN_F_TSO4, TUN_F_TSO6). WritePackets then coalesces runs of TCP
	// segments of one flow into GSO super-packets (one write each), and
	// reads take up to 64 KiB TCP super-packets from the kernel. Open
	// fails with an error naming the ioctl if the kernel refuses (there
	// is no silent fallback: a caller that wants one retries without).
	// Without Offload the device carries plain IP packets, one per
	// read or write. Offload needs a little-endian host.
	Offload bool
	// SyncWrites, with Offload, has every packet in the kernel when
	// WritePackets returns. By default a pure ACK (no data, no SYN, FIN
	// or RST) is handed to a goroutine of the device's own and written
	// from there (ackWriter): the kernel's processing of an ACK, which
	// runs in the write, then overlaps the caller's next work. A write
	// that is not handed over first waits for the ACKs handed over before
	// it, so one goroutine's packets reach the kernel in its order.
	// Without Offload every write is synchronous.
	SyncWrites bool
	// SplitGSO, with Offload, cuts each TCP super-packet the kernel
	// hands over into segments of its gso_size (at most the MTU) before
	// delivery, as a device without receive coalescing would. By
	// default the super-packet is delivered whole: one large segment,
	// which a TCP receiver takes like any other (it is faster).
	SplitGSO bool
}

// Stats counts what crossed the device. Packets and bytes are counted
// as they cross it: a GSO super-packet is one packet, its bytes are IP
// bytes (the vnet header is not counted).
type Stats struct {
	PacketsIn, PacketsOut uint64
	BytesIn, BytesOut     uint64
	// GSOPacketsOut counts the super-packets WritePackets made (each is
	// one of PacketsOut) and GSOSegmentsOut the segments they carried.
	GSOPacketsOut, GSOSegmentsOut uint64
	// GSOPacketsIn counts the TCP super-packets the kernel handed over,
	// GSOSegmentsIn the gso_size segments they stood for.
	GSOPacketsIn, GSOSegmentsIn uint64
	// BadVnetHeaders counts reads dropped for a malformed vnet header
	// (truncated, unknown flags or GSO type, checksum position outside
	// the packet); BadGSOPackets those whose GSO packet was not one
	// well-formed TCP segment of the announced IP version.
	BadVnetHeaders, BadGSOPackets uint64
	// ReadErrors counts failed reads other than "no packet ready".
	ReadErrors uint64
	// ACKsHandedOver counts the pure ACKs written by the device's own
	// goroutine (Config.SyncWrites), ACKWriteErrors those handed to it
	// whose write failed or that Close dropped (they count as lost on the
	// wire).
	ACKsHandedOver, ACKWriteErrors uint64
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

	// Offload state (offload_linux.go).
	offload, splitGSO bool
	txPool            sync.Pool // *txScratch
	off               offloadCounters
	acks              *ackWriter // nil with Config.SyncWrites
}

const ifnamsiz = 16

// DefaultTxQueueLen is Config.TxQueueLen's default. The kernel gives a TUN
// device 500, which a few bulk flows toward a reader that falls behind for
// a moment overflow (4 flows over 1 MiB windows have ~2,900 segments in
// flight); a queue holds as many packets as the windows we advertise let
// in, and costs only a slot per packet until packets wait in it.
const DefaultTxQueueLen = 16384

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
	if cfg.TxQueueLen <= 0 {
		cfg.TxQueueLen = DefaultTxQueueLen
	}
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("tun: open /dev/net/tun: %w", err)
	}
	var req ifreq
	copy(req.name[:], cfg.Name)
	req.flags = unix.IFF_TUN | unix.IFF_NO_PI
	if cfg.Offload {
		req.flags |= unix.IFF_VNET_HDR
	}
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETIFF, uintptr(unsafe.Pointer(&req))); e != 0 {
		unix.Close(fd)
		return nil, fmt.Errorf("tun: TUNSETIFF %s: %w", cfg.Name, e)
	}
	if cfg.Offload {
		if err := enableOffloads(fd, cfg.Name); err != nil {
			unix.Close(fd)
			return nil, err
		}
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
	d := &Device{name: cfg.Name, mtu: cfg.MTU, file: f, rc: rc, done: make(chan struct{}), batch: cfg.BatchSize,
		offload: cfg.Offload, splitGSO: cfg.SplitGSO}
	if cfg.Offload && !cfg.SyncWrites {
		d.acks = newACKWriter(d)
	}
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
	if err := netlink.LinkSetTxQLen(l, cfg.TxQueueLen); err != nil {
		return fmt.Errorf("tun: set txqueuelen of %s: %w", cfg.Name, err)
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

// WritePackets writes each packet to the device: one write(2) per packet,
// which is what a TUN device accepts. With Config.Offload, runs of TCP
// segments of one flow go as one GSO super-packet (writeOffload).
func (d *Device) WritePackets(pkts [][]byte) (int, error) {
	if d.closed.Load() {
		return 0, link.ErrClosed
	}
	if d.offload {
		return d.writeOffload(pkts, nil)
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

var _ link.GSOEndpoint = (*Device)(nil)

var _ link.BufferHinter = (*Device)(nil)

// ReceiveBufferHint implements link.BufferHinter: connections over a
// device start with a 1 MiB receive buffer, four times the stack's own
// default and gVisor's (which tailscale keeps). The host's kernel on the
// far side keeps sending while this process waits for a CPU, so the
// window must cover the rate over such a wait, which no RTT sample sees:
// the receiver's estimate comes from a handshake the kernel answers at
// once. Receiving 2 GiB from the kernel with offloads, 8 alternated runs
// (BENCHMARKS.md): 9.3 Gbit/s median from 256 KiB, 11.0 from 1 MiB and
// 11.7 from 4 MiB, the kernel's super-packets larger (59 KB on average
// from 1 MiB, 64 from 4 MiB, 48 from 256 KiB).
func (d *Device) ReceiveBufferHint() int { return 1 << 20 }

// GSOMaxSize implements link.GSOEndpoint: 64 KiB less one with
// Config.Offload, else 0 (the device takes no super-segments).
func (d *Device) GSOMaxSize() int {
	if d.offload {
		return gsoMaxLen
	}
	return 0
}

// WritePacketsGSO implements link.GSOEndpoint: super-segments go whole to
// the kernel, which cuts them (TSO); it needs Config.Offload.
func (d *Device) WritePacketsGSO(pkts [][]byte, gso []uint16) (int, error) {
	if d.closed.Load() {
		return 0, link.ErrClosed
	}
	if !d.offload {
		return 0, fmt.Errorf("tun: %s: super-segments need Config.Offload", d.name)
	}
	if len(gso) != len(pkts) {
		return 0, fmt.Errorf("tun: %d packets, %d GSO sizes", len(pkts), len(gso))
	}
	return d.writeOffload(pkts, gso)
}

// readLoop drains the device: each time it becomes readable, read until it
// is empty (or the batch is full) and deliver the batch in one call.
func (d *Device) readLoop() {
	defer close(d.done)
	size, skip := d.mtu, 0
	var rx *rxOffload
	if d.offload {
		size, skip = vnethdr.Len+gsoMaxLen, vnethdr.Len
		rx = newRxOffload(d.splitGSO, &d.off)
	}
	bufs := make([][]byte, d.batch)
	for i := range bufs {
		bufs[i] = make([]byte, size)
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
			d.bytesIn.Add(uint64(max(len(p)-skip, 0)))
		}
		d.pktsIn.Add(uint64(len(batch)))
		d.mu.Lock()
		r := d.recv
		d.mu.Unlock()
		switch {
		case r == nil:
			d.noRecv.Add(uint64(len(batch)))
		case rx != nil:
			deliverOffload(r, rx, batch)
		default:
			r.DeliverPackets(batch)
		}
	}
}

// Stats returns the device's counters.
func (d *Device) Stats() Stats {
	s := Stats{
		PacketsIn: d.pktsIn.Load(), PacketsOut: d.pktsOut.Load(),
		BytesIn: d.bytesIn.Load(), BytesOut: d.bytesOut.Load(),
		ReadErrors: d.readErrs.Load(), DroppedNoReceiver: d.noRecv.Load(),
		GSOPacketsOut: d.off.gsoOut.Load(), GSOSegmentsOut: d.off.gsoSegsOut.Load(),
		GSOPacketsIn: d.off.gsoIn.Load(), GSOSegmentsIn: d.off.gsoSegsIn.Load(),
		BadVnetHeaders: d.off.badVnet.Load(), BadGSOPackets: d.off.badGSO.Load(),
	}
	if d.acks != nil {
		s.ACKsHandedOver, s.ACKWriteErrors = d.acks.written.Load(), d.acks.errors.Load()
	}
	return s
}

// Close stops the reader and closes the device; the kernel removes the
// interface when its last file descriptor closes.
func (d *Device) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	err := d.file.Close()
	if d.acks != nil {
		d.acks.close()
	}
	<-d.done
	return err
}
