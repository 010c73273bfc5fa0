package analyze

import (
	"fmt"
	"slices"

	"github.com/teardown-lab/teardown/internal/wire"
)

// finish classifies setup and ending and collects the findings.
func (c *dccpConn) finish() *Connection {
	out := c.c
	out.Setup = c.setup()
	out.Ending = c.ending()
	out.Findings = append([]Finding{}, c.findings...)
	ct := c.ct.out
	ct.Ignored, ct.Invalid = append([]int{}, ct.Ignored...), append([]int{}, ct.Invalid...)
	out.Conntrack = &ct
	if a, b := &c.s[0], &c.s[1]; a.closeCount >= 2 && b.closeCount >= 2 {
		list := append(append([]int(nil), a.closePkts...), b.closePkts...)
		slices.Sort(list)
		if len(list) > maxListed {
			list = list[:maxListed]
		}
		out.Findings = append(out.Findings, Finding{Kind: FindingDCCPClosePingPong, Packets: list,
			TimeNs: out.EndNs, Summary: fmt.Sprintf("Close/CloseReq ping-pong: %d from the client and %d "+
				"from the server, each waiting for a Reset the other never sends (simultaneous close, "+
				"RFC 4340 §8.3; a tie-breaker ends it in one round trip)",
				c.s[c.client].closeCount, c.s[1-c.client].closeCount)})
	}
	return &out
}

func (c *dccpConn) setup() Setup {
	cs, ss := &c.s[c.client], &c.s[1-c.client]
	st := Setup{Retries: max(cs.reqCount-1, 0), Packets: append([]int(nil), cs.reqPkts...)}
	if cs.reqCount > 0 {
		code := cs.service
		st.ServiceCode = &code
	}
	switch {
	case c.first != wire.DCCPRequest && c.first != wire.DCCPResponse:
		st.Kind, st.Retries = SetupMidStream, 0
		st.Summary = "no Request/Response: the capture started after the handshake (client and server guessed from the ports)"
	case c.refused:
		st.Kind, st.ResetCode = SetupRefused, c.reset.code.String()
		st.Packets = append(st.Packets, c.reset.pkt)
		st.Summary = fmt.Sprintf("Request refused by Reset %s, code %d (%v)", pkts(c.reset.pkt), c.reset.code, c.reset.code)
	case ss.respPkt == 0:
		st.Kind = SetupUnanswered
		st.Summary = "Request never answered (" + plural(st.Retries, "retransmission") + ")"
	case cs.ackedResp == 0:
		st.Kind = SetupIncomplete
		st.Packets = append(st.Packets, ss.respPkt)
		st.Summary = "Response " + pkts(ss.respPkt) + " never acknowledged by the client"
	default:
		st.Kind = SetupHandshake
		st.Packets = append(st.Packets, ss.respPkt, cs.ackedResp)
		st.Summary = "Request, Response, Ack " + pkts(st.Packets...) + ", client " + c.c.Client
		if st.ServiceCode != nil {
			st.Summary += fmt.Sprintf(", service code %d", *st.ServiceCode)
		}
	}
	if st.Retries > 0 && st.Kind != SetupUnanswered {
		st.Summary += " after " + plural(st.Retries, "Request retransmission")
	}
	return st
}

func (c *dccpConn) ending() Ending {
	r := c.reset
	switch {
	case c.refused || r == nil && c.s[c.client].reqCount > 0 && c.s[1-c.client].respPkt == 0:
		e := Ending{Kind: EndNeverEstablished, Packets: []int{}, Summary: "never established"}
		if r != nil {
			e.By, e.ResetCode, e.Packets = c.name(r.by), r.code.String(), []int{r.pkt}
		}
		return e
	case r != nil && r.answered != 0 && r.code == wire.DCCPResetClosed:
		closer := 1 - r.by
		// Clean unless the Reset cut off data still in flight.
		e := Ending{Kind: EndClose, By: c.name(closer), ResetCode: r.code.String(), Clean: len(c.findings) == 0}
		if q := c.s[r.by].closeReqPkt; q != 0 && q < r.answered {
			e.Packets = []int{q, r.answered, r.pkt}
			e.Summary = fmt.Sprintf("%s's CloseReq %s, %s's Close %s, Reset (Closed) %s", c.name(r.by), pkts(q),
				c.name(closer), pkts(r.answered), pkts(r.pkt))
		} else {
			e.Packets = []int{r.answered, r.pkt}
			e.Summary = fmt.Sprintf("Close from %s %s answered by Reset (Closed) %s", e.By, pkts(r.answered), pkts(r.pkt))
		}
		return e
	case r != nil:
		e := Ending{Kind: EndReset, By: c.name(r.by), ResetCode: r.code.String(), Packets: []int{r.pkt}}
		e.Summary = fmt.Sprintf("Reset from %s %s, code %d (%v)", e.By, pkts(r.pkt), r.code, r.code)
		if r.answered != 0 {
			e.Packets = []int{r.answered, r.pkt}
			e.Summary += " answering " + c.name(1-r.by) + "'s Close " + pkts(r.answered)
		}
		return e
	case c.lastClose >= 0:
		s := &c.s[c.lastClose]
		return Ending{Kind: EndClosing, By: c.name(c.lastClose), Packets: append([]int(nil), s.closePkts...),
			Summary: c.name(c.lastClose) + " sent Close/CloseReq " + pkts(s.closePkts...) + ", never answered by a Reset"}
	}
	return Ending{Kind: EndOpen, Packets: []int{},
		Summary: "no Close or Reset: still open (or silently timed out) when the capture ended, last packet " + pkts(c.c.LastPacket)}
}
