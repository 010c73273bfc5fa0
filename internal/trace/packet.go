package trace

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Protocol names used in Packet.Proto and the JSON "proto" field.
const (
	ProtoTCP  = "tcp"
	ProtoDCCP = "dccp"
)

// Packet is one packet on the wire, as the lab decoded it with
// internal/wire from the simulator's observer.
type Packet struct {
	// From and To are the sending and receiving hosts.
	From, To string
	// SrcPort and DstPort tell connections between the same two hosts
	// apart (relative sequence numbers are kept per connection).
	SrcPort, DstPort uint16
	// Proto is ProtoTCP or ProtoDCCP.
	Proto string
	// Kind is the TCP flags joined by "|" in the order SYN|FIN|RST|PSH|ACK
	// (TCPKind) or the DCCP packet type (DCCPKind).
	Kind string
	// Seq and Ack are the raw sequence and acknowledgement numbers from
	// the header (48-bit for DCCP). The diagrams show them relative to
	// each direction's first sequence number; the JSON keeps them raw.
	Seq, Ack uint64
	// Len is the payload length in bytes.
	Len int
	// Extra is a short remark shown with the packet: a DCCP Reset code
	// name ("No Connection"), "dup", "retransmission".
	Extra string
	// Arrive is when the packet reached To; zero if it never did.
	Arrive clock.Instant
	// Dropped says the network discarded the packet (drawn as an arrow
	// ending in a cross).
	Dropped bool
	// Frame is the packet's number in the run's capture, counted from 1
	// as Wireshark does; 0 if unknown. The SVG's tooltips show it.
	Frame int
}

// TCPKind spells TCP flags for Packet.Kind: the flags joined by "|" in the
// order SYN|FIN|RST|PSH|ACK (then URG, ECE, CWR), as the JSON contract
// fixes.
func TCPKind(f wire.TCPFlags) string { return f.String() }

// DCCPKind spells a DCCP packet type for Packet.Kind ("CloseReq").
func DCCPKind(t wire.DCCPType) string { return t.String() }

// dccpKinds are the DCCP types by name, for checking and for AckValid.
var dccpKinds = map[string]bool{
	"Request": false, "Response": true, "Data": false, "Ack": true, "DataAck": true,
	"CloseReq": true, "Close": true, "Reset": true, "Sync": true, "SyncAck": true,
}

// tcpFlagNames are the flag names TCPKind may produce, in its order.
var tcpFlagNames = []string{"SYN", "FIN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"}

// AckValid reports whether p's Ack field means something: a TCP segment
// with ACK set, or a DCCP type with an acknowledgement subheader (all but
// Request and Data, RFC 4340 §5.1).
func (p *Packet) AckValid() bool {
	if p.Proto == ProtoDCCP {
		return dccpKinds[p.Kind]
	}
	return p.hasFlag("ACK")
}

func (p *Packet) hasFlag(f string) bool {
	return p.Proto == ProtoTCP && strings.Contains("|"+p.Kind+"|", "|"+f+"|")
}

// style is the drawing class of a packet: "rst" (TCP RST, DCCP Reset),
// "fin" (FIN, Close, CloseReq), "syn" (handshake), "data", "ack".
func (p *Packet) style() string {
	switch {
	case p.hasFlag("RST") || p.Kind == "Reset":
		return "rst"
	case p.hasFlag("FIN") || p.Kind == "Close" || p.Kind == "CloseReq":
		return "fin"
	case p.hasFlag("SYN") || p.Kind == "Request" || p.Kind == "Response":
		return "syn"
	case p.Len > 0:
		return "data"
	}
	return "ack"
}

func (p *Packet) validate(host string) error {
	if p.From != host {
		return fmt.Errorf("packet from %q recorded at host %q", p.From, host)
	}
	if p.To == "" || p.Len < 0 {
		return fmt.Errorf("packet without destination or with length %d", p.Len)
	}
	switch p.Proto {
	case ProtoDCCP:
		if _, ok := dccpKinds[p.Kind]; !ok {
			return fmt.Errorf("unknown DCCP packet type %q", p.Kind)
		}
	case ProtoTCP:
		return validTCPKind(p.Kind)
	default:
		return fmt.Errorf("unknown proto %q", p.Proto)
	}
	return nil
}

// validTCPKind checks that k is flag names joined by "|" in TCPKind's
// order, each at most once.
func validTCPKind(k string) error {
	next := 0
	for f := range strings.SplitSeq(k, "|") {
		i := next
		for i < len(tcpFlagNames) && tcpFlagNames[i] != f {
			i++
		}
		if i == len(tcpFlagNames) {
			return fmt.Errorf("TCP kind %q: %q unknown or out of order (SYN|FIN|RST|PSH|ACK)", k, f)
		}
		next = i + 1
	}
	return nil
}

// connKey names one direction of one connection.
type connKey struct {
	proto      string
	from, to   string
	sport, dpt uint16
}

func (p *Packet) dir() connKey {
	return connKey{p.Proto, p.From, p.To, p.SrcPort, p.DstPort}
}

func (k connKey) reverse() connKey {
	return connKey{k.proto, k.to, k.from, k.dpt, k.sport}
}

// Relative numbers sequence numbers the way Wireshark's relative mode
// does: per connection direction, from that direction's initial sequence
// number (the first packet seen, or a later SYN, DCCP-Request or
// DCCP-Response that starts a new incarnation). An acknowledgement is
// relative to the reverse direction's base.
type Relative struct {
	base map[connKey]uint64
}

// NewRelative prepares relative numbering for the packets of events
// (taken in order): each direction's base is its first packet's Seq.
func NewRelative(events []Event) *Relative {
	r := &Relative{base: map[connKey]uint64{}}
	for _, e := range events {
		if e.Kind != KindPacket || e.Packet == nil {
			continue
		}
		if _, ok := r.base[e.Packet.dir()]; !ok {
			r.base[e.Packet.dir()] = e.Packet.Seq
		}
	}
	return r
}

// Next returns p's relative Seq and Ack, and whether the Ack's base was
// known. Call it for each packet in event order: a SYN (or DCCP Request,
// Response) with a new sequence number restarts its direction's base.
func (r *Relative) Next(p *Packet) (seq, ack uint64, ackKnown bool) {
	k := p.dir()
	if p.hasFlag("SYN") || p.Kind == "Request" || p.Kind == "Response" {
		r.base[k] = p.Seq
	}
	mask := uint64(1<<32 - 1)
	if p.Proto == ProtoDCCP {
		mask = 1<<48 - 1
	}
	seq = (p.Seq - r.base[k]) & mask
	if b, ok := r.base[k.reverse()]; ok {
		return seq, (p.Ack - b) & mask, true
	}
	return seq, p.Ack, false
}

// labels returns the packet's label from the longest to the shortest
// form; renderers take the first that fits.
func (p *Packet) labels(seq, ack uint64, ackKnown bool) []string {
	kind := p.Kind
	s := kind + " seq=" + strconv.FormatUint(seq, 10)
	full := s
	if p.AckValid() {
		a := strconv.FormatUint(ack, 10)
		if !ackKnown {
			a = "raw:" + a
		}
		full += " ack=" + a
	}
	if p.Len > 0 {
		full += " len=" + strconv.Itoa(p.Len)
		s += " len=" + strconv.Itoa(p.Len)
	}
	var out []string
	if p.Extra != "" {
		out = append(out, full+" ("+p.Extra+")", s+" ("+p.Extra+")", kind+" ("+p.Extra+")")
	}
	return append(out, full, s, kind)
}
