package profile

import (
	"fmt"
	"sort"
)

// Profile is a named set of behaviours of a real system. The zero value is
// not a useful profile; start from Linux (or ByName) and change fields.
type Profile struct {
	// Name is the profile's name as ByName spells it ("linux").
	Name string

	// RSTOnCloseWithUnread decides what a full close does when received
	// data is still unread: true sends RST and discards the unsent queue
	// (RFC 2525 §2.17 "Failure to RST on close with data pending"; Linux,
	// Windows, gVisor), false ignores the receive queue and closes with FIN
	// as usual (FreeBSD, smoltcp, picoTCP — the systems the seed says
	// "simply ignore the receive queue").
	RSTOnCloseWithUnread bool

	// RSTOnDataAfterClose decides what happens when new data arrives after
	// the application has fully closed: true answers RST and ends the
	// connection (RFC 2525 §2.17, RFC 9293 §3.10.7.4 step seven; Linux and
	// the BSDs), false acknowledges and discards it.
	RSTOnDataAfterClose bool

	// DeliverQueuedDataBeforeReset decides what a received RST does to data
	// already queued for the reader: true lets the application read it
	// first and report "connection reset" after it (Linux: a recv after
	// the RST still returns the queued bytes), false discards it at once so
	// the next read fails (the stacks where the seed's "ERROR" is lost).
	DeliverQueuedDataBeforeReset bool

	// IgnoreRSTInTimeWait decides whether an RST that reaches a connection
	// in TIME-WAIT is ignored (RFC 1337 §3 "TIME-WAIT Assassination"
	// remedy R1; FreeBSD, lwIP, gVisor) or ends TIME-WAIT early (false;
	// Linux, and RFC 9293 §3.10.7.4 as written).
	IgnoreRSTInTimeWait bool

	// DiscardAfterShutdownRead decides what shutdown(SHUT_RD) does to
	// received data: false keeps queuing, acknowledging and handing over
	// data, a read of an empty queue returns end-of-stream instead of
	// blocking (Linux, observed); true discards the queue and everything
	// that arrives later while still acknowledging it (4.4BSD descendants).
	DiscardAfterShutdownRead bool

	// HoldFINWhileUnread decides whether a received FIN is acknowledged at
	// once (false; Linux, RFC 9293) or held unacknowledged, and not yet
	// reported as end-of-stream, until the application has read every byte
	// before it (true; Stratus VOS STCP as the seed of scenario group 3
	// describes it). A held FIN is retransmitted by the peer, and a peer
	// that vanished meanwhile answers the eventual ACK with RST.
	HoldFINWhileUnread bool

	// FINBeforeResetReadsEOF decides what a read returns once the peer's
	// FIN was received and an RST followed it (shutdown then close with
	// unread data, the seed's fix): true returns end-of-stream, the
	// error staying for writes (Linux: tcp_recvmsg tests SOCK_DONE, set by
	// the FIN, before sk_err); false reports the reset (4.4BSD
	// descendants return so_error first).
	FINBeforeResetReadsEOF bool

	// ReadErrorOnce decides what reads return after one of them reported
	// the error that ended the connection (a reset, a timeout): true
	// end-of-stream (Linux: sock_error() clears sk_err as it reports it,
	// and the socket is shut down, so the next recv returns 0 — observed
	// by TestBacklogKernelJudge); false the same error again.
	ReadErrorOnce bool

	// DCCPPassiveCloseStates decides how a DCCP endpoint answers a Close
	// or CloseReq while the application still has datagrams to read: true
	// enters PASSIVE_CLOSE / PASSIVE_CLOSEREQ and confirms (Reset, or
	// Close) only after the application has read what is queued and
	// closed (Linux since 2.6.27, the seed 001_*); false answers at once
	// and the queued datagrams are lost (RFC 4340 §8.3 read naively).
	DCCPPassiveCloseStates bool

	// DCCPCloseTieBreaker decides what a DCCP client in CLOSING does with a
	// Close from the server (both ends closed at once): true answers with
	// Reset so both finish within a round trip (Linux); false keeps
	// retransmitting its own Close until the final timeout, > 64 s.
	DCCPCloseTieBreaker bool

	// DCCPAbortOnUnread decides what a DCCP close does while received
	// datagrams are unread: true aborts with Reset code 2 "Aborted" (Linux,
	// the DCCP analogue of RFC 2525 §2.17), false closes normally.
	DCCPAbortOnUnread bool

	// The listen backlog (docs/scenarios.md, seed 003).

	// SYNACKBeforeAccept decides when a listener answers a SYN: true at
	// once, the connection then waiting established in the accept queue
	// until accept() takes it (Linux, VOS 17.1, every modern stack); false
	// only when accept() takes the SYN off the backlog, the SYN waiting
	// unanswered until then (Stratus VOS STCP before 17.1).
	SYNACKBeforeAccept bool

	// RSTOnFullBacklog decides what a SYN finds when the backlog is full:
	// true an RST (VOS before 17.1: the client's connect fails with
	// ECONNREFUSED), false silence (Linux, VOS 17.1: the client
	// retransmits its SYN with back-off, RFC 4987 §3.1).
	RSTOnFullBacklog bool

	// SeparateSYNQueue decides how the backlog is counted. True is Linux:
	// half-open connections (the SYN queue) and established ones waiting
	// for accept (the accept queue) are bounded separately, each by the
	// backlog, and the accept queue is checked again when the final ACK of
	// the handshake arrives: if it is full then, the ACK is dropped and
	// the SYN-ACK retransmitted (or, with ListenOptions.AbortOnOverflow,
	// answered with RST: Linux tcp_abort_on_overflow). False is VOS 17.1 as
	// the seed describes it: one backlog counts both, and a SYN answered
	// has its place reserved, so a final ACK always finds room.
	SeparateSYNQueue bool

	// AcceptQueueExtraSlot is Linux's off-by-one: the accept queue counts
	// as full only when it holds more than the backlog (sk_acceptq_is_full
	// compares with >), so listen(fd, n) lets n+1 connections wait. False:
	// exactly backlog.
	AcceptQueueExtraSlot bool

	// SYNQueueExtraSlot is the same off-by-one on the SYN queue: it counts
	// as full only when it holds more than the backlog
	// (inet_csk_reqsk_queue_is_full compares with >), so listen(fd, n)
	// keeps n+1 half-open requests before the next SYN meets a cookie or
	// is dropped. False: exactly backlog. Only with SeparateSYNQueue.
	SYNQueueExtraSlot bool

	// SYNCookies decides what a SYN finds when the SYN queue is full but
	// the accept queue is not: true a SYN cookie (RFC 4987 §3.6; Linux
	// tcp_syncookies=1, its default), false silence. Only meaningful with
	// SeparateSYNQueue; ListenOptions.NoSYNCookies turns them off per
	// listener.
	SYNCookies bool

	// DupACKAtAccept makes accept() send a duplicate ACK for a connection
	// whose FIN it holds unacknowledged (HoldFINWhileUnread): VOS 17.1 as
	// the seed describes it, "acknowledging the data but not the FIN"; a
	// client whose socket is gone answers it with RST. A connection whose
	// FIN was acknowledged gets none: the seed's FIN-then-gone row reads
	// EOF, and only a write draws the RST.
	DupACKAtAccept bool

	// AcceptReturnsReset decides what an RST does to a connection waiting
	// in the accept queue: true leaves it there, accept() returns it and
	// reads give the queued data, then "connection reset" (Linux: the
	// child socket stays queued after tcp_reset); false removes it, so
	// accept() never sees it (VOS 17.1: "the server application does not
	// even see an indication that a connection was ever established").
	AcceptReturnsReset bool

	// Wire details a packetdrill script sees (docs/drill.md).

	// WindowScaleForMaxBuffer decides the window scale a connection
	// announces: true the shift that covers the largest receive buffer the
	// socket may grow to (Linux: tcp_rmem[2] or rmem_max, 6 MiB by
	// default, so wscale 7), unless SO_RCVBUF was set before the SYN;
	// false the smallest shift that covers the receive buffer it has
	// (RFC 7323 §2.2 leaves the choice to the receiver).
	WindowScaleForMaxBuffer bool

	// DelayFINACK decides when the FIN that takes ESTABLISHED to
	// CLOSE-WAIT is acknowledged: true with the delayed-ACK timer once data
	// has arrived on the connection (Linux: tcp_fin enters pingpong mode,
	// observed 40 ms later), so that a quick close by the application
	// sends one FIN-ACK; false at once (RFC 9293 §3.10.7.4 step eight).
	DelayFINACK bool

	// TSRecentFromDuplicate decides whether a duplicate segment that ends
	// exactly at the last ACK sent updates the timestamp echoed (true:
	// Linux, whose window test accepts it; the ACK answering a
	// retransmitted data+FIN echoes the retransmission's TSval) or not
	// (false: RFC 7323 §4.3, the segment does not cover Last.ACK.sent).
	TSRecentFromDuplicate bool

	// PushPastHalfWindow sets PSH, besides on the segment that empties the
	// send queue, on a new segment that ends more than half the largest
	// window the peer has offered past the last PSH sent (Linux: when a
	// write copies that far past pushed_seq, tcp_sendmsg's forced_push
	// marks the buffer PSH and pushes it). With a 2000-byte window a
	// 6000-byte write goes out as 1:1001, 1001:2001 with PSH. False: PSH
	// only where the send queue empties (RFC 1122 §4.2.2.2 asks no more).
	PushPastHalfWindow bool
}

