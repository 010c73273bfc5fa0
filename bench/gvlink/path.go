package gvlink

import (
	"context"

	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"

	"github.com/teardown-lab/teardown/bench/shape"
)

// PathPair is PumpedPair with each direction taking a shape.Path: ab for
// what a sends to b, ba for the other way.
func PathPair(mtu int, ab, ba shape.Path) (a, b *channel.Endpoint, stop func()) {
	a = channel.New(queueLen, uint32(mtu), "")
	b = channel.New(queueLen, uint32(mtu), "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	lab, lba := pathLine(ab, b), pathLine(ba, a)
	go pumpPath(ctx, a, b, lab, done)
	go pumpPath(ctx, b, a, lba, done)
	return a, b, func() {
		cancel()
		<-done
		<-done
		lab.Close()
		lba.Close()
	}
}

// pathLine is a line along p that injects into to.
func pathLine(p shape.Path, to *channel.Endpoint) *shape.Line {
	return shape.NewLine(p, func(pkt []byte) { inject(to, pkt) })
}

// pumpPath is pump with a line between the endpoints: an untimed line
// only draws the loss and the packet moves as in pump, without a copy; a
// timed one takes a flat copy.
func pumpPath(ctx context.Context, from, to *channel.Endpoint, l *shape.Line, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		switch {
		case l.Timed():
			buf := pkt.ToBuffer()
			l.Send(buf.Flatten())
			buf.Release()
		case !l.Drop():
			in := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: pkt.ToBuffer()})
			to.InjectInbound(pkt.NetworkProtocolNumber, in)
			in.DecRef()
		}
		pkt.DecRef()
	}
}
