package dccp

import (
	"math"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

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

// defaultAckRatio is the Ack Ratio's initial value (RFC 4340 §11.3); the
// sender lowers it below that only when the window forces it.
const defaultAckRatio = 2

// seqProbeInterval is how long a sender held back by the acknowledgement
// window (seqGated) waits before sending one data packet anyway: the
// acknowledgement of that newest packet is always valid, so a lost
// acknowledgement cannot hold the connection for ever. CCID 3's
// no-feedback floor (ccid3.MinNoFeedback) has the same value.
const seqProbeInterval = 200 * time.Millisecond

// adaptSeqWindow keeps the local Sequence Window and Ack Ratio in step
// with the sender (RFC 4340 §7.5.2: endpoints should send Change
// L(Sequence Window) as the connection progresses, the window being
// several times the packets in flight):
//
//   - a windowed sender's window (CCID 2's cwnd) is bounded by the local
//     Sequence Window (the acknowledgement validity window, §7.5.1, spans
//     it: acknowledgements of older packets are dropped by §8.5 step 6)
//     and by the peer's Sequence Window times the Ack Ratio (the peer's
//     acknowledgements per window must fit our validity window for its
//     sequence numbers); the Ack Ratio follows the window (adaptAckRatio);
//   - a rate-based sender (CCID 3) has no window: its flight is the
//     packets sent since the newest one acknowledged (GSS - GAR), which
//     includes what the host has not yet put on the wire;
//   - once the flight reaches a fifth of the Sequence Window, Change L
//     offers twice the Sequence Window; below a tenth of it (windowed
//     senders only) it offers half, never less than the configured value.
//
// The new value takes effect when the peer confirms it (§6.6.1); the
// peer adopts it on receipt of the Change, so it widens its validity
// window for our sequence numbers before we send more.
func (c *Conn) adaptSeqWindow() {
	if c.tx == nil {
		return
	}
	sw := c.feat.local[wire.DCCPFeatSequenceWindow]
	w, windowed := c.tx.(windowedTx)
	var used float64
	if windowed {
		peer := c.feat.remote[wire.DCCPFeatSequenceWindow] * max(c.feat.local[wire.DCCPFeatAckRatio], 1)
		w.SetWindowLimit(float64(min(sw, peer)))
		used = w.Window()
		c.adaptAckRatio(used)
	} else {
		used = float64(c.gss.Sub(c.gar))
	}
	switch {
	case used*seqWindowFactor >= float64(sw):
		c.feat.changeLocalNN(wire.DCCPFeatSequenceWindow, min(2*sw, maxSeqWindow))
	case windowed && used*seqWindowFactor < float64(sw/2) && sw/2 >= c.cfg.SequenceWindow:
		c.feat.changeLocalNN(wire.DCCPFeatSequenceWindow, max(sw/2, minSeqWindow))
	}
}

// adaptAckRatio sets the Ack Ratio of our half-connection from the
// window (RFC 4341 §6.1.2: the sender chooses the Ack Ratio and changes
// it with Change L(Ack Ratio), §11.3). The peer's acknowledgements per
// window, cwnd/R, should stay within a fifth of the peer's Sequence
// Window (§7.5.2, the same factor as ours; Linux's CCID 2 doubles and
// halves its Ack Ratio on this rule), so R doubles when they do not and
// halves (not below the default 2) when they use under a tenth; and R
// never exceeds ceil(cwnd/2), so that a window of data always draws
// acknowledgements (§6.1.2; after a loss this brings R down with cwnd).
// Without it a peer Sequence Window of 100 and R = 2 held cwnd at 200.
func (c *Conn) adaptAckRatio(cwnd float64) {
	const f = wire.DCCPFeatAckRatio
	i := slot(f)
	cur := c.feat.local[i]
	if c.feat.change[i][0] {
		cur = c.feat.nnOffer[i]
	}
	cur = max(cur, 1)
	peerSW := float64(c.feat.remote[wire.DCCPFeatSequenceWindow])
	want := cur
	switch perWindow := cwnd / float64(cur) * seqWindowFactor; {
	case perWindow >= peerSW:
		want = 2 * cur
	case perWindow < peerSW/2 && cur/2 >= defaultAckRatio:
		want = cur / 2
	}
	want = max(want, c.ackCC.floor) // lost acknowledgements (ackratio.go)
	want = max(min(want, uint64(math.Ceil(cwnd/2)), maxAckRatio), 1)
	c.feat.changeLocalNN(f, want)
}

// maxAckRatio is the largest Ack Ratio, the feature's 16 bits (§11.3).
const maxAckRatio = 1<<16 - 1

// seqGated reports whether a data packet must wait for acknowledgements:
// with the packets sent since the newest one acknowledged filling the
// local Sequence Window W, an acknowledgement of the oldest of them would
// fall below AWL (§7.5.1) and be dropped (§8.5 step 6); and the peer
// accepts sequence numbers only up to ceil(3W/4) past the newest it has
// received (SWH, §7.5.1), so the bound is 3W/4. A rate-based sender whose host queues
// packets faster than the link drains them reached that state: over
// link/pipe CCID 3 had nearly every acknowledgement dropped. The sender
// asks for a larger window meanwhile (adaptSeqWindow), and after
// seqProbeInterval sends one packet anyway.
func (c *Conn) seqGated(now clock.Instant) bool {
	if c.tx == nil {
		return false
	}
	w := int64(c.feat.local[wire.DCCPFeatSequenceWindow])
	if c.gss.Add(1).Sub(c.gar) < 3*w/4 {
		c.timer.seqProbe = 0
		return false
	}
	c.adaptSeqWindow()
	switch {
	case c.timer.seqProbe == 0:
		c.timer.seqProbe = now.Add(seqProbeInterval)
	case !now.Before(c.timer.seqProbe):
		c.timer.seqProbe = 0
		c.counters.SeqWindowProbes++
		return false
	}
	c.counters.SeqWindowStalls++
	c.timer.txRetry = c.timer.seqProbe
	return true
}
