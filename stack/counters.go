package stack

// The counters a stack shows. Each type has exactly the fields of its
// core's counters, so that the stack converts one into the other with a
// plain conversion (TCPCounters(c)): a field added to a core and not here
// stops the build instead of going unreported.

// TCPCounters count what TCP connections did; they never decrease.
// TCPConn.Stats has one connection's, Stats.TCP the sum over a stack's.
type TCPCounters struct {
	// SegsIn and SegsOut count segments received and sent.
	SegsIn, SegsOut uint64
	// BytesIn and BytesOut count payload bytes received and sent,
	// BytesOut including retransmissions.
	BytesIn, BytesOut uint64
	// Retransmits counts segments sent again (after a retransmission
	// timeout, by fast retransmit, and SYNs); RetransmitBytes their
	// payload bytes.
	Retransmits     uint64
	RetransmitBytes uint64
	// RTOs counts retransmission timeouts (RFC 6298 §5).
	RTOs uint64
	// FastRetransmits counts fast retransmissions (RFC 5681 §3.2).
	FastRetransmits uint64
	// RSTsIn and RSTsOut count resets received (acceptable or not) and
	// sent.
	RSTsIn, RSTsOut uint64
	// ChallengeACKs counts the ACKs sent to challenge a suspicious RST or
	// SYN (RFC 5961 §3 and §4).
	ChallengeACKs uint64
	// ACKsRateLimited counts the ACKs for invalid segments (outside the
	// window, an old timestamp, a challenge) not sent because one was sent
	// less than 500 ms before (RFC 5961 §7; Linux tcp_invalid_ratelimit).
	ACKsRateLimited uint64
	// DupACKsIn counts duplicate ACKs received (RFC 5681 §2).
	DupACKsIn uint64
	// SACKACKsIn counts acceptable ACKs that carried SACK blocks.
	SACKACKsIn uint64
	// TLPs counts tail loss probe timeouts (RFC 8985 §7).
	TLPs uint64
	// RACKLost counts segments RACK deemed lost (RFC 8985 §6.2).
	RACKLost uint64
	// Drops counts received segments a connection dropped, indexed by
	// TCPDropReason.
	Drops [NumTCPDropReasons]uint64
}

// TCPDropReason says why a connection dropped a received segment; it
// indexes TCPCounters.Drops.
type TCPDropReason uint8

// The drop reasons.
const (
	// TCPDropNotAcceptable: the segment lies outside the receive window
	// (RFC 9293 §3.10.7.4, first check).
	TCPDropNotAcceptable TCPDropReason = iota
	// TCPDropPAWS: the segment's timestamp is older than the last one
	// accepted (RFC 7323 §5).
	TCPDropPAWS
	// TCPDropRSTNotExact: an RST inside the window but not at RCV.NXT,
	// answered with a challenge ACK (RFC 5961 §3).
	TCPDropRSTNotExact
	// TCPDropRSTOutOfWindow: an RST outside the window.
	TCPDropRSTOutOfWindow
	// TCPDropSYNSynchronized: a SYN in a synchronized state, answered
	// with a challenge ACK (RFC 5961 §4).
	TCPDropSYNSynchronized
	// TCPDropNoACK: a segment without ACK in a synchronized state.
	TCPDropNoACK
	// TCPDropACKTooNew: an ACK of data never sent.
	TCPDropACKTooNew
	// TCPDropACKTooOld: an ACK below SND.UNA minus the largest window the
	// peer offered (RFC 5961 §5).
	TCPDropACKTooOld
	// TCPDropBadSYNSent: an unacceptable segment in SYN-SENT.
	TCPDropBadSYNSent
	// TCPDropOutOfOrderFull: an out-of-order segment with no room to keep
	// it.
	TCPDropOutOfOrderFull
	// TCPDropAfterClose: data in a state that takes no more data.
	TCPDropAfterClose
	// NumTCPDropReasons is the number of reasons, the length of
	// TCPCounters.Drops.
	NumTCPDropReasons
)

var tcpDropNames = [NumTCPDropReasons]string{
	"not-acceptable", "paws", "rst-not-exact", "rst-out-of-window", "syn-synchronized",
	"no-ack", "ack-too-new", "ack-too-old", "bad-syn-sent", "out-of-order-full", "after-close",
}

// String names the reason ("paws", "ack-too-old").
func (r TCPDropReason) String() string {
	if r < NumTCPDropReasons {
		return tcpDropNames[r]
	}
	return "TCPDropReason(?)"
}

// DCCPCounters count what DCCP connections did; they never decrease.
// DCCPConn.Stats has one connection's, DCCPStats.Conns the sum over a
// stack's.
type DCCPCounters struct {
	// PacketsIn and PacketsOut count packets received and sent.
	PacketsIn, PacketsOut uint64
	// DataIn and DataOut count the packets that carried application data.
	DataIn, DataOut uint64
	// Retransmits counts packets sent again: Request, CloseReq, Close and
	// the Ack of PARTOPEN (RFC 4340 §8.1.5, §8.3).
	Retransmits uint64
	// SyncsSent counts DCCP-Sync packets sent (RFC 4340 §7.5.4).
	SyncsSent uint64
	// InvalidSeq counts packets dropped for sequence or acknowledgement
	// numbers outside the windows (RFC 4340 §8.5, step 6).
	InvalidSeq uint64
	// Unexpected counts packets of a type the state does not expect,
	// dropped (RFC 4340 §8.5, step 7).
	Unexpected uint64
	// ResetsSent and ResetsIn count DCCP-Resets sent and received.
	ResetsSent, ResetsIn uint64
	// RecvQueueDrops counts datagrams dropped because the receive queue
	// was full.
	RecvQueueDrops uint64
	// DiscardedAfterClose counts datagrams that arrived after the
	// application closed.
	DiscardedAfterClose uint64
	// Duplicates counts data packets received twice, dropped.
	Duplicates uint64
	// OptionErrors counts packets whose options could not be processed
	// (malformed, or a feature negotiation that failed), answered with a
	// Reset (RFC 4340 §5.8, §6.6).
	OptionErrors uint64
	// FeatureChanges and Confirms count the Change and Confirm options of
	// feature negotiation received and processed (RFC 4340 §6).
	FeatureChanges, Confirms uint64
	// LossEvents counts the loss events the receiving congestion control
	// detected (CCID 3, RFC 5348 §5.2); gaps left by packets without data
	// do not count (RFC 4340 §7.7.1).
	LossEvents uint64
	// SeqWindowStalls counts the times a data packet waited because the
	// unacknowledged packets filled the Sequence Window (RFC 4340
	// §7.5.1); SeqWindowProbes the packets sent anyway once the probe
	// interval passed.
	SeqWindowStalls, SeqWindowProbes uint64
	// DataDroppedSent counts acknowledgements that carried a Data Dropped
	// option (RFC 4340 §11.7: datagrams received but not delivered, such
	// as the receive queue's drops); PeerDrops counts the packets the
	// peer reported dropped, each once.
	DataDroppedSent, PeerDrops uint64
	// SlowReceiverSent and SlowReceiverIn count Slow Receiver options
	// sent (the receive queue three quarters full) and received (RFC
	// 4340 §11.6).
	SlowReceiverSent, SlowReceiverIn uint64
	// AcksLost counts the peer's packets a CCID 2 sender saw missing (its
	// acknowledgements; each window with some doubles the Ack Ratio, RFC
	// 4341 §6.1.2).
	AcksLost uint64
}
