package testnet

import (
	"net/netip"
	"sync/atomic"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
)

// hostLink is a host's interface: the Runner's endpoint for its netsim
// host, with the faults netsim does not model applied to what the host
// sends (filterSpec) and a crashed host cut off both ways.
type hostLink struct {
	h     *Host
	inner link.Endpoint
	recv  atomic.Pointer[link.Receiver] // the stack, for packets to itself
}

func (e *hostLink) MTU() int     { return e.inner.MTU() }
func (e *hostLink) Close() error { return e.inner.Close() }

func (e *hostLink) Attach(r link.Receiver) {
	if r == nil {
		e.recv.Store(nil)
		e.inner.Attach(nil)
		return
	}
	e.recv.Store(&r)
	e.inner.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		if e.h.crashed.Load() {
			return
		}
		if g := e.h.n.gate; g != nil {
			g.do(func() { r.DeliverPackets(pkts) })
			return
		}
		r.DeliverPackets(pkts)
	}))
}

// toSelf reports whether any packet is addressed to the host itself.
func (e *hostLink) toSelf(pkts [][]byte) bool {
	for _, p := range pkts {
		if dst, ok := dstOf(p); ok && (dst == e.h.v4 || dst == e.h.v6) {
			return true
		}
	}
	return false
}

// loopback hands a packet the host sent to itself back to its stack, on
// the driver's goroutine at the same virtual instant, as a loopback
// interface would; the network (and its capture) never sees it.
func (e *hostLink) loopback(p []byte) bool {
	if dst, ok := dstOf(p); !ok || dst != e.h.v4 && dst != e.h.v6 {
		return false
	}
	cp := append([]byte(nil), p...)
	run := e.h.n.run
	tm := run.Clock().NewTimer(func() {
		if r := e.recv.Load(); r != nil && !e.h.crashed.Load() {
			if g := e.h.n.gate; g != nil {
				g.do(func() { (*r).DeliverPackets([][]byte{cp}) })
				return
			}
			(*r).DeliverPackets([][]byte{cp})
		}
	})
	tm.Reset(run.Now())
	return true
}

// dstOf reads a packet's destination address.
func dstOf(p []byte) (netip.Addr, bool) {
	ip, err := wire.ParseIP(p)
	if err != nil {
		return netip.Addr{}, false
	}
	return ip.Dst.Unmap(), true
}

// injection is a packet the network forges, sent from host via's side.
type injection struct {
	via *Host
	pkt []byte
}

func (e *hostLink) WritePackets(pkts [][]byte) (int, error) {
	n := e.h.n
	if e.h.crashed.Load() {
		return len(pkts), nil // gone: as if written, never seen again (not even by a capture)
	}
	if !n.faulty.Load() && !e.toSelf(pkts) {
		return e.inner.WritePackets(pkts)
	}
	keep := make([][]byte, 0, len(pkts))
	var inject []injection
	n.mu.Lock()
	for _, p := range pkts {
		if e.loopback(p) {
			continue
		}
		switch n.filter(e.h, p, &inject) {
		case pass:
			keep = append(keep, p)
		case drop:
			n.captureDropped(p)
		}
	}
	n.mu.Unlock()
	if len(keep) > 0 {
		if _, err := e.inner.WritePackets(keep); err != nil {
			return 0, err
		}
	}
	for _, in := range inject {
		in.via.link.inner.WritePackets([][]byte{in.pkt}) //nolint:errcheck // a lost forgery is a lost packet
	}
	return len(pkts), nil
}

// verdict is what filter does with a packet.
type verdict uint8

const (
	pass verdict = iota // on to the network
	drop                // gone; in the capture at the time it was sent
	hold                // kept by a jam; in the capture when the jam releases it
)

// pair is the fault state of the link between two hosts.
type pair struct {
	lo, hi  *Host
	up      pairDir                   // lo to hi
	down    pairDir                   // hi to lo
	conns   int                       // TCP connections opened across the link
	linkGen int                       // Link calls, so that an old Link's windows stop
	connNo  map[[2]netip.AddrPort]int // each one's number, keyed as its SYN was
}

