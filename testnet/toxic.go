package testnet

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Toxiproxy's toxics that cut or stop a connection's bytes, done to
// segments in the middle of the network: the hosts' stacks are real, so
// what a proxy does by closing its sockets happens here as dropped,
// rebuilt or forged segments, all of which the capture shows.

// Timeout stops the data of each TCP connection across the link (toxiproxy
// timeout): from the first segment it sees of a connection, it drops the
// segments that carry data or a FIN, while the handshake and pure ACKs
// still cross, so the connection opens and then hangs, as behind
// toxiproxy, whose client side connects to the proxy. After d it resets
// the connection from the middle: an RST to each end, each with the
// sequence number its receiver expects. With d = 0 it drops for as long
// as the fault stays (a later Link without it lets the retransmissions
// through).
func Timeout(d time.Duration) Fault {
	return faultFunc(func(s *dirSpec) { s.filter.stall, s.filter.stallFor = true, d })
}

// LimitData lets n bytes of each TCP connection's stream cross the link,
// exactly, then resets the connection (toxiproxy limit_data, which closes
// it): the segment that crosses the limit is cut to fit, without its FIN,
// and an RST follows it to the receiver, another goes back to the sender.
// ResetAfter instead drops that segment whole.
func LimitData(n int64) Fault {
	return faultFunc(func(s *dirSpec) {
		if n <= 0 {
			panic(fmt.Sprintf("testnet: LimitData(%d): want a positive count", n))
		}
		s.filter.limit = n
	})
}

// Slicer cuts each TCP segment with more than size bytes of data into
// pieces of size ± variation bytes (drawn from the seed), leaving delay
// apart (toxiproxy slicer: average_size, size_variation, delay). It is a
// middlebox that resegments, not an MSS clamp: the sender's stack sent
// the whole segment (its counters say so), the link and the capture carry
// the pieces, each a valid segment with the original's options and its
// own sequence number, the FIN and PSH on the last; the receiver ACKs
// them as they come. Later segments of the connection wait for the last
// piece, so none overtakes another.
func Slicer(size, variation int, delay time.Duration) Fault {
	return faultFunc(func(s *dirSpec) {
		if size <= 0 || variation < 0 || variation >= size || delay < 0 {
			panic(fmt.Sprintf("testnet: Slicer(%d, %d, %v): want 0 <= variation < size, delay >= 0", size, variation, delay))
		}
		s.filter.slice = sliceSpec{size, variation, delay}
	})
}

type sliceSpec struct {
	size, variation int
	delay           time.Duration
}

// flow is what the toxics know of one direction of a connection.
type flow struct {
	lastAck    seqnum.V32 // the sender's next expected, as it last said
	ackOK      bool
	end        seqnum.V32 // end of what crossed: the receiver's next expected once it arrived
	endOK      bool
	stallArmed bool          // Timeout saw the connection
	cut        bool          // LimitData or Timeout reset it
	busy       clock.Instant // Slicer: when the last piece leaves
}

func (d *pairDir) flow(key [2]netip.AddrPort) *flow {
	if d.flows == nil {
		d.flows = make(map[[2]netip.AddrPort]*flow)
	}
	f := d.flows[key]
	if f == nil {
		f = &flow{}
		d.flows[key] = f
	}
	return f
}

// sawSegment notes the acknowledgment a segment carries.
func (f *flow) sawSegment(seg wire.TCP) {
	if a := seg.Ack(); seg.Flags().Has(wire.ACK) && (!f.ackOK || f.lastAck.LessThan(a)) {
		f.lastAck, f.ackOK = a, true
	}
}

// crossed notes a segment let through.
func (f *flow) crossed(seg wire.TCP) {
	e := seg.Seq().Add(seqnum.Size32(len(seg.Payload())))
	if fl := seg.Flags(); fl.Has(wire.SYN) || fl.Has(wire.FIN) {
		e = e.Add(1)
	}
	if !f.endOK || f.end.LessThan(e) {
		f.end, f.endOK = e, true
	}
}

// toxics applies Timeout and LimitData to seg; done says whether they
// decided its verdict. n.mu held.
func (n *Network) toxics(from, to *Host, p *pair, d *pairDir, fl *flow, key [2]netip.AddrPort, seg wire.TCP, ip wire.IPPacket, inject *[]injection) (verdict, bool) {
	if fl.cut {
		if carries := len(seg.Payload()) > 0 || seg.Flags().Has(wire.FIN); carries && (d.spec.limit > 0 || d.spec.stall) {
			return drop, true // what this middle box cut stays cut
		}
		return pass, false
	}
	carries := len(seg.Payload()) > 0 || seg.Flags().Has(wire.FIN)
	if d.spec.stall {
		if !fl.stallArmed {
			fl.stallArmed = true
			n.event("%s->%s: %s stalls: data and FINs dropped from now (Timeout(%v))", from, to, key[0], d.spec.stallFor)
			if d.spec.stallFor > 0 {
				n.armStallReset(from, to, p, key, seg)
			}
		}
		if carries {
			n.countLocked(fmt.Sprintf("%s->%s dropped (Timeout)", from, to))
			return drop, true
		}
	}
	if lim := d.spec.limit; lim > 0 && len(seg.Payload()) > 0 {
		start, ok := d.start[key]
		off := int64(seg.Seq().Sub(start))
		if !ok || off+int64(len(seg.Payload())) <= lim {
			return pass, false
		}
		fl.cut = true
		n.event("%s->%s: %d bytes crossed on %s: the rest cut, RST to both ends (LimitData)", from, to, lim, key[0])
		if keep := lim - off; keep > 0 {
			if cut := rebuild(ip, seg, 0, seg.Payload()[:keep], seg.Flags()&^wire.FIN); cut != nil {
				*inject = append(*inject, injection{from, cut})
			}
		}
		*inject = append(*inject,
			injection{from, forgeRST(key[0], key[1], start.Add(seqnum.Size32(lim)))},
			injection{to, forgeRST(key[1], key[0], seg.Ack())})
		return hold, true
	}
	return pass, false
}

