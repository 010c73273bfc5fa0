package dccp

import (
	"slices"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Listener plays the LISTEN state (§8.5 step 3) for one port: it turns
// valid Requests into server Conns and answers the rest with Resets.
type Listener struct {
	// ServiceCodes are the service codes accepted (§8.1.2); a Request
	// for another draws Reset(Bad Service Code). Empty accepts any.
	ServiceCodes []uint32
	// Backlog bounds the connections not yet accepted; beyond it a
	// Request draws Reset(Too Busy), as Linux answers (docs/peer-facts.md).
	// Zero or less means 16; the host passes its user's value through,
	// so that the default lives here only.
	Backlog int
	// Config is the template of every Conn the Listener creates; its ISS
	// is replaced by the one passed to HandlePacket.
	Config Config
}

// HandlePacket processes a packet for which no connection exists on a
// listening port. pending is how many connections wait to be accepted.
// It returns either a new Conn in RESPOND (whose Response NextPacket
// yields) or, when reply is true, the Reset to send.
func (l *Listener) HandlePacket(now clock.Instant, p *Packet, iss seqnum.V48, pending int) (c *Conn, r Packet, reply bool) {
	if p.Type != wire.DCCPRequest {
		r, reply = ResetFor(p, wire.DCCPResetNoConnection)
		return nil, r, reply
	}
	if len(l.ServiceCodes) > 0 && !slices.Contains(l.ServiceCodes, p.ServiceCode) {
		r, reply = ResetFor(p, wire.DCCPResetBadServiceCode)
		return nil, r, reply
	}
	backlog := l.Backlog
	if backlog <= 0 {
		backlog = 16
	}
	if pending >= backlog {
		r, reply = ResetFor(p, wire.DCCPResetTooBusy)
		return nil, r, reply
	}
	if p.Options.Err != 0 {
		r, reply = ResetFor(p, p.Options.Err)
		return nil, r, reply
	}
	cfg := l.Config
	cfg.ISS = iss
	c = newServer(now, cfg, p)
	if code := c.feat.process(&p.Options, &c.counters); code != 0 {
		r, reply = ResetFor(p, code)
		return nil, r, reply
	}
	if c.feat.remote[wire.DCCPFeatCCID] == 3 {
		c.feat.askNDPCount()
	}
	return c, Packet{}, false
}