// connNumber returns the number of the connection key belongs to (either
// way round), 0 if its SYN was not seen.
func (p *pair) connNumber(key [2]netip.AddrPort) int {
	if c, ok := p.connNo[key]; ok {
		return c
	}
	return p.connNo[[2]netip.AddrPort{key[1], key[0]}]
}

// pairDir is the state of one direction: its faults and what they track
// per connection (keyed by the sender's address and port, then the
// receiver's).
type pairDir struct {
	spec     filterSpec
	jammed   bool
	held     [][]byte                         // packets a jam holds, in the order they were sent
	awaitACK map[[2]netip.AddrPort]bool       // a SYN-ACK crossed the other way
	start    map[[2]netip.AddrPort]seqnum.V32 // first sequence number of data
	reset    map[[2]netip.AddrPort]bool       // ResetAfter fired
	affected map[int]bool                     // Toxicity's draw per connection number
	flows    map[[2]netip.AddrPort]*flow      // what the toxics track per connection (toxic.go)
}

func (n *Network) pairOf(a, b *Host) *pair {
	lo, hi := a, b
	if lo.index > hi.index {
		lo, hi = hi, lo
	}
	key := [2]*Host{lo, hi}
	p := n.pairs[key]
	if p == nil {
		p = &pair{lo: lo, hi: hi}
		for _, d := range []*pairDir{&p.up, &p.down} {
			d.awaitACK = make(map[[2]netip.AddrPort]bool)
			d.start = make(map[[2]netip.AddrPort]seqnum.V32)
			d.reset = make(map[[2]netip.AddrPort]bool)
		}
		p.connNo = make(map[[2]netip.AddrPort]int)
		n.pairs[key] = p
	}
	return p
}

func (p *pair) dir(from, to *Host) *pairDir {
	if from == p.lo {
		return &p.up
	}
	return &p.down
}

// toxic reports whether Toxicity picked connection number c, drawing
// once per connection; n.mu held. Connections whose SYN was not seen (0)
// are spared.
func (d *pairDir) toxic(n *Network, c int, p float64) bool {
	if c == 0 {
		return false
	}
	if d.affected == nil {
		d.affected = make(map[int]bool)
	}
	hit, ok := d.affected[c]
	if !ok {
		hit = n.rng.Float64() < p
		d.affected[c] = hit
	}
	return hit
}

// hostOfLocked is hostOf with n.mu held.
func (n *Network) hostOfLocked(a netip.Addr) *Host {
	a = a.Unmap()
	for _, h := range n.hosts {
		if h.v4 == a || h.v6 == a {
			return h
		}
	}
	return nil
}

// filter decides whether pkt, sent by from, goes on, is dropped or is
// held; n.mu held. Packets it forges in answer are appended to inject.
func (n *Network) filter(from *Host, pkt []byte, inject *[]injection) verdict {
	ip, err := wire.ParseIP(pkt)
	if err != nil {
		return pass
	}
	to := n.hostOfLocked(ip.Dst)
	if to == nil || to == from {
		return pass
	}
	p := n.pairOf(from, to)
	d := p.dir(from, to)
	if d.jammed {
		d.held = append(d.held, append([]byte(nil), pkt...))
		return hold
	}
	if ge := d.spec.ge; ge != nil && ge.drop(n) {
		n.event("%s->%s: packet lost in a %s burst (GilbertElliott)", from, to, map[bool]string{true: "bad", false: "good"}[ge.bad])
		return drop
	}
	if ip.Protocol != wire.IPProtoTCP {
		return pass
	}
	seg, err := wire.ParseTCP(ip.Payload)
	if err != nil {
		return pass
	}
	v := n.tcpFaults(from, to, p, ip, seg, pkt, inject)
	if v == pass {
		d.flow(tcpKey(ip, seg)).crossed(seg)
	}
	return v
}

