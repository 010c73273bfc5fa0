package tcp

import (
	"errors"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// Errors a Conn returns to the application. The host maps them to its own
// errors (syscall.ECONNRESET and so on).
var (
	// ErrConnReset: the peer reset the connection (RST received in a
	// synchronized state), or this end did so because the application
	// closed with unread data and then used the connection.
	ErrConnReset = errors.New("tcp: connection reset by peer")
	// ErrConnRefused: an RST answered our SYN (RFC 9293 §3.10.7.3).
	ErrConnRefused = errors.New("tcp: connection refused")
	// ErrTimeout: retransmissions, the user timeout or keepalive gave up.
	ErrTimeout = errors.New("tcp: connection timed out")
	// ErrWriteClosed: Write after CloseWrite or Close (EPIPE).
	ErrWriteClosed = errors.New("tcp: write after close")
	// ErrAborted: the application aborted the connection (linger 0) and
	// then used it.
	ErrAborted = errors.New("tcp: connection aborted")
	// ErrNotConnected: Write or Read on a connection that is closed and was
	// never reset (for instance after TIME-WAIT ended).
	ErrNotConnected = errors.New("tcp: not connected")
)

// Events is a set of things that happened since the last TakeEvents, so the
// host can wake blocked goroutines without polling.
type Events uint16

// The events.
const (
	// EventReadable: Read would now return data, end-of-stream or an error.
	EventReadable Events = 1 << iota
	// EventWritable: Write would now accept bytes (buffer space freed) or
	// fail (the connection ended).
	EventWritable
	// EventEstablished: the handshake completed.
	EventEstablished
	// EventAcked: sent data was acknowledged (linger and GracefulClose wait
	// on AllAcked).
	EventAcked
	// EventPeerFIN: the peer's FIN was received (end-of-stream follows the
	// queued data).
	EventPeerFIN
	// EventReset: an acceptable RST was received.
	EventReset
	// EventTimeout: the connection gave up (retries, user timeout,
	// keepalive).
	EventTimeout
	// EventTimeWait: the connection entered TIME-WAIT; the application's
	// part is over, the host keeps the Conn until Closed.
	EventTimeWait
	// EventClosed: the connection reached CLOSED; the host may forget it
	// once NextSegment has returned false.
	EventClosed
	// EventState: the state changed; under Config.RecordStates,
	// TakeStateChanges says from what, to what, when and why.
	EventState
)

// StateChange is one change of a Conn's state: an output of the core like
// its segments and events, taken by the host with TakeStateChanges.
type StateChange struct {
	At       clock.Instant
	From, To State
	// Why names the cause in a few words ("rcvd SYN,ACK").
	Why string
}

// TakeStateChanges appends the state changes recorded since the last call
// to dst, oldest first, and forgets them. It finds none unless the Config
// has RecordStates.
func (c *Conn) TakeStateChanges(dst []StateChange) []StateChange {
	if c.changes == nil {
		return dst
	}
	dst = append(dst, *c.changes...)
	clear(*c.changes)
	*c.changes = (*c.changes)[:0]
	return dst
}

// recordState keeps sc for TakeStateChanges.
func (c *Conn) recordState(sc StateChange) {
	if c.changes == nil {
		c.changes = new([]StateChange)
	}
	*c.changes = append(*c.changes, sc)
}

// Ending says how a connection ended.
type Ending uint8

// The endings.
const (
	// EndOpen: not ended yet.
	EndOpen Ending = iota
	// EndGraceful: FINs were exchanged and acknowledged both ways.
	EndGraceful
	// EndRSTSent: this end reset the connection (close with unread data,
	// data after close, abort, keepalive timeout).
	EndRSTSent
	// EndRSTReceived: the peer reset the connection.
	EndRSTReceived
	// EndRefused: an RST answered our SYN.
	EndRefused
	// EndTimeout: retransmissions or the user timeout gave up.
	EndTimeout
	// EndAbandoned: closed before a SYN was answered, or FIN-WAIT-2 timed
	// out after a full close.
	EndAbandoned
)

var endingNames = [...]string{"open", "graceful", "rst-sent", "rst-received", "refused", "timeout", "abandoned"}

// String names the ending ("rst-sent").
func (e Ending) String() string {
	if int(e) < len(endingNames) {
		return endingNames[e]
	}
	return "ending(" + itoa(int(e)) + ")"
}

// Summary is what a Conn knows about how it ended; the host's CloseReport
// is built from it. Its byte counts are final once Ending is not EndOpen.
type Summary struct {
	Ending Ending
	// Why is a short human explanation ("close with 3 unread bytes:
	// RFC 2525 §2.17").
	Why string
	// FINSent, FINAcked and FINReceived record the FIN exchange.
	FINSent, FINAcked, FINReceived bool
	// RSTSent and RSTReceived record resets in either direction.
	RSTSent, RSTReceived bool
	// UnreadDiscarded counts received bytes the application never read:
	// queued when it closed or aborted, discarded by a received RST
	// (discard-on-rst profile), or arriving after a full close.
	UnreadDiscarded int
	// SentUnacked counts bytes sent at least once but never acknowledged.
	SentUnacked int
	// UnsentDiscarded counts bytes written by the application but never
	// sent, discarded by an RST or abort.
	UnsentDiscarded int
	// Duration is the time from the open to the end.
	Duration time.Duration
}

// DropReason classifies a received segment that was dropped.
type DropReason uint8

// The drop reasons, indexes of Counters.Drops.
const (
	DropNotAcceptable   DropReason = iota // outside the receive window (RFC 9293 §3.10.7.4 first)
	DropPAWS                              // old timestamp (RFC 7323 §5)
	DropRSTNotExact                       // RST in window, not at RCV.NXT: challenge ACK (RFC 5961 §3)
	DropRSTOutOfWindow                    // RST outside the window
	DropSYNSynchronized                   // SYN in a synchronized state: challenge ACK (RFC 5961 §4)
	DropNoACK                             // no ACK bit in a synchronized state
	DropACKTooNew                         // ACK of data never sent
	DropACKTooOld                         // ACK below SND.UNA - MAX.SND.WND (RFC 5961 §5)
	DropBadSYNSent                        // unacceptable segment in SYN-SENT
	DropOutOfOrderFull                    // no room to keep an out-of-order segment (ranges, or memory for a sparse one)
	DropAfterClose                        // data in a state that takes no more data
	numDropReasons
)

// Counters are per-connection statistics; the host sums them per stack.
type Counters struct {
	SegsIn, SegsOut   uint64
	BytesIn, BytesOut uint64 // payload bytes, BytesOut including retransmissions
	Retransmits       uint64 // segments retransmitted (RTO, fast retransmit, SYN)
	RetransmitBytes   uint64 // payload bytes in those segments
	RTOs              uint64 // retransmission timeouts
	FastRetransmits   uint64
	RSTsIn, RSTsOut   uint64
	ChallengeACKs     uint64
	ACKsRateLimited   uint64 // ACKs for invalid segments withheld by ChallengeACKInterval
	DupACKsIn         uint64
	SACKACKsIn        uint64 // acceptable ACKs that carried SACK blocks (SACK in use)
	TLPs              uint64 // tail loss probe timeouts (RFC 8985 §7)
	RACKLost          uint64 // segments RACK deemed lost (RFC 8985 §6.2)
	Drops             [numDropReasons]uint64
}

// Add adds o's counts to c (a stack sums its connections).
func (c *Counters) Add(o Counters) {
	c.SegsIn += o.SegsIn
	c.SegsOut += o.SegsOut
	c.BytesIn += o.BytesIn
	c.BytesOut += o.BytesOut
	c.Retransmits += o.Retransmits
	c.RetransmitBytes += o.RetransmitBytes
	c.RTOs += o.RTOs
	c.FastRetransmits += o.FastRetransmits
	c.RSTsIn += o.RSTsIn
	c.RSTsOut += o.RSTsOut
	c.ChallengeACKs += o.ChallengeACKs
	c.ACKsRateLimited += o.ACKsRateLimited
	c.DupACKsIn += o.DupACKsIn
	c.SACKACKsIn += o.SACKACKsIn
	c.TLPs += o.TLPs
	c.RACKLost += o.RACKLost
	for i := range o.Drops {
		c.Drops[i] += o.Drops[i]
	}
}
