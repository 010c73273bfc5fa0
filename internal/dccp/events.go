package dccp

import (
	"errors"
	"fmt"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Events is a bitmask of things that happened since the host last asked
// (TakeEvents): the host wakes the goroutines waiting on them.
type Events uint8

// The events.
const (
	// EventReadable: a datagram or end-of-stream can be read.
	EventReadable Events = 1 << iota
	// EventWritable: the send queue has room, or writing now fails.
	EventWritable
	// EventState: the state changed; under Config.RecordStates,
	// TakeStateChanges says from what, to what, when and why.
	EventState
	// EventConnected: the handshake completed (PARTOPEN or OPEN reached).
	EventConnected
	// EventClosed: the connection reached CLOSED or TIMEWAIT.
	EventClosed
)

// Errors returned by the application interface. Match them with errors.Is.
var (
	// ErrWouldBlock: no datagram to read yet, or the send queue is full
	// (then the error is ErrQueueFull, which wraps it); the host blocks
	// or returns EAGAIN.
	ErrWouldBlock = errors.New("dccp: operation would block")
	// ErrQueueFull: the send queue is full (Linux answers EAGAIN even on
	// a blocking socket).
	ErrQueueFull = fmt.Errorf("%w: send queue full", ErrWouldBlock)
	// ErrTooBig: the datagram exceeds the current maximum packet size;
	// the wrapping error names that size.
	ErrTooBig = errors.New("dccp: datagram too large")
	// ErrNotConnected: the handshake has not completed.
	ErrNotConnected = errors.New("dccp: not connected")
	// ErrClosed: the application closed the connection.
	ErrClosed = errors.New("dccp: connection closed")
	// ErrConnReset: the peer reset the connection with a code other than
	// Closed or Unspecified; the wrapping ResetError has the code.
	ErrConnReset = errors.New("dccp: connection reset by peer")
	// ErrTimeout: a handshake or close gave up after its retransmissions.
	ErrTimeout = errors.New("dccp: connection timed out")
)

// ResetError is the error of a connection reset by the peer.
type ResetError struct{ Code wire.DCCPResetCode }

// Error names the Reset code.
func (e *ResetError) Error() string { return "dccp: connection reset by peer: " + e.Code.String() }

// Unwrap returns ErrConnReset.
func (e *ResetError) Unwrap() error { return ErrConnReset }

// Counters count what a Conn did; they never decrease.
type Counters struct {
	PacketsIn, PacketsOut    uint64
	DataIn, DataOut          uint64 // packets carrying application data
	Retransmits              uint64 // Request, CloseReq, Close and PARTOPEN Ack resends
	SyncsSent                uint64
	InvalidSeq               uint64 // dropped by §8.5 step 6
	Unexpected               uint64 // dropped by §8.5 step 7
	ResetsSent, ResetsIn     uint64
	RecvQueueDrops           uint64 // datagrams dropped because the queue was full
	DiscardedAfterClose      uint64 // datagrams that arrived after the app closed
	Duplicates               uint64 // data packets received twice, dropped
	OptionErrors             uint64
	FeatureChanges, Confirms uint64
	// LossEvents counts the loss events the receiving CCID detected (CCID
	// 3, RFC 5348 §5.2; gaps left by non-data packets do not count,
	// RFC 4340 §7.7.1).
	LossEvents uint64
	// SeqWindowStalls counts the times a data packet waited because the
	// packets unacknowledged filled the Sequence Window (§7.5.1);
	// SeqWindowProbes the packets sent anyway after the probe interval.
	SeqWindowStalls, SeqWindowProbes uint64
	// DataDroppedSent counts acknowledgements that carried a Data
	// Dropped option (RFC 4340 §11.7); PeerDrops the packets the peer
	// reported dropped, each once however often repeated.
	DataDroppedSent, PeerDrops uint64
	// SlowReceiverSent and SlowReceiverIn count Slow Receiver options
	// sent and received (§11.6).
	SlowReceiverSent, SlowReceiverIn uint64
	// AcksLost counts the peer's packets a CCID 2 sender saw missing
	// (gaps in the peer's sequence numbers: its acknowledgements, RFC
	// 4341 §6.1.1).
	AcksLost uint64
}

// Add adds o's counts to c (a host's sum over its connections). A new
// field must be added here too: TestCountersAddSumsEveryField fails
// otherwise.
func (c *Counters) Add(o Counters) {
	c.PacketsIn += o.PacketsIn
	c.PacketsOut += o.PacketsOut
	c.DataIn += o.DataIn
	c.DataOut += o.DataOut
	c.Retransmits += o.Retransmits
	c.SyncsSent += o.SyncsSent
	c.InvalidSeq += o.InvalidSeq
	c.Unexpected += o.Unexpected
	c.ResetsSent += o.ResetsSent
	c.ResetsIn += o.ResetsIn
	c.RecvQueueDrops += o.RecvQueueDrops
	c.DiscardedAfterClose += o.DiscardedAfterClose
	c.Duplicates += o.Duplicates
	c.OptionErrors += o.OptionErrors
	c.FeatureChanges += o.FeatureChanges
	c.Confirms += o.Confirms
	c.LossEvents += o.LossEvents
	c.SeqWindowStalls += o.SeqWindowStalls
	c.SeqWindowProbes += o.SeqWindowProbes
	c.DataDroppedSent += o.DataDroppedSent
	c.PeerDrops += o.PeerDrops
	c.SlowReceiverSent += o.SlowReceiverSent
	c.SlowReceiverIn += o.SlowReceiverIn
	c.AcksLost += o.AcksLost
}

// How says how a connection ended.
type How uint8

// The endings.
const (
	// NotEnded: the connection is still going.
	NotEnded How = iota
	// ClosedGracefully: Close/CloseReq answered by the final Reset(Closed).
	ClosedGracefully
	// ResetSent: this end sent a Reset other than the final Reset(Closed).
	ResetSent
	// ResetReceived: the peer sent a Reset other than Reset(Closed).
	ResetReceived
	// GaveUp: retransmissions of Request or Close ran out.
	GaveUp
)

var howNames = [...]string{"not ended", "closed", "reset sent", "reset received", "gave up"}

// String names the ending.
func (h How) String() string {
	if int(h) < len(howNames) {
		return howNames[h]
	}
	return "How(?)"
}

// Summary is the close report of a Conn: how it ended, and what data the
// ending cost ("did my data arrive?").
type Summary struct {
	How How
	// Code is the Reset code sent or received at the end.
	Code wire.DCCPResetCode
	// ActiveClose reports that this end closed first.
	ActiveClose bool
	// UnreadDiscarded counts datagrams received but never read.
	UnreadDiscarded int
	// UnsentDiscarded counts datagrams written but never sent.
	UnsentDiscarded int
	// EndedAt is when the connection reached CLOSED or TIMEWAIT.
	EndedAt clock.Instant
}

// TakeEvents returns the events since the last call and clears them.
func (c *Conn) TakeEvents() Events {
	e := c.events
	c.events = 0
	return e
}

// StateChange is one change of a Conn's state: an output of the core like
// its packets and events, taken by the host with TakeStateChanges.
type StateChange struct {
	At       clock.Instant
	From, To State
	// Why names the cause in a few words ("Reset(Closed) received").
	Why string
}

// TakeStateChanges appends the state changes recorded since the last call
// to dst, oldest first, and forgets them. It finds none unless the Config
// has RecordStates.
func (c *Conn) TakeStateChanges(dst []StateChange) []StateChange {
	dst = append(dst, c.changes...)
	clear(c.changes)
	c.changes = c.changes[:0]
	return dst
}

// Counters returns the counters.
func (c *Conn) Counters() Counters { return c.counters }

// Summary returns the close report; How is NotEnded until the end.
func (c *Conn) Summary() Summary {
	s := c.summary
	s.UnreadDiscarded += 0
	return s
}

// setEnd records how the connection ended, once.
func (c *Conn) setEnd(h How, code wire.DCCPResetCode) {
	if c.summary.How == NotEnded {
		c.summary.How, c.summary.Code = h, code
	}
}
