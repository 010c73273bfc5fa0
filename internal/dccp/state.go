package dccp

import "strconv"

// State is a connection state of RFC 4340 §8.4, plus the two passive-close
// states of the seed "Closing Mechanism" (§3.1 there).
type State uint8

// The states. Their order matters: RFC 4340 §8.5 compares states
// ("S.state < CLOSEREQ"), so the RFC's states keep the RFC's order.
const (
	// Closed: no connection (§8.4). A Conn ends here after a Reset was
	// sent or a close gave up.
	Closed State = iota
	// Listen: a server waiting for Requests; the Listener plays this
	// state, a Conn is never in it.
	Listen
	// Request: a client that sent a Request and awaits a Response (§8.1.1).
	Request
	// Respond: a server that answered a Request with a Response and waits
	// for the client's Ack (§8.1.3).
	Respond
	// PartOpen: a client that received the Response; every packet it sends
	// carries an acknowledgement until the server's first packet after the
	// Response arrives (§8.1.5).
	PartOpen
	// Open: the data transfer state of both ends (§8.4).
	Open
	// CloseReq: a server that sent CloseReq to ask the client to hold
	// TIMEWAIT (§8.3); it retransmits CloseReq until the client's Close.
	CloseReq
	// Closing: an end that sent Close and waits for the Reset (§8.3); it
	// retransmits Close and ends in TIMEWAIT.
	Closing
	// TimeWait: the end that received the final Reset of a close waits 2
	// MSL before forgetting the connection (§8.3).
	TimeWait
	// PassiveClose: a Close was received; the Reset that confirms it waits
	// until the application has drained its receive queue and closed
	// (seed 001 §3.1).
	PassiveClose
	// PassiveCloseReq: a client received CloseReq; the Close that answers
	// it waits until the application has drained the queue and closed
	// (seed 001 §3.1).
	PassiveCloseReq
)

var stateNames = [...]string{
	"CLOSED", "LISTEN", "REQUEST", "RESPOND", "PARTOPEN", "OPEN",
	"CLOSEREQ", "CLOSING", "TIMEWAIT", "PASSIVE_CLOSE", "PASSIVE_CLOSEREQ",
}

// String returns the state's spelling in RFC 4340 §8.4 and the seed
// ("PARTOPEN", "PASSIVE_CLOSEREQ").
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// beforeCloseReq is the test "S.state < CLOSEREQ" of §8.5 step 13, with the
// passive states counted as already closing.
func (s State) beforeCloseReq() bool { return s < CloseReq }

// passive reports whether s is one of the seed's passive-close states.
func (s State) passive() bool { return s == PassiveClose || s == PassiveCloseReq }
