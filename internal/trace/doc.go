// Package trace is the record of one lab run and its three renderings: a
// terminal sequence diagram (Text), an SVG of the same diagram for slides
// (SVG) and the JSON report other tools read (WriteJSON, ReadJSON).
//
// Layer and rules: trace sits beside the lab, above internal/wire (whose
// flag and packet-type spellings it reuses through TCPKind and DCCPKind)
// and clock. It does no I/O of its own beyond the io.Writer it is handed,
// reads no clock and keeps no state between calls: the lab fills a Trace
// from the simulator's observer, the applications' calls and the cores'
// state changes, and every rendering is a pure function of it. Output is
// deterministic: the same Trace gives the same bytes.
//
// The model: a Trace lists Events in time order. A call is one KindCall
// event (its start) and, if it blocked, a later KindReturn event carrying
// the same *Call; a call without a return event either returned at once
// (its Result is set) or never returned (ResultBlocked). A packet is one
// KindPacket event at its send time, with its arrival time inside; a
// packet the network dropped has Packet.Dropped set. A state change names
// the RFC spellings of both states ("FIN-WAIT-1", "PASSIVE_CLOSEREQ").
//
// Sequence numbers: the diagrams show them relative to each connection
// direction's initial sequence number (as Wireshark's relative mode does,
// see Relative); the JSON keeps the raw header values. Times in the
// diagrams are milliseconds since Trace.Start; in the JSON, nanoseconds
// since Trace.Start ("t_ns").
//
// The call names, results and packet kinds are the lab's JSON contract
// (issue 6): send, recv, close, shutdown, accept, connect, gracefulclose;
// ok, data, eof, reset, refused, blocked, timeout, error; TCP flags joined
// by "|" in the order SYN|FIN|RST|PSH|ACK, or the DCCP packet type.
package trace
