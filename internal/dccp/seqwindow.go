package dccp

import "github.com/teardown-lab/teardown/internal/wire"

// Sequence Window bounds of RFC 4340 §7.5.2 (Wmin, Wmax).
const (
	minSeqWindow = 32
	maxSeqWindow = 1<<46 - 1
)

// seqWindowFactor is how many times the sender's window the local
// Sequence Window is kept at: §7.5.2 suggests about five times the
// packets sent per round trip (Linux's CCID 2 uses the same factor).
const seqWindowFactor = 5

// windowedTx is a sender CCID that keeps a window of packets in flight
// (CCID 2). The connection bounds that window by the Sequence Windows and
// grows its own Sequence Window with it.
type windowedTx interface {
	// Window returns the packets the sender may have in flight.
	Window() float64
	// SetWindowLimit bounds that window.
	SetWindowLimit(packets float64)
}

// adaptSeqWindow keeps the local Sequence Window in step with a windowed
// sender (RFC 4340 §7.5.2: endpoints should send Change L(Sequence
// Window) as the connection progresses, the window being several times
// the packets in flight):
//
//   - the sender's window is bounded by the local Sequence Window (the
//     acknowledgement validity window, §7.5.1, spans it: acknowledgements
//     of older packets are dropped by §8.5 step 6) and by the peer's
//     Sequence Window times the Ack Ratio (the peer's acknowledgements
//     per window must fit our validity window for its sequence numbers);
//   - once the window reaches a fifth of the Sequence Window, Change L
//     offers twice the Sequence Window; below a tenth it offers half,
//     never less than the configured value.
//
// The new value takes effect when the peer confirms it (§6.6.1); the
// peer adopts it on receipt of the Change, so it widens its validity
// window for our sequence numbers before we send more.
func (c *Conn) adaptSeqWindow() {
	w, ok := c.tx.(windowedTx)
	if !ok {
		return
	}
	sw := c.feat.local[wire.DCCPFeatSequenceWindow]
	peer := c.feat.remote[wire.DCCPFeatSequenceWindow] * max(c.feat.local[wire.DCCPFeatAckRatio], 1)
	w.SetWindowLimit(float64(min(sw, peer)))
	cw := w.Window()
	switch {
	case cw*seqWindowFactor >= float64(sw):
		c.feat.changeLocalNN(wire.DCCPFeatSequenceWindow, min(2*sw, maxSeqWindow))
	case cw*seqWindowFactor < float64(sw/2) && sw/2 >= c.cfg.SequenceWindow:
		c.feat.changeLocalNN(wire.DCCPFeatSequenceWindow, max(sw/2, minSeqWindow))
	}
}
