package analyze

import "github.com/teardown-lab/teardown/internal/wire"

// This file follows a DCCP connection through the state machine of Linux
// netfilter's DCCP connection tracking (net/netfilter/
// nf_conntrack_proto_dccp.c), so that a firewall's view of an ending can be
// read next to ours: which state its entry is left in, and which packets it
// would mark IGNORE (it cannot tell whether they are valid) or INVALID (a
// transition its table forbids; a rule matching ctstate INVALID drops
// them). The transitions below were read off that file's table and
// dccp_packet(); the code is ours.

// Conntrack states, as conntrack -L prints them.
const (
	ctNone     = "NONE"
	ctRequest  = "REQUEST"
	ctRespond  = "RESPOND"
	ctPartOpen = "PARTOPEN"
	ctOpen     = "OPEN"
	ctCloseReq = "CLOSEREQ"
	ctClosing  = "CLOSING"
	ctTimeWait = "TIMEWAIT"
	ctIgnore   = "IGNORE"
	ctInvalid  = "INVALID"
)

// Conntrack is netfilter's view of a DCCP connection.
type Conntrack struct {
	// State is the state the entry is left in after the last packet:
	// NONE, REQUEST, RESPOND, PARTOPEN, OPEN, CLOSEREQ, CLOSING or
	// TIMEWAIT (IGNORE and INVALID mark packets, never an entry).
	State string `json:"state"`
	// Ignored and Invalid list the packets marked IGNORE and INVALID (at
	// most 20 each).
	Ignored []int `json:"ignored"`
	Invalid []int `json:"invalid"`
	// Destroyed is the packet that made netfilter delete the entry at
	// once: a Reset before anything was seen the other way.
	Destroyed int `json:"destroyed,omitempty"`
}

// ctTracker is one connection's conntrack entry. Only a Request creates
// one (any other first packet is INVALID, even in the default "loose"
// mode: from NONE the table allows nothing else), and its sender has the
// client role until a reincarnation or a resync swaps them.
type ctTracker struct {
	out        Conntrack
	entry      bool
	clientSide int
	origSide   int // the side whose Request created the entry
	lastSide   int
	lastType   wire.DCCPType
	replied    bool // a packet was accepted from the server's side
}

func newCTTracker() *ctTracker {
	return &ctTracker{out: Conntrack{State: ctNone, Ignored: []int{}, Invalid: []int{}}, lastSide: -1}
}

// packet runs one packet of type t from side d through the table.
func (ct *ctTracker) packet(num, d int, t wire.DCCPType) {
	if !ct.entry {
		if t != wire.DCCPRequest {
			ct.out.Invalid = addPkt(ct.out.Invalid, num)
			return
		}
		ct.entry, ct.clientSide, ct.origSide, ct.replied = true, d, d, false
		ct.out.State = ctNone
	}
	if t == wire.DCCPReset && !ct.replied {
		// A Reset before anything was accepted the other way deletes
		// the entry at once.
		if ct.out.Destroyed == 0 {
			ct.out.Destroyed = num
		}
		ct.entry, ct.out.State = false, ctNone
		return
	}
	next := ctNext(d == ct.clientSide, t, ct.out.State)
	switch next {
	case ctInvalid: // not accepted: the entry does not see it
		ct.out.Invalid = addPkt(ct.out.Invalid, num)
		return
	case ctIgnore:
		if ct.lastSide == 1-d && ct.lastType == wire.DCCPRequest && t == wire.DCCPResponse {
			// A Response to a Request it ignored: resync, with the
			// Request's sender as client.
			ct.clientSide, next = 1-d, ctRespond
			break
		}
		ct.out.Ignored = addPkt(ct.out.Ignored, num)
		ct.lastSide, ct.lastType = d, t
		ct.seen(d)
		return
	case ctRequest:
		if ct.out.State == ctTimeWait && d != ct.clientSide {
			ct.clientSide = d // reincarnation the other way: roles reversed
		}
	}
	ct.lastSide, ct.lastType = d, t
	ct.out.State = next
	ct.seen(d)
}

// seen notes an accepted packet: one from the side that did not create
// the entry is the reply netfilter waits for.
func (ct *ctTracker) seen(d int) {
	if d != ct.origSide {
		ct.replied = true
	}
}

// ctNext is the table: the next state after a packet of type t from the
// client (or server) in state s; ctIgnore and ctInvalid leave the state
// as it was.
func ctNext(client bool, t wire.DCCPType, s string) string {
	if s == ctNone {
		if client && t == wire.DCCPRequest {
			return ctRequest
		}
		return ctInvalid
	}
	early := s == ctRequest || s == ctRespond // no connection yet for data
	switch t {
	case wire.DCCPRequest:
		switch {
		case s == ctTimeWait:
			return ctRequest // reincarnation
		case client && early:
			return s // retransmitted
		}
		return ctIgnore
	case wire.DCCPResponse:
		switch {
		case s == ctTimeWait:
			return ctInvalid
		case !client && early:
			return ctRespond
		}
		return ctIgnore
	case wire.DCCPAck, wire.DCCPDataAck, wire.DCCPData:
		switch {
		case s == ctTimeWait || s == ctRequest:
			return ctInvalid
		case client && s == ctRespond && t != wire.DCCPData:
			return ctPartOpen // RFC 4340 §8.1.5
		case client && s == ctPartOpen && t == wire.DCCPData:
			return ctInvalid // PARTOPEN must send DataAck (§8.1.5)
		case client:
			if s == ctRespond {
				return ctInvalid
			}
			return s
		case s == ctRespond || s == ctCloseReq:
			return ctInvalid
		case s == ctPartOpen:
			return ctOpen
		}
		return s
	case wire.DCCPCloseReq:
		if client || early || s == ctTimeWait {
			return ctInvalid
		}
		return ctCloseReq
	case wire.DCCPClose:
		switch {
		case early || s == ctTimeWait:
			return ctInvalid
		case client && s == ctClosing: // the table has no retransmission here
			return ctInvalid
		case !client && s == ctCloseReq:
			return ctInvalid
		}
		return ctClosing
	case wire.DCCPReset:
		if s == ctTimeWait && client {
			return ctIgnore
		}
		return ctTimeWait
	}
	return ctIgnore // Sync and SyncAck
}