// Linux is the default profile: the Linux kernel's behaviour as observed on
// these machines (docs/peer-facts.md).
var Linux = Profile{
	Name:                         "linux",
	SYNACKBeforeAccept:           true,
	SeparateSYNQueue:             true,
	AcceptQueueExtraSlot:         true,
	SYNQueueExtraSlot:            true,
	SYNCookies:                   true,
	AcceptReturnsReset:           true,
	RSTOnCloseWithUnread:         true,
	RSTOnDataAfterClose:          true,
	DeliverQueuedDataBeforeReset: true,
	FINBeforeResetReadsEOF:       true,
	ReadErrorOnce:                true,
	DCCPPassiveCloseStates:       true,
	DCCPCloseTieBreaker:          true,
	DCCPAbortOnUnread:            true,
	WindowScaleForMaxBuffer:      true,
	DelayFINACK:                  true,
	TSRecentFromDuplicate:        true,
	PushPastHalfWindow:           true,
}

// DiscardOnRST is Linux except that a received RST discards unread data.
var DiscardOnRST = with(Linux, "discard-on-rst", func(p *Profile) { p.DeliverQueuedDataBeforeReset = false })

// NoRSTOnClose is Linux except that close ignores the receive queue and
// sends FIN (FreeBSD, smoltcp, picoTCP).
var NoRSTOnClose = with(Linux, "no-rst-on-close", func(p *Profile) { p.RSTOnCloseWithUnread = false })