// armStallReset arms Timeout's reset of connection key; n.mu held. When
// it fires, if the link was not set again and the connection is still
// there, it sends each end an RST with the sequence number it expects:
// for the receiver the end of what crossed to it, for the sender the
// later of what it acknowledged and what crossed back.
func (n *Network) armStallReset(from, to *Host, p *pair, key [2]netip.AddrPort, first wire.TCP) {
	gen, after := p.linkGen, p.dir(from, to).spec.stallFor
	fallback := first.Seq()
	tm := n.run.Clock().NewTimer(func() {
		n.mu.Lock()
		fl, back := p.dir(from, to).flow(key), p.dir(to, from).flow([2]netip.AddrPort{key[1], key[0]})
		if p.linkGen != gen || fl.cut {
			n.mu.Unlock()
			return
		}
		fl.cut, back.cut = true, true // one reset for both directions' Timeouts
		toTo, toFrom := fallback, fl.lastAck
		if fl.endOK {
			toTo = fl.end
		}
		if back.endOK && (!fl.ackOK || toFrom.LessThan(back.end)) {
			toFrom = back.end
		}
		n.event("%s->%s: %s timed out after %v: RST to both ends (Timeout)", from, to, key[0], after)
		n.mu.Unlock()
		from.link.inner.WritePackets([][]byte{forgeRST(key[0], key[1], toTo)}) //nolint:errcheck // a lost forgery is a lost packet
		to.link.inner.WritePackets([][]byte{forgeRST(key[1], key[0], toFrom)}) //nolint:errcheck // as above
	})
	tm.Reset(n.run.Now().Add(after))
}

// slice is Slicer's part of tcpFaults; n.mu held.
func (n *Network) slice(from, to *Host, d *pairDir, fl *flow, ip wire.IPPacket, seg wire.TCP, pkt []byte) verdict {
	now, s := n.run.Now(), d.spec.slice
	payload := seg.Payload()
	if len(payload) <= s.size && now > fl.busy && d.spec.delay == 0 && d.spec.jitter == 0 {
		return pass // nothing to cut, nothing pending to wait for
	}
	var pieces [][]byte
	for off := 0; off < len(payload); {
		size := s.size
		if s.variation > 0 {
			size += n.rng.IntN(2*s.variation+1) - s.variation
		}
		end := min(off+size, len(payload))
		flags := seg.Flags()
		if end < len(payload) {
			flags &^= wire.FIN | wire.PSH
		}
		piece := rebuild(ip, seg, off, payload[off:end], flags)
		if piece == nil {
			return pass // options it cannot read: let the segment go whole
		}
		pieces = append(pieces, piece)
		off = end
	}
	if len(pieces) == 0 {
		pieces = [][]byte{append([]byte(nil), pkt...)} // waits its turn, whole
	}
	at := n.departure(d, fl)
	for i, piece := range pieces {
		if i > 0 {
			at = at.Add(s.delay)
		}
		n.sendAt(from, at, piece)
	}
	fl.busy = at
	fl.crossed(seg)
	if len(pieces) > 1 {
		n.countLocked(fmt.Sprintf("%s->%s sliced into pieces (Slicer)", from, to))
	}
	return hold
}

// rebuild makes a segment like seg with payload, which starts off bytes
// into seg's, and flags; nil if seg's options do not parse.
func rebuild(ip wire.IPPacket, seg wire.TCP, off int, payload []byte, flags wire.TCPFlags) []byte {
	h := wire.TCPHeader{SrcPort: seg.SrcPort(), DstPort: seg.DstPort(), Seq: seg.Seq().Add(seqnum.Size32(off)),
		Ack: seg.Ack(), Flags: flags, Window: seg.Window(), Urgent: seg.Urgent()}
	if err := wire.ParseTCPOptions(seg.Options(), &h.Options); err != nil {
		return nil
	}
	b := make([]byte, wire.TCPPacketLen(ip.Src, &h, len(payload)))
	m, err := wire.EncodeTCPPacket(b, ip.Src, ip.Dst, &h, payload)
	if err != nil {
		return nil
	}
	return b[:m]
}

// countLocked adds one to a counter of the failure report.
func (n *Network) countLocked(what string) {
	n.countMu.Lock()
	n.counts[what]++
	n.countMu.Unlock()
}

// departure is when a segment the toxics hold leaves: after the scoped
// Latency and Jitter, and never before the connection's segment held
// before it (fl.busy, which the caller moves); n.mu held.
func (n *Network) departure(d *pairDir, fl *flow) clock.Instant {
	at := n.run.Now().Add(d.spec.delay)
	if j := d.spec.jitter; j > 0 {
		at = at.Add(time.Duration(n.rng.Int64N(int64(j) + 1)))
	}
	at = max(at, fl.busy)
	fl.busy = at
	return at
}

// sendAt puts pkt on the link from host from at the instant at.
func (n *Network) sendAt(from *Host, at clock.Instant, pkt []byte) {
	tm := n.run.Clock().NewTimer(func() {
		from.link.inner.WritePackets([][]byte{pkt}) //nolint:errcheck // a lost packet is a lost packet
	})
	tm.Reset(at)
}
