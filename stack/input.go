package stack

import (
	"errors"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// receiver is the stack as its link sees it: New attaches it, so that
// DeliverPackets, which only the link calls, stays off Stack's methods.
type receiver Stack

// DeliverPackets is link.Receiver's method.
func (r *receiver) DeliverPackets(pkts [][]byte) { (*Stack)(r).deliverPackets(pkts, false) }

// DeliverVerifiedPackets is link.VerifiedReceiver's method: the link
// vouches for the packets' TCP checksums.
func (r *receiver) DeliverVerifiedPackets(pkts [][]byte) { (*Stack)(r).deliverPackets(pkts, true) }

// deliverPackets parses each packet, drops (and counts) what is malformed
// or not for this host, and hands TCP and DCCP segments to their
// connection, to a listener, or answers them with a reset. verified: the
// link vouched for the TCP checksums.
func (s *Stack) deliverPackets(pkts [][]byte, verified bool) {
	s.pktsIn.Add(uint64(len(pkts)))
	var seg tcp.Segment
	for _, p := range pkts {
		ip, err := wire.ParseIP(p)
		if errors.Is(err, wire.ErrFragment) {
			ip, err = s.reassemble(p) // reasm4.go: the datagram once whole
		}
		if err != nil {
			switch {
			case errors.Is(err, errFragmentHeld):
			case errors.Is(err, wire.ErrFragment):
				s.drop(dropFragment)
			default:
				s.drop(dropBadIP)
			}
			continue
		}
		if !s.hasAddr(ip.Dst) {
			s.drop(dropNotOurs)
			continue
		}
		if r, bad := s.badSource(ip.Src); bad {
			s.drop(r)
			continue
		}
		switch ip.Protocol {
		case wire.IPProtoTCP:
			s.deliverTCP(&ip, &seg, verified)
		case wire.IPProtoDCCP:
			s.deliverDCCP(&ip)
		case wire.IPProtoICMP, wire.IPProtoICMPv6:
			s.deliverICMP(&ip) // icmp.go
		default:
			s.drop(dropUnknownProto)
		}
	}
}

// deliverTCP handles one TCP segment: RFC 9293 §3.10.7's dispatch on the
// connection's state begins here, at "which connection". A verified
// segment's checksum is not checked again, neither here nor by the
// goroutine that runs it from a connection's deferred queue.
func (s *Stack) deliverTCP(ip *wire.IPPacket, seg *tcp.Segment, verified bool) {
	t, err := wire.ParseTCP(ip.Payload)
	if err != nil {
		s.drop(dropBadTCP)
		return
	}
	tuple := fourTuple{
		local:  netip.AddrPortFrom(ip.Dst.Unmap(), t.DstPort()),
		remote: netip.AddrPortFrom(ip.Src.Unmap(), t.SrcPort()),
	}
	// A segment of a connection needs the listener only if it is a SYN
	// (reincarnate): the others take no lock but their shard's.
	ep := s.conns.get(tuple)
	var l *TCPListener
	land := false
	if ep == nil || t.Flags().Has(wire.SYN) {
		s.mu.RLock()
		l = s.listenerFor(tuple.local)
		land = ep == nil && s.landTCP(tuple)
		s.mu.RUnlock()
	}
	if land {
		s.drop(dropSrcOwn)
		return
	}
	if ep != nil && ep.deferPacket(ip.Src, ip.Dst, ip.Payload, tcpDeferClass(len(t.Payload()), t.Flags().Has(wire.SYN)), verified) {
		return // the connection's reader verifies and processes it
	}
	if !verified && !s.tcpChecksumOK(ip.Src, ip.Dst, t) || !s.decodeTCP(t, seg) {
		return
	}
	if ep != nil {
		if iss, ok := ep.reincarnate(seg, l != nil); ok {
			l.handleSYN(tuple, seg, iss)
			return
		}
		if ep.handleSegment(seg) {
			return
		}
		// Retired since the lookup (TIME-WAIT ended, say): the segment
		// meets no connection, as it would have a moment later — a SYN
		// goes to the listener rather than to a core that has ended.
		s.mu.RLock()
		l = s.listenerFor(tuple.local)
		s.mu.RUnlock()
	}
	if l != nil {
		l.handleSegment(tuple, seg)
		return
	}
	s.sendRSTFor(tuple, seg)
}

// sendRSTFor answers a segment that reached no connection (RFC 9293
// §3.10.7.1): RST, unless the segment was itself an RST.
func (s *Stack) sendRSTFor(tuple fourTuple, seg *tcp.Segment) {
	rst, ok := tcp.RSTFor(seg)
	if !ok {
		return
	}
	s.rstNoConn.Add(1)
	s.sendSegment(tuple, &rst)
}
