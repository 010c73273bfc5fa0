package drill

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// DCCP lines are our extension of packetdrill's language (RFC 4340;
// simulator only):
//
//	< dccp Request seq 0 service 42
//	> dccp Response seq 0 ack 0 <...>
//	< dccp DataAck seq 2 ack 1 len 100
//	> dccp Reset seq 3 ack 5 code 2
//
// The type is one of RFC 4340 §5.1's ten; seq and ack are relative to
// each side's first sequence number, as TCP's; service, code (Reset) and
// len (the payload) are checked only when an outbound line gives them.
// Options are not written or checked: an inbound packet carries none, an
// outbound line matches any (its "<...>" may be written or left out).
type DCCPPacket struct {
	Type       wire.DCCPType
	Seq, Ack   uint64
	HasAck     bool
	Service    uint32
	HasService bool
	Code       wire.DCCPResetCode
	HasCode    bool
	Len        uint32
	HasLen     bool
}

func parseDCCP(c *cursor, p *Packet) error {
	name := c.word("")
	d := &DCCPPacket{}
	found := false
	for t := wire.DCCPType(0); t <= wire.DCCPSyncAck; t++ {
		if t.String() == name {
			d.Type, found = t, true
		}
	}
	if !found {
		return fmt.Errorf("unknown DCCP packet type %q (want Request, Response, Data, Ack, DataAck, CloseReq, Close, Reset, Sync, SyncAck)", name)
	}
	seen := false
	for !c.done() {
		word := c.word("<")
		if word == "" && c.eat("<...>") {
			continue
		}
		n, err := strconv.ParseUint(c.word(""), 0, 64)
		if err != nil {
			return fmt.Errorf("want a number after %q in a DCCP line", word)
		}
		switch word {
		case "seq":
			d.Seq, seen = n&seqnum.Mask48, true
		case "ack":
			d.Ack, d.HasAck = n&seqnum.Mask48, true
		case "service":
			d.Service, d.HasService = uint32(n), true
		case "code":
			d.Code, d.HasCode = wire.DCCPResetCode(n), true
		case "len":
			if n > 65000 {
				return fmt.Errorf("len %d is larger than a packet", n)
			}
			d.Len, d.HasLen = uint32(n), true
		default:
			return fmt.Errorf("unexpected %q in a DCCP line (want seq, ack, service, code, len)", word)
		}
	}
	if !seen {
		return fmt.Errorf("a DCCP line needs its seq")
	}
	if p.Inbound && !d.HasAck && d.Type != wire.DCCPRequest && d.Type != wire.DCCPData {
		return fmt.Errorf("an inbound %s needs its ack", d.Type)
	}
	p.DCCP = d
	return nil
}

// sniffDCCP decodes the DCCP packet t (the IP payload) into s.
func sniffDCCP(t []byte, s *sniffed) bool {
	d, err := wire.ParseDCCP(t)
	if err != nil {
		return false
	}
	h := wire.DCCPHeaderOf(d)
	s.dccp = &h
	s.sport, s.dport = h.SrcPort, h.DstPort
	s.payload = uint32(len(d.Payload()))
	return true
}

// dccpPacket builds the IP packet of an inbound DCCP line.
func (d *driver) dccpPacket(p *Packet, f *flow, rport, lport uint16) ([]byte, error) {
	l := p.DCCP
	if l.Type == wire.DCCPRequest && !f.dccpKnown {
		f.dRemoteOff, f.dccpKnown = uint64(remoteISN)-l.Seq, true
	}
	h := &wire.DCCPHeader{SrcPort: rport, DstPort: lport, Type: l.Type, X: true,
		Seq: seqnum.V48((l.Seq + f.dRemoteOff) & seqnum.Mask48), ServiceCode: l.Service, ResetCode: l.Code}
	if l.HasAck {
		h.Ack = seqnum.V48((l.Ack + f.dLocalOff) & seqnum.Mask48)
	}
	b := make([]byte, h.Len()+int(l.Len))
	n, err := wire.BuildDCCP(b, h, make([]byte, l.Len), d.raddr, d.laddr)
	if err != nil {
		return nil, err
	}
	return d.ipPacket(33, b[:n]), nil
}

// matchDCCP compares a sent packet with an outbound DCCP line, learning
// the stack's first sequence number from its Request or Response.
func (d *driver) matchDCCP(p *Packet, s *sniffed, f *flow) string {
	l, h := p.DCCP, s.dccp
	if h == nil {
		return "a TCP packet, expected DCCP " + l.Type.String()
	}
	if h.Type != l.Type {
		return fmt.Sprintf("DCCP %s, expected %s", h.Type, l.Type)
	}
	if h.Type == wire.DCCPRequest || h.Type == wire.DCCPResponse {
		f.dLocalOff = (uint64(h.Seq) - l.Seq) & seqnum.Mask48
		f.lport = s.sport
	}
	if got := (uint64(h.Seq) - f.dLocalOff) & seqnum.Mask48; got != l.Seq {
		return fmt.Sprintf("seq %d, expected %d", got, l.Seq)
	}
	if got := (uint64(h.Ack) - f.dRemoteOff) & seqnum.Mask48; l.HasAck && got != l.Ack {
		return fmt.Sprintf("ack %d, expected %d", got, l.Ack)
	}
	switch {
	case l.HasService && h.ServiceCode != l.Service:
		return fmt.Sprintf("service %d, expected %d", h.ServiceCode, l.Service)
	case l.HasCode && h.ResetCode != l.Code:
		return fmt.Sprintf("Reset code %d (%s), expected %d (%s)", h.ResetCode, h.ResetCode, l.Code, l.Code)
	case l.HasLen && s.payload != l.Len:
		return fmt.Sprintf("len %d, expected %d", s.payload, l.Len)
	}
	return ""
}

// formatDCCP writes a sent DCCP packet as an outbound line.
func (d *driver) formatDCCP(s *sniffed, f *flow) string {
	h := s.dccp
	var b strings.Builder
	ports := ""
	if s.dport != d.rport {
		ports = fmt.Sprintf("%d>%d ", s.sport, s.dport)
	}
	fmt.Fprintf(&b, "%s > %sdccp %s seq %d", d.since(s.at), ports, h.Type, (uint64(h.Seq)-f.dLocalOff)&seqnum.Mask48)
	if h.Type != wire.DCCPRequest && h.Type != wire.DCCPData {
		fmt.Fprintf(&b, " ack %d", (uint64(h.Ack)-f.dRemoteOff)&seqnum.Mask48)
	}
	switch h.Type {
	case wire.DCCPRequest, wire.DCCPResponse:
		fmt.Fprintf(&b, " service %d", h.ServiceCode)
	case wire.DCCPReset:
		fmt.Fprintf(&b, " code %d (%s)", h.ResetCode, h.ResetCode)
	}
	if s.payload > 0 {
		fmt.Fprintf(&b, " len %d", s.payload)
	}
	return b.String()
}
