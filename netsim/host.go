package netsim

import (
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pcap"
)

// defaultMTU is a host's MTU when neither SetMTU nor any of its links
// sets one: the largest IPv4 packet.
const defaultMTU = 65535

// Host is an end system on the simulated network. It implements
// link.Endpoint, so a stack can use it as its network interface.
//
// A host owns the addresses it was given, but it may send packets with
// any source address: a spoofer is simply a host whose packets carry
// other hosts' addresses. Packets are routed by destination address only.
type Host struct {
	node
	addrs   []netip.Addr
	mtu     int
	recv    link.Receiver
	closed  bool
	capture *pcap.Writer
	stats   HostStats
	batch   [][]byte // packets arriving together, reused between arrivals
}

var _ link.Endpoint = (*Host)(nil)

// AddHost adds a host that owns addrs. It panics if name is already used
// by another node.
func (s *Sim) AddHost(name string, addrs ...netip.Addr) *Host {
	s.checkName(name)
	h := &Host{addrs: append([]netip.Addr(nil), addrs...)}
	h.node = node{sim: s, name: name, host: h}
	s.hosts = append(s.hosts, h)
	s.topology++
	return h
}

func (s *Sim) checkName(name string) {
	for _, h := range s.hosts {
		if h.name == name {
			panic(fmt.Sprintf("netsim: node name %q used twice", name))
		}
	}
	for _, sw := range s.switches {
		if sw.name == name {
			panic(fmt.Sprintf("netsim: node name %q used twice", name))
		}
	}
}

// Addrs returns the addresses the host owns.
func (h *Host) Addrs() []netip.Addr { return append([]netip.Addr(nil), h.addrs...) }

// AddAddr gives the host another address.
func (h *Host) AddAddr(a netip.Addr) {
	h.addrs = append(h.addrs, a)
	h.sim.topology++
}

// Stats returns the host's counters.
func (h *Host) Stats() HostStats { return h.stats }

// SetMTU sets the MTU that the host's interface reports and enforces on
// WritePackets. Zero restores the default: the smallest MTU configured on
// the host's outgoing link directions, or 65535 if none is.
func (h *Host) SetMTU(n int) { h.mtu = n }

// MTU returns the largest packet WritePackets accepts.
func (h *Host) MTU() int {
	if h.mtu > 0 {
		return h.mtu
	}
	m := 0
	for _, d := range h.out {
		if d.cfg.MTU > 0 && (m == 0 || d.cfg.MTU < m) {
			m = d.cfg.MTU
		}
	}
	if m == 0 {
		return defaultMTU
	}
	return m
}

// Capture records what this host's interface sees, as tcpdump on it
// would: each packet it sends at the time of WritePackets, and each packet
// that arrives at the time of arrival (as it arrived, corruption included,
// whether or not a Receiver takes it). A nil w stops the capture.
func (h *Host) Capture(w *pcap.Writer) { h.capture = w }

// Attach sets the Receiver that arriving packets are handed to. It is
// called synchronously, inside the simulator's event at the arrival time,
// with the packets that arrive at this host at that same instant one
// after the other in the event queue (usually one), valid only during the
// call; it may send packets and arm timers.
func (h *Host) Attach(r link.Receiver) { h.recv = r }

// Close detaches the host: later WritePackets fail with link.ErrClosed and
// arriving packets are dropped. Closing twice is harmless.
func (h *Host) Close() error {
	h.closed = true
	h.recv = nil
	return nil
}

// WritePackets sends each packet toward the host owning its destination
// address, at the current virtual time. The packets are copied; the
// caller may reuse its buffers at once. A packet that nobody reachable
// owns, or without a readable destination, is counted and dropped, as an
// IP network would, and still counts as written.
func (h *Host) WritePackets(pkts [][]byte) (int, error) {
	mtu := h.MTU()
	for i, p := range pkts {
		if h.closed {
			return i, link.ErrClosed
		}
		if len(p) > mtu {
			return i, fmt.Errorf("%w: %d bytes, MTU %d", link.ErrTooBig, len(p), mtu)
		}
		h.stats.Sent++
		if h.capture != nil {
			h.capture.WritePacket(h.sim.now, p) //nolint:errcheck // see transmit
		}
		dst, ok := dstAddr(p)
		if !ok {
			h.stats.Malformed++
			h.sim.emit(Dropped, DropMalformed, &h.node, nil, p)
			continue
		}
		d := h.route(dst)
		if d == nil {
			h.stats.NoRoute++
			h.sim.emit(Dropped, DropNoRoute, &h.node, nil, p)
			continue
		}
		d.transmit(p, false)
	}
	return len(pkts), nil
}

// receive handles the arrival of pkt from direction d, together with the
// packets queued right behind it for the same host at the same instant:
// they are handed to the Receiver as one batch, as a real interface
// hands over what one interrupt found. Taking only consecutive events
// keeps the order of everything else in the queue.
func (h *Host) receive(d *linkDir, pkt []byte) {
	s := h.sim
	h.batch = append(h.batch[:0], pkt)
	h.arrived(d, pkt)
	for len(s.events) > 0 {
		e := &s.events[0]
		if e.timer != nil || e.at != s.now || s.flights[e.flight].dir.to != &h.node {
			break
		}
		next := s.events.pop() // e points into the heap: read the popped copy
		s.processed++
		d, buf := s.land(next.flight)
		h.batch = append(h.batch, buf)
		h.arrived(d, buf)
	}
	if h.recv != nil {
		h.stats.Received += uint64(len(h.batch))
		h.recv.DeliverPackets(h.batch)
	}
	for i, b := range h.batch {
		s.pool.put(b)
		h.batch[i] = nil
	}
}

// arrived records one arriving packet: capture, counters, observer.
func (h *Host) arrived(d *linkDir, pkt []byte) {
	s := h.sim
	if h.capture != nil {
		h.capture.WritePacket(s.now, pkt) //nolint:errcheck // see transmit
	}
	if h.recv == nil {
		h.stats.NoReceiver++
		s.emit(Dropped, DropNoReceiver, d.from, &h.node, pkt)
		return
	}
	s.emit(Delivered, NotDropped, d.from, &h.node, pkt)
}
