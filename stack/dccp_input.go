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
	d, err := wire.ParseDCCP(ip.Payload)
	if err != nil {
		s.dccp.count(&s.dccp.badHeader)
		return
	}
	if d.VerifyChecksum(ip.Src, ip.Dst) != nil {
		s.dccp.count(&s.dccp.badChecksum)
		return
	}
	var p dccp.Packet
	p.Decode(d)
	tuple := fourTuple{
		local:  netip.AddrPortFrom(ip.Dst.Unmap(), d.DstPort()),
		remote: netip.AddrPortFrom(ip.Src.Unmap(), d.SrcPort()),
	}
	t := &s.dccp
	t.mu.Lock()
	c := t.conns[tuple]
	l := t.listeners[tuple.local.Port()]
	t.mu.Unlock()
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

// sendDCCPPacket encodes and writes one packet outside any connection. It
// allocates: this is not the data path.
func (s *Stack) sendDCCPPacket(tuple fourTuple, p *dccp.Packet) {
	h := p.Header(tuple.local.Port(), tuple.remote.Port())
	h.Options = p.AppendOptions(nil)
	buf := make([]byte, wire.DCCPPacketLen(tuple.local.Addr(), &h, len(p.Payload)))
	n, err := wire.EncodeDCCPPacket(buf, tuple.local.Addr(), tuple.remote.Addr(), &h, p.Payload)
	if err != nil {
		s.txEncodeFailed.Add(1)
		return
	}
	s.pktsOut.Add(1)
	s.link.WritePackets([][]byte{buf[:n]}) //nolint:errcheck // a lost Reset is like a lost packet
}