// RFC1337 is Linux except that an RST in TIME-WAIT is ignored.
var RFC1337 = with(Linux, "rfc1337", func(p *Profile) { p.IgnoreRSTInTimeWait = true })

// VOS171 is Stratus VOS STCP from release 17.1 as the seed describes it:
// the handshake completes before accept in one backlog (no separate SYN
// queue, no SYN cookies) and a full backlog drops SYNs; a received FIN is
// held unacknowledged while data is unread and accept sends a duplicate
// ACK; an RST removes a queued connection; and an RST discards unread data
// and is what reads report even after a FIN (the seed's "Returns reset
// error" for data that was never read).
var VOS171 = with(Linux, "vos-17.1", func(p *Profile) {
	p.DelayFINACK = false // Linux's wire details, not the seed's
	p.TSRecentFromDuplicate = false
	p.PushPastHalfWindow = false
	p.HoldFINWhileUnread = true
	p.DeliverQueuedDataBeforeReset = false
	p.FINBeforeResetReadsEOF = false
	p.ReadErrorOnce = false
	p.SeparateSYNQueue = false
	p.AcceptQueueExtraSlot = false
	p.SYNQueueExtraSlot = false
	p.SYNCookies = false
	p.DupACKAtAccept = true
	p.AcceptReturnsReset = false
})

// VOSLegacy is STCP before 17.1: SYNs wait unanswered in the backlog until
// accept() takes them, and a full backlog answers RST. Its other TCP
// fields are VOS 17.1's (the seed describes no change in them); with no
// connection before accept, the duplicate ACK at accept has nothing to do.
var VOSLegacy = with(VOS171, "vos-legacy", func(p *Profile) {
	p.SYNACKBeforeAccept = false
	p.RSTOnFullBacklog = true
	p.DupACKAtAccept = false
})

// RFCNaive is the DCCP behaviour the seed 001_* shows to lose data and to
// ping-pong: a Close or CloseReq is answered at once, and a client in
// CLOSING does not break the tie of a simultaneous close. Its TCP fields
// equal Linux's.
var RFCNaive = with(Linux, "rfc-naive", func(p *Profile) {
	p.DCCPPassiveCloseStates = false
	p.DCCPCloseTieBreaker = false
})

func with(base Profile, name string, f func(*Profile)) Profile {
	base.Name = name
	if f != nil {
		f(&base)
	}
	return base
}

var byName = map[string]*Profile{
	Linux.Name:        &Linux,
	DiscardOnRST.Name: &DiscardOnRST,
	NoRSTOnClose.Name: &NoRSTOnClose,
	RFC1337.Name:      &RFC1337,
	VOS171.Name:       &VOS171,
	VOSLegacy.Name:    &VOSLegacy,
	RFCNaive.Name:     &RFCNaive,
}

// ByName returns the named profile ("linux", "discard-on-rst", ...); see
// Names for the list. An unknown name is an error that lists the known ones.
func ByName(name string) (Profile, error) {
	p, ok := byName[name]
	if !ok {
		return Profile{}, fmt.Errorf("profile: unknown profile %q (known: %v)", name, Names())
	}
	return *p, nil
}

// Names returns the names of the known profiles, sorted.
func Names() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
