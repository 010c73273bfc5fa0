package stack

import (
	"net/netip"

	"github.com/teardown-lab/teardown/internal/dccp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// deliverDCCP handles one DCCP packet: RFC 4340 §8.5 step 1 (header and
// checksum checks, here and in internal/wire), then the demultiplexing to
// a connection, to a listener (step 3) or to Reset(No Connection) (step 2).
func (s *Stack) deliverDCCP(ip *wire.IPPacket) {
	var p dccp.Packet
	d, ok := s.decodeDCCP(ip.Src, ip.Dst, ip.Payload, &p)
	if !ok {
		return
	}
	tuple := fourTuple{
		local:  netip.AddrPortFrom(ip.Dst.Unmap(), d.DstPort()),
		remote: netip.AddrPortFrom(ip.Src.Unmap(), d.SrcPort()),
	}
	t := &s.dccp
	t.mu.Lock()
	c := t.conns[tuple]
	l := t.listeners[tuple.local.Port()]
	land := c == nil && s.landDCCP(tuple)
	t.mu.Unlock()
	if land {
		s.drop(dropSrcOwn)
		return
	}
	switch {
	case c != nil:
		c.handlePacket(&p)
	case l != nil:
		l.handlePacket(tuple, &p)
	default:
		s.sendDCCPReset(tuple, &p, wire.DCCPResetNoConnection)
	}
}

// sendDCCPReset answers a packet no connection takes with a Reset of the
// given code (never a Reset for a Reset, §8.5 step 2).
func (s *Stack) sendDCCPReset(tuple fourTuple, p *dccp.Packet, code wire.DCCPResetCode) {
	r, ok := dccp.ResetFor(p, code)
	if !ok {
		return
	}
	switch t := &s.dccp; code {
	case wire.DCCPResetNoConnection:
		t.count(&t.resetsNoConn)
	case wire.DCCPResetTooBusy:
		t.count(&t.tooBusy)
	case wire.DCCPResetBadServiceCode:
		t.count(&t.badService)
	}
	s.sendDCCPPacket(tuple, &r)
}
