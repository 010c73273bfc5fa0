package tcp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Segment is the decoded meaning of a TCP segment, as the core consumes and
// produces it. The host parses headers into it (wire.ParseTCP,
// wire.ParseTCPOptions) and encodes it (wire.TCPHeader); ports and
// addresses are the host's business.
type Segment struct {
	Seq, Ack seqnum.V32
	Flags    wire.TCPFlags
	// Window is the raw 16-bit window field, unscaled, as on the wire.
	Window  uint16
	Options wire.TCPOptions
	// Payload is the data. In a Segment filled by NextSegment it is a view
	// of the send buffer, valid until the next call on the Conn.
	Payload []byte
	// GSOSize, when not zero, makes the Segment a run of segments sent at
	// once (Config.GSOMaxPayload): Payload is to be cut into GSOSize-byte
	// segments (the last may be shorter), each with these headers and its
	// sequence number, PSH on the last only.
	GSOSize uint16
}

// Len is SEG.LEN: the payload length plus one for SYN and one for FIN
// (RFC 9293 §3.4).
func (s *Segment) Len() seqnum.Size32 {
	n := seqnum.Size32(len(s.Payload))
	if s.Flags&wire.SYN != 0 {
		n++
	}
	if s.Flags&wire.FIN != 0 {
		n++
	}
	return n
}

// RSTFor computes the answer to a segment that arrived for no connection
// (RFC 9293 §3.10.7.1, state CLOSED): nothing to an RST; to a segment
// carrying ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. It reports false when no
// answer is due.
func RSTFor(seg *Segment) (Segment, bool) {
	if seg.Flags&wire.RST != 0 {
		return Segment{}, false
	}
	if seg.Flags&wire.ACK != 0 {
		return Segment{Seq: seg.Ack, Flags: wire.RST}, true
	}
	return Segment{Ack: seg.Seq.Add(seg.Len()), Flags: wire.RST | wire.ACK}, true
}
