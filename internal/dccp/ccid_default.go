package dccp

import (
	"math"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/dccp/ccid2"
	"github.com/teardown-lab/teardown/internal/dccp/ccid3"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// DefaultCCIDs builds CCID 2 (RFC 4341) for id 2 and CCID 3 (RFC 4342)
// for id 3; another id gets no congestion control.
func DefaultCCIDs(now clock.Instant, id uint8, mps int, ackRatio int) (TxCCID, RxCCID) {
	switch id {
	case 2:
		return &ccid2Tx{ccid2.NewTx(mps)}, &ccid2Rx{ccid2.NewRx(ackRatio, 25*time.Millisecond)}
	case 3:
		return &ccid3Tx{ccid3.NewTx(now, mps)}, &ccid3Rx{rx: ccid3.NewRx()}
	}
	return nil, nil
}

type ccid2Tx struct{ t *ccid2.Tx }

func (a *ccid2Tx) CanSend(now clock.Instant, size int) (bool, clock.Instant) {
	return a.t.CanSend(now), 0
}
func (a *ccid2Tx) OnSent(now clock.Instant, seq seqnum.V48, size int, data bool) uint8 {
	a.t.OnSent(now, seq, data)
	return 0
}
func (a *ccid2Tx) OnPacket(now clock.Instant, p *Packet, hasAck bool, rtt time.Duration) {
	if hasAck {
		a.t.OnAck(now, p.Ack, p.Options.AckVector)
	}
}
func (a *ccid2Tx) onDataDropped(now clock.Instant, seq seqnum.V48, st wire.DCCPDropState) {
	if st == wire.DCCPDropReceiveBuffer { // §11.7.2: the other states are no congestion signal
		a.t.OnDataDropped(now, seq)
	}
}
func (a *ccid2Tx) onSlowReceiver(now clock.Instant) { a.t.OnSlowReceiver(now) }
func (a *ccid2Tx) NextDeadline() clock.Instant      { return a.t.NextDeadline() }
func (a *ccid2Tx) HandleTimer(now clock.Instant)    { a.t.HandleTimer(now) }

// Window and SetWindowLimit make CCID 2 a windowedTx: its cwnd follows
// the Sequence Windows (seqwindow.go).
func (a *ccid2Tx) Window() float64          { return a.t.Cwnd() }
func (a *ccid2Tx) SetWindowLimit(n float64) { a.t.SetLimit(n) }

type ccid2Rx struct{ r *ccid2.Rx }

func (a *ccid2Rx) OnPacket(now clock.Instant, p *Packet, rtt time.Duration) bool {
	if p.Type == wire.DCCPData || p.Type == wire.DCCPDataAck {
		return a.r.OnData(now)
	}
	return false
}
func (a *ccid2Rx) setAckRatio(n uint64)                         { a.r.SetAckRatio(int(min(n, maxAckRatio))) }
func (a *ccid2Rx) AppendFeedback(now clock.Instant, o *Options) { a.r.OnAckSent() }
func (a *ccid2Rx) NextDeadline() clock.Instant                  { return a.r.NextDeadline() }
func (a *ccid2Rx) HandleTimer(now clock.Instant) bool           { return a.r.HandleTimer(now) }

type ccid3Tx struct{ t *ccid3.Tx }

func (a *ccid3Tx) CanSend(now clock.Instant, size int) (bool, clock.Instant) {
	return a.t.CanSend(now)
}
func (a *ccid3Tx) OnSent(now clock.Instant, seq seqnum.V48, size int, data bool) uint8 {
	return a.t.OnSent(now, data, size)
}

// OnPacket takes the receiver's Loss Event Rate and Receive Rate options
// (RFC 4342 §8.3, §8.5); a report without them is not feedback.
func (a *ccid3Tx) OnPacket(now clock.Instant, p *Packet, hasAck bool, rtt time.Duration) {
	var ler, rr uint32
	have := 0
	for _, o := range p.Options.CCID[:p.Options.NCCID] {
		if len(o.Data) != 4 {
			continue
		}
		v := uint32(o.Data[0])<<24 | uint32(o.Data[1])<<16 | uint32(o.Data[2])<<8 | uint32(o.Data[3])
		switch o.Type {
		case ccid3.OptLossEventRate:
			ler, have = v, have|1
		case ccid3.OptReceiveRate:
			rr, have = v, have|2
		}
	}
	if have != 3 {
		return
	}
	pr := 0.0
	if ler != math.MaxUint32 && ler > 0 {
		pr = 1 / float64(ler)
	}
	a.t.OnFeedback(now, rtt, pr, float64(rr))
}
func (a *ccid3Tx) onDataDropped(now clock.Instant, seq seqnum.V48, st wire.DCCPDropState) {
	if st == wire.DCCPDropReceiveBuffer {
		a.t.OnDataDropped(now)
	}
}
func (a *ccid3Tx) onSlowReceiver(now clock.Instant) { a.t.OnSlowReceiver(now) }
func (a *ccid3Tx) NextDeadline() clock.Instant      { return a.t.NextDeadline() }
func (a *ccid3Tx) HandleTimer(now clock.Instant)    { a.t.HandleTimer(now) }

type ccid3Rx struct {
	rx       *ccid3.Rx
	ler, rrb [4]byte
}

func (a *ccid3Rx) OnPacket(now clock.Instant, p *Packet, rtt time.Duration) bool {
	if p.Type == wire.DCCPData || p.Type == wire.DCCPDataAck {
		return a.rx.OnData(now, p.Seq, p.CCVal, len(p.Payload), p.Options.NDPCount, rtt)
	}
	return false
}
func (a *ccid3Rx) onDropped(now clock.Instant, p *Packet) { a.rx.OnDropped(p.CCVal) }
func (a *ccid3Rx) AppendFeedback(now clock.Instant, o *Options) {
	if !a.rx.Pending() {
		return
	}
	ler, rr := a.rx.Feedback(now)
	o.AddCCID(ccid3.OptLossEventRate, ccid3.EncodeU32(a.ler[:0], ler))
	o.AddCCID(ccid3.OptReceiveRate, ccid3.EncodeU32(a.rrb[:0], rr))
}

// lossCounter is a receiving CCID that counts loss events (Counters.LossEvents).
type lossCounter interface{ lossEvents() uint64 }

func (a *ccid3Rx) lossEvents() uint64 {
	ev, _ := a.rx.LossEvents()
	return ev
}
func (a *ccid3Rx) NextDeadline() clock.Instant        { return a.rx.NextDeadline() }
func (a *ccid3Rx) HandleTimer(now clock.Instant) bool { return a.rx.HandleTimer(now) }
