package stack

import "github.com/teardown-lab/teardown/internal/wire"

// DCCPResetCode is the Reset Code of a DCCP-Reset: why a connection was
// reset (RFC 4340 §5.6). Codes 12 to 127 are reserved, 128 to 255
// belong to the congestion control (CCID-specific).
type DCCPResetCode uint8

// The Reset Codes of RFC 4340 §5.6.
const (
	// DCCPResetUnspecified: no reason given.
	DCCPResetUnspecified DCCPResetCode = 0
	// DCCPResetClosed: the normal end of a connection, the answer to a
	// DCCP-Close.
	DCCPResetClosed DCCPResetCode = 1
	// DCCPResetAborted: the sender abandoned the connection (an abort).
	DCCPResetAborted DCCPResetCode = 2
	// DCCPResetNoConnection: no connection or listener matched the packet.
	DCCPResetNoConnection DCCPResetCode = 3
	// DCCPResetPacketError: a packet was malformed or of a type its
	// state does not allow.
	DCCPResetPacketError DCCPResetCode = 4
	// DCCPResetOptionError: an option was malformed or failed its
	// negotiation.
	DCCPResetOptionError DCCPResetCode = 5
	// DCCPResetMandatoryError: an option marked Mandatory was not
	// understood.
	DCCPResetMandatoryError DCCPResetCode = 6
	// DCCPResetConnectionRefused: the server refused the connection.
	DCCPResetConnectionRefused DCCPResetCode = 7
	// DCCPResetBadServiceCode: no listener takes the Request's service
	// code.
	DCCPResetBadServiceCode DCCPResetCode = 8
	// DCCPResetTooBusy: the server's backlog is full.
	DCCPResetTooBusy DCCPResetCode = 9
	// DCCPResetBadInitCookie: the Init Cookie a client echoed did not
	// check.
	DCCPResetBadInitCookie DCCPResetCode = 10
	// DCCPResetAggressionPenalty: the peer misbehaved in its congestion
	// control (RFC 4340 §12.3).
	DCCPResetAggressionPenalty DCCPResetCode = 11
)

// String returns the RFC 4340 §5.6 name ("Closed", "Too Busy"); codes
// without a name read "Reserved(n)" or "CCID-specific(n)".
func (c DCCPResetCode) String() string { return wire.DCCPResetCode(c).String() }
