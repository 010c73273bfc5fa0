//go:build linux

package gvtun

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/stack/gro"

	"github.com/teardown-lab/teardown/link/tun/vnethdr"
)

// GSOMaxSize is the largest super-segment gVisor hands the endpoint: 64 KiB
// less one, tailscale's figure (the IPv4 total length is 16 bits).
const GSOMaxSize = 1<<16 - 1

// maxRead is the most bytes one read returns: a vnet header and a 64 KiB
// packet.
const maxRead = vnethdr.Len + 1<<16

// copyBelow: packets up to this size are copied out of the read view
// into one of their own size; larger ones take the read view with them.
const copyBelow = 4096

// batchMax is the most packets read per wake-up before they are flushed
// through GRO to the stack.
const batchMax = 64

var (
	_ stack.LinkEndpoint = (*Endpoint)(nil)
	_ stack.GSOEndpoint  = (*Endpoint)(nil)
)

// Endpoint is the gVisor link endpoint on an offloading TUN descriptor.
type Endpoint struct {
	mtu  uint32
	file *os.File
	rc   interface {
		Read(func(fd uintptr) bool) error
		Write(func(fd uintptr) bool) error
	}

	mu         sync.RWMutex
	dispatcher stack.NetworkDispatcher

	closed atomic.Bool
	done   chan struct{}
	wmu    sync.Mutex // guards iov
	iov    []unix.Iovec

	// Counters, for tests and the benchmark's sanity: super-segments
	// written and packets written, GSO super-packets read and packets
	// read, reads dropped (malformed, or a checksum that failed).
	GSOOut, PacketsOut, GSOIn, PacketsIn, BadIn atomic.Uint64
}

// New returns an endpoint on fd, a TUN descriptor opened with
// IFF_VNET_HDR and the offloads on (Open does that). The endpoint owns fd
// from then on and starts reading once a stack attaches it.
func New(fd int, mtu uint32) (*Endpoint, error) {
	if err := unix.SetNonblock(fd, true); err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "gvtun")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Endpoint{mtu: mtu, file: f, rc: rc, done: make(chan struct{})}, nil
}

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 { return e.mtu }

// SetMTU implements stack.LinkEndpoint; the device's MTU is fixed.
func (e *Endpoint) SetMTU(uint32) {}

// MaxHeaderLength implements stack.LinkEndpoint: TUN has no link header
// (the vnet header is written from a separate buffer).
func (*Endpoint) MaxHeaderLength() uint16 { return 0 }

// LinkAddress implements stack.LinkEndpoint.
func (*Endpoint) LinkAddress() tcpip.LinkAddress { return "" }

// SetLinkAddress implements stack.LinkEndpoint.
func (*Endpoint) SetLinkAddress(tcpip.LinkAddress) {}

// Capabilities implements stack.LinkEndpoint: the link vouches for every
// checksum it delivers (the kernel's offload marks, or its own check).
func (*Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityRXChecksumOffload
}

// GSOMaxSize implements stack.GSOEndpoint.
func (*Endpoint) GSOMaxSize() uint32 { return GSOMaxSize }

// SupportedGSO implements stack.GSOEndpoint: the host (the kernel behind
// the device) segments.
func (*Endpoint) SupportedGSO() stack.SupportedGSO { return stack.HostGSOSupported }