// tcpFaults is filter's part for the faults that read TCP segments; n.mu
// held.
func (n *Network) tcpFaults(from, to *Host, p *pair, ip wire.IPPacket, seg wire.TCP, pkt []byte, inject *[]injection) verdict {
	d := p.dir(from, to)
	key := tcpKey(ip, seg)
	f := seg.Flags()
	if f.Has(wire.SYN) {
		d.start[key] = seg.Seq().Add(1)
		if f.Has(wire.ACK) {
			p.dir(to, from).awaitACK[[2]netip.AddrPort{key[1], key[0]}] = true
		} else {
			delete(d.flows, key) // a new connection on an old pair of ports starts clean
			delete(p.dir(to, from).flows, [2]netip.AddrPort{key[1], key[0]})
		}
		if !f.Has(wire.ACK) && p.connNumber(key) == 0 {
			p.conns++
			p.connNo[key] = p.conns
		}
	}
	fl := d.flow(key)
	fl.sawSegment(seg)
	if !n.inScope(p, d, key, seg) {
		return pass
	}
	if v, done := n.toxics(from, to, p, d, fl, key, seg, ip, inject); done {
		return v
	}
	if f.Has(wire.FIN) && d.spec.delayFIN > 0 {
		cp, via := append([]byte(nil), pkt...), from
		tm := n.run.Clock().NewTimer(func() {
			via.link.inner.WritePackets([][]byte{cp}) //nolint:errcheck // a lost packet is a lost packet
		})
		tm.Reset(n.run.Now().Add(d.spec.delayFIN))
		n.event("%s->%s: FIN seq=%d held %v (DelayFIN)", from, to, seg.Seq(), d.spec.delayFIN)
		return hold
	}
	if f.Has(wire.FIN) && d.spec.dropFIN != 0 {
		if d.spec.dropFIN > 0 {
			d.spec.dropFIN--
		}
		n.event("%s->%s: dropped FIN seq=%d (DropFIN)", from, to, seg.Seq())
		return drop
	}
	if f.Has(wire.ACK) && f&(wire.SYN|wire.FIN|wire.RST) == 0 && d.awaitACK[key] {
		delete(d.awaitACK, key)
		if d.spec.dropHandshakeACK != 0 {
			if d.spec.dropHandshakeACK > 0 {
				d.spec.dropHandshakeACK--
			}
			n.event("%s->%s: dropped the ACK completing the handshake %s (DropHandshakeACK)", from, to, key[0])
			return drop
		}
	}
	if lim := d.spec.resetAfter; lim > 0 && len(seg.Payload()) > 0 && !d.reset[key] {
		if start, ok := d.start[key]; ok && int64(seg.Seq().Sub(start))+int64(len(seg.Payload())) > lim {
			d.reset[key] = true
			n.event("%s->%s: %d bytes crossed on %s: dropped the segment, RST to both ends (ResetAfter)", from, to, lim, key[0])
			*inject = append(*inject,
				injection{from, forgeRST(key[0], key[1], seg.Seq())},
				injection{to, forgeRST(key[1], key[0], seg.Ack())})
			return drop
		}
	}
	if d.spec.slice.size > 0 {
		return n.slice(from, to, d, fl, ip, seg, pkt)
	}
	if d.spec.delay > 0 || d.spec.jitter > 0 {
		n.sendAt(from, n.departure(d, fl), append([]byte(nil), pkt...))
		fl.crossed(seg)
		return hold
	}
	return pass
}

// forgeRST builds an RST from src to dst with sequence number seq: the
// receiver's next expected one, which RFC 9293 §3.10.7.4 (and RFC 5961
// §3.2) accept as an exact match.
func forgeRST(src, dst netip.AddrPort, seq seqnum.V32) []byte {
	h := wire.TCPHeader{SrcPort: src.Port(), DstPort: dst.Port(), Seq: seq, Flags: wire.RST}
	b := make([]byte, wire.TCPPacketLen(src.Addr(), &h, 0))
	n, err := wire.EncodeTCPPacket(b, src.Addr(), dst.Addr(), &h, nil)
	if err != nil {
		panic(err) // addresses of one family, a fixed small header
	}
	return b[:n]
}

// drop advances the chain one packet and reports whether it loses it.
func (g *gilbertElliott) drop(n *Network) bool {
	if g.bad {
		if n.rng.Float64() < g.r {
			g.bad = false
		}
	} else if n.rng.Float64() < g.p {
		g.bad = true
	}
	loss := g.lossGood
	if g.bad {
		loss = g.lossBad
	}
	return loss > 0 && n.rng.Float64() < loss
}
