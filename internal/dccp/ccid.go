package dccp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// TxCCID is the sending half of a congestion control mechanism (§10):
// it decides when data may go out and learns from acknowledgements.
type TxCCID interface {
	// CanSend reports whether a data packet of size bytes may be sent at
	// now; if not, retryAt is when to ask again (zero: after feedback).
	CanSend(now clock.Instant, size int) (ok bool, retryAt clock.Instant)
	// OnSent records a sent packet and returns the CCVal it carries.
	OnSent(now clock.Instant, seq seqnum.V48, size int, data bool) uint8
	// OnPacket processes the acknowledgement information of a received
	// packet: its Ack (when hasAck), Ack Vector and CCID options. rtt is
	// the round-trip sample this packet gave (the echo of one of our
	// Timestamps less the peer's Elapsed Time, §13.3), or zero: a CCID
	// keeps its own estimate from samples (RFC 5348 §4.3).
	OnPacket(now clock.Instant, p *Packet, hasAck bool, rtt time.Duration)
	// NextDeadline returns the CCID's next timer, or zero.
	NextDeadline() clock.Instant
	// HandleTimer runs the CCID's timers due at now.
	HandleTimer(now clock.Instant)
}

// RxCCID is the receiving half: it decides when feedback is due and
// what it carries.
type RxCCID interface {
	// OnPacket records a received packet and reports whether an
	// acknowledgement should be sent at once.
	OnPacket(now clock.Instant, p *Packet, rtt time.Duration) (ackNow bool)
	// AppendFeedback adds CCID options to an acknowledgement being sent.
	AppendFeedback(now clock.Instant, o *Options)
	// NextDeadline returns when feedback is due without new packets.
	NextDeadline() clock.Instant
	// HandleTimer reports whether an acknowledgement is due at now.
	HandleTimer(now clock.Instant) (ackNow bool)
}

// NewCCIDFunc builds the CCID halves for a negotiated CCID number; Conn
// calls it when the connection opens. mps is the maximum payload size.
type NewCCIDFunc func(now clock.Instant, id uint8, mps int, ackRatio int) (TxCCID, RxCCID)

// startCCIDs builds the CCIDs from the negotiated features (§10): the
// CCID located at this end drives its sender, the peer's its receiver.
func (c *Conn) startCCIDs(now clock.Instant) {
	if c.tx != nil || c.rx != nil {
		return
	}
	mk := c.cfg.NewCCID
	if mk == nil {
		mk = DefaultCCIDs
	}
	ar := int(c.feat.remote[5])
	c.tx, _ = mk(now, uint8(c.feat.local[1]), c.MaxPayload(), int(c.feat.local[5]))
	_, c.rx = mk(now, uint8(c.feat.remote[1]), c.MaxPayload(), ar)
	c.adaptSeqWindow()
}

// NoCCID is a NewCCIDFunc that disables congestion control: data goes
// out as soon as it is written. Tests of the state machine use it.
func NoCCID(now clock.Instant, id uint8, mps int, ackRatio int) (TxCCID, RxCCID) {
	return nil, nil
}

// ackRatioRx is a receiving CCID that acknowledges every Ack Ratio data
// packets (CCID 2, RFC 4341 §6.1): it follows the peer's Change L(Ack
// Ratio) (RFC 4340 §11.3).
type ackRatioRx interface{ setAckRatio(n uint64) }
