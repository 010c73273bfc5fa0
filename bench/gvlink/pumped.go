package gvlink

import (
	"context"

	"gvisor.dev/gvisor/pkg/tcpip/link/channel"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
)

// PumpedPair returns two gVisor channel endpoints joined back to back by
// two goroutines, one per direction, each blocking in ReadContext on one
// endpoint's outbound queue and injecting what it reads into the other.
// This is the usual way to join two netstacks in one process (and the
// link model of issue 7's reference figures); Pair instead drains on the
// writing goroutine. stop ends the goroutines.
func PumpedPair(mtu int) (a, b *channel.Endpoint, stop func()) {
	a = channel.New(queueLen, uint32(mtu), "")
	b = channel.New(queueLen, uint32(mtu), "")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go pump(ctx, a, b, done)
	go pump(ctx, b, a, done)
	return a, b, func() {
		cancel()
		<-done
		<-done
	}
}

// pump moves packets from from's outbound queue into to until ctx ends.
func pump(ctx context.Context, from, to *channel.Endpoint, done chan<- struct{}) {
	defer func() { done <- struct{}{} }()
	for {
		pkt := from.ReadContext(ctx)
		if pkt == nil {
			return
		}
		in := gvstack.NewPacketBuffer(gvstack.PacketBufferOptions{Payload: pkt.ToBuffer()})
		to.InjectInbound(pkt.NetworkProtocolNumber, in)
		in.DecRef()
		pkt.DecRef()
	}
}
