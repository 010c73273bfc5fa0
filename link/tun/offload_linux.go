//go:build linux

package tun

import (
	"encoding/binary"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// This file is the device side of Config.Offload: the ioctls that turn
// the offloads on, and the write path that coalesces and writes with
// writev(2) so that neither the vnet header nor the payloads are copied
// into a buffer of ours (the kernel copies them once, into its skb).

// enableOffloads sets the vnet header size and the offloads on fd, a TUN
// device opened with IFF_VNET_HDR.
func enableOffloads(fd int, name string) error {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		return fmt.Errorf("tun: offloads on %s: the vnet header would be big-endian on this host; only little-endian hosts are supported", name)
	}
	sz := int32(vnethdr.Len)
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETVNETHDRSZ, uintptr(unsafe.Pointer(&sz))); e != 0 {
		return fmt.Errorf("tun: TUNSETVNETHDRSZ %d on %s: %w", sz, name, e)
	}
	const offloads = unix.TUN_F_CSUM | unix.TUN_F_TSO4 | unix.TUN_F_TSO6
	if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.TUNSETOFFLOAD, offloads); e != 0 {
		return fmt.Errorf("tun: TUNSETOFFLOAD CSUM|TSO4|TSO6 on %s (kernel refused the offloads): %w", name, e)
	}
	return nil
}

// txScratch is one writer's room: the headers of a super-packet and the
// writev vector. Devices keep them in a sync.Pool, so concurrent writers
// never share one.
type txScratch struct {
	hdr [gsoHdrMax]byte
	iov [maxGSOSegments + 1]unix.Iovec
}

// zeroVnetHdr is the vnet header of a packet that goes alone: no GSO, no
// checksum to complete. writev only reads it.
var zeroVnetHdr [vnethdr.Len]byte

// writeOffload is WritePackets on an offloading device: a super-segment
// (gso[i] > 0, gso may be nil) behind the vnet header that cuts it, each
// run that gsoRun accepts as one super-packet, everything else alone
// behind an all-zero vnet header.
func (d *Device) writeOffload(pkts [][]byte, gso []uint16) (int, error) {
	sc, _ := d.txPool.Get().(*txScratch)
	if sc == nil {
		sc = new(txScratch)
	}
	defer d.txPool.Put(sc)
	n := 0
	for n < len(pkts) {
		if gso != nil && gso[n] > 0 {
			if err := d.writeSuper(sc, pkts[n], gso[n]); err != nil {
				return n, err
			}
			n++
			continue
		}
		run := gsoRun(pkts[n:])
		for k := range run {
			if len(pkts[n+k]) > d.mtu {
				if k == 0 {
					return n, fmt.Errorf("%w: %d bytes, MTU %d", link.ErrTooBig, len(pkts[n]), d.mtu)
				}
				run = k // send the packets before it, then fail on it
				break
			}
		}
		if run == 1 && d.acks != nil && pureACK(pkts[n]) && d.acks.handOver(pkts[n]) {
			n++
			continue
		}
		if d.acks != nil {
			d.acks.wait()
		}
		iov := sc.iov[:0]
		bytes := 0
		if run == 1 {
			iov = appendIovec(iov, zeroVnetHdr[:])
			iov = appendIovec(iov, pkts[n])
			bytes = len(pkts[n])
		} else {
			h := gsoHeader(sc.hdr[:], pkts[n:n+run])
			hl := h - vnethdr.Len
			iov = appendIovec(iov, sc.hdr[:h])
			bytes = hl
			for _, p := range pkts[n : n+run] {
				iov = appendIovec(iov, p[hl:])
				bytes += len(p) - hl
			}
		}
		err := vnethdr.Writev(d.rc, iov)
		clear(iov) // drop the pointers to the caller's buffers
		if err != nil {
			if d.closed.Load() {
				return n, link.ErrClosed
			}
			return n, fmt.Errorf("tun: write %s: %w", d.name, err)
		}
		if run > 1 {
			d.off.gsoOut.Add(1)
			d.off.gsoSegsOut.Add(uint64(run))
		}
		d.pktsOut.Add(1)
		d.bytesOut.Add(uint64(bytes))
		n += run
	}
	return n, nil
}

// writeSuper writes super-segment p of gso-byte segments.
func (d *Device) writeSuper(sc *txScratch, p []byte, gso uint16) error {
	h, err := superVnetHeader(p, gso)
	if err != nil {
		return err
	}
	h.Encode(sc.hdr[:])
	if d.acks != nil {
		d.acks.wait()
	}
	iov := appendIovec(appendIovec(sc.iov[:0], sc.hdr[:vnethdr.Len]), p)
	err = vnethdr.Writev(d.rc, iov)
	clear(iov)
	if err != nil {
		if d.closed.Load() {
			return link.ErrClosed
		}
		return fmt.Errorf("tun: write %s: %w", d.name, err)
	}
	d.off.gsoOut.Add(1)
	d.off.gsoSegsOut.Add(uint64((len(p) - int(h.HdrLen) + int(gso) - 1) / int(gso)))
	d.pktsOut.Add(1)
	d.bytesOut.Add(uint64(len(p)))
	return nil
}

// appendIovec appends b to the vector, unless it is empty.
func appendIovec(iov []unix.Iovec, b []byte) []unix.Iovec {
	if len(b) == 0 {
		return iov
	}
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return append(iov, v)
}

// deliverOffload hands the packets of batch, reads of an offloading
// device, to r: in one call, or more when split segments fill the arena.
func deliverOffload(r link.Receiver, rx *rxOffload, batch [][]byte) {
	for _, b := range batch {
		if !rx.add(b) {
			rx.deliver(r)
			rx.reset()
			rx.add(b)
		}
	}
	if len(rx.out) > 0 {
		rx.deliver(r)
	}
	rx.reset()
}