// Attach implements stack.LinkEndpoint; the first attach starts the reader.
func (e *Endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	first := e.dispatcher == nil && d != nil
	e.dispatcher = d
	e.mu.Unlock()
	if first && !e.closed.Load() {
		go e.readLoop()
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

// Wait implements stack.LinkEndpoint; Close waits for the reader.
func (*Endpoint) Wait() {}

// ARPHardwareType implements stack.LinkEndpoint.
func (*Endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareNone }

// AddHeader implements stack.LinkEndpoint.
func (*Endpoint) AddHeader(*stack.PacketBuffer) {}

// ParseHeader implements stack.LinkEndpoint.
func (*Endpoint) ParseHeader(*stack.PacketBuffer) bool { return true }

// SetOnCloseAction implements stack.LinkEndpoint.
func (*Endpoint) SetOnCloseAction(func()) {}

// Close implements stack.LinkEndpoint: it closes the device and waits for
// the reader to stop.
func (e *Endpoint) Close() {
	if e.closed.Swap(true) {
		return
	}
	e.file.Close()
	e.mu.RLock()
	started := e.dispatcher != nil
	e.mu.RUnlock()
	if started {
		<-e.done
	}
}

// WritePackets implements stack.LinkWriter: each packet in one writev,
// behind the vnet header its GSO options call for.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	if e.closed.Load() {
		return 0, &tcpip.ErrClosedForSend{}
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	var hdr [vnethdr.Len]byte
	n := 0
	for _, pkt := range pkts.AsSlice() {
		h := outboundHeader(pkt.GSOOptions, pkt.Data().Size(), pkt.NetworkHeader().View().Size(), pkt.TransportHeader().View().Size())
		h.Encode(hdr[:])
		iov := append(e.iov[:0], iovec(hdr[:]))
		vl, off := pkt.AsViewList()
		for v := vl.Front(); v != nil; v = v.Next() {
			b := v.AsSlice()
			if off >= len(b) {
				off -= len(b)
				continue
			}
			iov = append(iov, iovec(b[off:]))
			off = 0
		}
		err := vnethdr.Writev(e.rc, iov)
		clear(iov)
		e.iov = iov[:0]
		if err != nil {
			if n == 0 {
				return 0, &tcpip.ErrClosedForSend{}
			}
			break
		}
		if h.GSOType != vnethdr.GSONone {
			e.GSOOut.Add(1)
		}
		e.PacketsOut.Add(1)
		n++
	}
	return n, nil
}

// outboundHeader is the vnet header of a packet gVisor wrote, from its GSO
// options: the data size (the part after the transport header), the IP
// and TCP header lengths.
func outboundHeader(g stack.GSO, data, ipLen, tcpLen int) vnethdr.Header {
	var h vnethdr.Header
	if g.Type == stack.GSONone {
		return h
	}
	if g.NeedsCsum {
		h.Flags = vnethdr.NeedsCsum
		h.CsumStart = g.L3HdrLen
		h.CsumOffset = g.CsumOffset
	}
	if g.MSS > 0 && data > int(g.MSS) {
		switch g.Type {
		case stack.GSOTCPv4:
			h.GSOType = vnethdr.GSOTCPv4
		case stack.GSOTCPv6:
			h.GSOType = vnethdr.GSOTCPv6
		}
		h.GSOSize = g.MSS
		h.HdrLen = uint16(ipLen + tcpLen)
	}
	return h
}

func iovec(b []byte) unix.Iovec {
	v := unix.Iovec{Base: &b[0]}
	v.SetLen(len(b))
	return v
}

// readLoop reads the device until it is closed: each wake-up, packets
// until the device is empty (or batchMax), each through GRO, then a flush.
func (e *Endpoint) readLoop() {
	defer close(e.done)
	var g gro.GRO
	g.Init(true)
	var hdr [vnethdr.Len]byte
	big := buffer.NewViewSize(1 << 16)
	defer func() { big.Release() }()
	for {
		n := 0
		err := e.rc.Read(func(fd uintptr) bool {
			for n < batchMax {
				iov := [2]unix.Iovec{iovec(hdr[:]), iovec(big.AsSlice())}
				r, _, en := unix.Syscall(unix.SYS_READV, fd, uintptr(unsafe.Pointer(&iov[0])), 2)
				if en == unix.EINTR {
					continue
				}
				if en != 0 {
					break
				}
				n++
				e.mu.RLock()
				g.Dispatcher = e.dispatcher
				e.mu.RUnlock()
				if g.Dispatcher == nil {
					continue
				}
				if pkt := e.inbound(hdr[:], &big, int(r)); pkt != nil {
					g.Enqueue(pkt)
					pkt.DecRef()
				}
			}
			return n > 0
		})
		if g.Dispatcher != nil {
			g.Flush()
		}
		if err != nil {
			if e.closed.Load() || errors.Is(err, os.ErrClosed) {
				return
			}
		}
	}
}

// inbound makes a packet buffer of one read of r bytes (vnet header
// included) whose packet is in *big, or nil to drop it. A large packet
// takes *big along, which is replaced by a fresh view.
func (e *Endpoint) inbound(hb []byte, big **buffer.View, r int) *stack.PacketBuffer {
	h, err := vnethdr.Parse(hb)
	n := r - vnethdr.Len
	if err != nil || n <= 0 || h.Check(n) != nil {
		e.BadIn.Add(1)
		return nil
	}
	b := (*big).AsSlice()[:n]
	var proto tcpip.NetworkProtocolNumber
	switch b[0] >> 4 {
	case 4:
		proto = header.IPv4ProtocolNumber
	case 6:
		proto = header.IPv6ProtocolNumber
	default:
		e.BadIn.Add(1)
		return nil
	}
	if h.Flags&(vnethdr.NeedsCsum|vnethdr.DataValid) == 0 && !checksumsValid(b) {
		e.BadIn.Add(1)
		return nil
	}
	var v *buffer.View
	if n <= copyBelow {
		v = buffer.NewViewWithData(b)
	} else {
		v = *big
		v.CapLength(n)
		*big = buffer.NewViewSize(1 << 16)
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithView(v)})
	pkt.NetworkProtocolNumber = proto
	pkt.RXChecksumValidated = true
	e.PacketsIn.Add(1)
	if h.GSOType != vnethdr.GSONone {
		e.GSOIn.Add(1)
	}
	return pkt
}
