package tcp

// State is a connection state of RFC 9293 §3.3.2.
type State uint8

// The connection states. LISTEN belongs to listeners (a later issue); a
// Conn passively opened starts in SYN-RECEIVED.
const (
	// Closed is the fictional state of no connection: before an open, after
	// an abort or reset, and after TIME-WAIT or LAST-ACK end.
	Closed State = iota
	// Listen waits for a SYN (RFC 9293 §3.3.2). A Conn never enters it: a
	// reset SYN-RECEIVED connection of a passive open reports Closed, and
	// the listener that spawned it keeps listening.
	Listen
	// SynSent has sent a SYN and waits for the matching SYN (active open).
	SynSent
	// SynReceived has received and sent a SYN and waits for the ACK of its
	// own SYN (passive open, or simultaneous open).
	SynReceived
	// Established is the open connection: data flows both ways.
	Established
	// FinWait1 has sent its FIN (the application closed for writing) and
	// waits for its acknowledgement or the peer's FIN.
	FinWait1
	// FinWait2 has had its FIN acknowledged and waits for the peer's FIN.
	FinWait2
	// CloseWait has received the peer's FIN and waits for the application
	// to close.
	CloseWait
	// Closing has sent and received FINs but its own is not acknowledged
	// yet: a simultaneous close.
	Closing
	// LastAck has received the peer's FIN, sent its own, and waits for the
	// acknowledgement of it.
	LastAck
	// TimeWait has closed both ways as the active closer and waits 2*MSL so
	// that late segments of this incarnation die out (RFC 9293 §3.6).
	TimeWait
)

var stateNames = [...]string{
	Closed: "CLOSED", Listen: "LISTEN", SynSent: "SYN-SENT", SynReceived: "SYN-RECEIVED",
	Established: "ESTABLISHED", FinWait1: "FIN-WAIT-1", FinWait2: "FIN-WAIT-2",
	CloseWait: "CLOSE-WAIT", Closing: "CLOSING", LastAck: "LAST-ACK", TimeWait: "TIME-WAIT",
}

// String returns the RFC 9293 spelling of the state ("FIN-WAIT-1").
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "STATE(" + itoa(int(s)) + ")"
}

// synchronized reports whether the state is one of RFC 9293's synchronized
// states (every state after the handshake's SYNs were both received).
func (s State) synchronized() bool { return s >= Established }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
