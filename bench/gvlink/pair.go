package gvlink

import (
	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// Pair returns two gVisor channel endpoints joined back to back: what one
// stack writes is drained by the writing goroutine and injected into the
// other, with no goroutine of the link's own.
func Pair(mtu int) (*channel.Endpoint, *channel.Endpoint) {
	a := channel.New(queueLen, uint32(mtu), "")
	b := channel.New(queueLen, uint32(mtu), "")
	join(a, b)
	join(b, a)
	return a, b
}

// join drains from's outbound queue into to.
func join(from, to *channel.Endpoint) {
	d := &drainer{ep: from}
	d.direct = func(pkt *gvstack.PacketBuffer) {
		// ToBuffer shares the packet's views (reference counted), so
		// nothing is copied; the protocol comes from the outbound packet.
		in := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		to.InjectInbound(pkt.NetworkProtocolNumber, in)
		in.DecRef()
	}
	from.AddNotify(d)
}
