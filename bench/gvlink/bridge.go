package gvlink

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/teardown-lab/teardown/link"
)

// queueLen is the channel endpoint's queue length. The queue is drained by
// the goroutine that fills it, so it stays short; gVisor drops a packet
// when it is full.
const queueLen = 4096

// maxBatch bounds how many packets are handed to our stack in one call.
const maxBatch = 64

// Bridge is an in-memory link between a teardown stack (Ours) and a gVisor
// stack (GVisor()).
type Bridge struct {
	gv   *channel.Endpoint
	ours ours
	d    drainer
}

// New returns a bridge whose link carries packets of up to mtu bytes.
func New(mtu int) *Bridge {
	b := &Bridge{gv: channel.New(queueLen, uint32(mtu), "")}
	b.ours.b = b
	b.ours.mtu = mtu
	b.d.ep = b.gv
	b.d.deliver = func(pkts [][]byte) {
		if r := b.ours.recv.Load(); r != nil {
			(*r).DeliverPackets(pkts)
		}
	}
	b.gv.AddNotify(&b.d)
	return b
}

// GVisor returns the gVisor face of the bridge, to pass to NewStack or
// gVisor's stack.CreateNIC.
func (b *Bridge) GVisor() *channel.Endpoint { return b.gv }

// Ours returns the teardown face of the bridge, a link.Endpoint.
func (b *Bridge) Ours() link.Endpoint { return &b.ours }

// ours is the link.Endpoint face.
type ours struct {
	b      *Bridge
	mtu    int
	recv   atomic.Pointer[link.Receiver]
	closed atomic.Bool
}

func (o *ours) MTU() int { return o.mtu }

// WritePackets copies each packet into a gVisor packet buffer and injects
// it into the gVisor stack.
func (o *ours) WritePackets(pkts [][]byte) (int, error) {
	if o.closed.Load() {
		return 0, link.ErrClosed
	}
	for i, p := range pkts {
		if len(p) > o.mtu {
			return i, link.ErrTooBig
		}
		inject(o.b.gv, p)
	}
	return len(pkts), nil
}

func (o *ours) Attach(r link.Receiver) {
	if r == nil {
		o.recv.Store(nil)
		return
	}
	o.recv.Store(&r)
}

func (o *ours) Close() error {
	o.closed.Store(true)
	o.recv.Store(nil)
	return nil
}

// inject hands a copy of IP packet p to the gVisor stack behind ep.
func inject(ep *channel.Endpoint, p []byte) {
	if len(p) == 0 {
		return
	}
	proto := ipv4.ProtocolNumber
	if header.IPVersion(p) == header.IPv6Version {
		proto = ipv6.ProtocolNumber
	}
	pkt := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{
		Payload: buffer.MakeWithData(p),
	})
	ep.InjectInbound(proto, pkt)
	pkt.DecRef()
}

// drainer empties a channel endpoint's outbound queue on the goroutine
// that wrote to it. One goroutine drains at a time, so packets keep their
// order; a notification that arrives meanwhile makes it go round again.
type drainer struct {
	ep      *channel.Endpoint
	deliver func(pkts [][]byte)
	// direct, when set, takes each packet buffer instead of deliver
	// (gVisor to gVisor, no copy); it must not keep pkt.
	direct func(pkt *gvstack.PacketBuffer)

	mu       sync.Mutex
	draining bool
	again    bool
	scratch  []byte
	batch    [][]byte
}

// WriteNotify implements channel.Notification.
func (d *drainer) WriteNotify() {
	d.mu.Lock()
	if d.draining {
		d.again = true
		d.mu.Unlock()
		return
	}
	d.draining = true
	for {
		d.again = false
		d.mu.Unlock()
		d.drain()
		d.mu.Lock()
		if !d.again {
			d.draining = false
			d.mu.Unlock()
			return
		}
	}
}

// drain delivers every queued packet, maxBatch at a time. Only the
// draining goroutine runs it, so scratch and batch need no lock.
func (d *drainer) drain() {
	if d.direct != nil {
		for pkt := d.ep.Read(); pkt != nil; pkt = d.ep.Read() {
			d.direct(pkt)
			pkt.DecRef()
		}
		return
	}
	for {
		d.scratch = d.scratch[:0]
		d.batch = d.batch[:0]
		var offs [maxBatch + 1]int
		for len(d.batch) < maxBatch {
			pkt := d.ep.Read()
			if pkt == nil {
				break
			}
			d.scratch = appendPacket(d.scratch, pkt)
			pkt.DecRef()
			d.batch = append(d.batch, nil)
			offs[len(d.batch)] = len(d.scratch)
		}
		if len(d.batch) == 0 {
			return
		}
		// Slice after copying: appends may have moved scratch.
		for i := range d.batch {
			d.batch[i] = d.scratch[offs[i]:offs[i+1]:offs[i+1]]
		}
		d.deliver(d.batch)
	}
}

// appendPacket appends the bytes of pkt, headers included, to dst.
func appendPacket(dst []byte, pkt *gvstack.PacketBuffer) []byte {
	vl, off := pkt.AsViewList()
	for v := vl.Front(); v != nil; v = v.Next() {
		s := v.AsSlice()
		if off >= len(s) {
			off -= len(s)
			continue
		}
		dst = append(dst, s[off:]...)
		off = 0
	}
	return dst
}
