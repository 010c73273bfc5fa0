package testnet

import (
	"fmt"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/netsim"
)

// Fault is one misbehaviour of a link, for Network.Link. Unless wrapped in
// OneWay, a fault applies to both directions.
type Fault interface{ apply(d *dirSpec) }

// dirSpec is what one direction of a link does: the part netsim models
// and the part the hosts' links (filter.go) add.
type dirSpec struct {
	cfg     netsim.LinkConfig
	filter  filterSpec
	windows []cfgWindow // netsim faults that Between turns on and off (scope.go)
}

// filterSpec is the faults netsim does not model: they need to look into
// TCP segments or keep state across packets.
type filterSpec struct {
	ge               *gilbertElliott
	dropFIN          int   // FINs still to drop; < 0 all
	dropHandshakeACK int   // handshake-completing ACKs still to drop; < 0 all
	resetAfter       int64 // payload bytes per connection before forged RSTs; 0 none
	delayFIN         time.Duration
	stall            bool          // Timeout: data and FINs stop
	stallFor         time.Duration // Timeout's d, then RSTs; 0 never
	limit            int64         // LimitData: bytes per connection, then cut and RSTs; 0 none
	slice            sliceSpec     // Slicer
	delay, jitter    time.Duration // Latency and Jitter in a scope: added to the picked connections
	scope                          // which connections, bytes and times the faults above take
}

func (f *filterSpec) active() bool {
	return f.ge != nil || f.dropFIN != 0 || f.dropHandshakeACK != 0 || f.resetAfter > 0 || f.delayFIN > 0 ||
		f.stall || f.limit > 0 || f.slice.size > 0 || f.delay > 0 || f.jitter > 0
}

type faultFunc func(d *dirSpec)

func (f faultFunc) apply(d *dirSpec) { f(d) }

// Latency sets the one-way delay of every packet (netem delay; toxiproxy
// latency). It replaces DefaultLatency.
func Latency(d time.Duration) Fault { return faultFunc(func(s *dirSpec) { s.cfg.Latency = d }) }

// Jitter adds a uniformly random extra delay in [0, d] to each packet
// (netem delay's jitter; toxiproxy latency's jitter). As on one real
// link, it never lets a packet overtake the one before it: use Reorder.
func Jitter(d time.Duration) Fault { return faultFunc(func(s *dirSpec) { s.cfg.Jitter = d }) }

// Rate limits the link to bitsPerSecond, packets waiting their turn in
// a queue of queuePackets (0: unbounded) beyond which they are dropped
// (netem rate and limit; toxiproxy bandwidth, which counts KB/s).
func Rate(bitsPerSecond int64, queuePackets int) Fault {
	return faultFunc(func(s *dirSpec) { s.cfg.Bandwidth, s.cfg.QueuePackets = bitsPerSecond, queuePackets })
}

// Loss drops each packet with probability p, independently (netem loss
// random).
func Loss(p float64) Fault { return faultFunc(func(s *dirSpec) { s.cfg.Loss = p }) }

// GilbertElliott drops packets in bursts: a two-state chain that moves
// from good to bad with probability p and back with r at each packet, and
// drops with probability lossBad in the bad state and lossGood in the good
// one (netem loss gemodel p r 1-h 1-k). The chain starts good.
func GilbertElliott(p, r, lossBad, lossGood float64) Fault {
	return faultFunc(func(s *dirSpec) {
		s.filter.ge = &gilbertElliott{p: p, r: r, lossBad: lossBad, lossGood: lossGood}
	})
}

// Duplicate delivers a second copy of each packet with probability p
// (netem duplicate).
func Duplicate(p float64) Fault { return faultFunc(func(s *dirSpec) { s.cfg.Duplicate = p }) }

// Reorder holds each packet back by gap with probability p, so that the
// packets sent after it overtake it (netem reorder with a delay).
func Reorder(p float64, gap time.Duration) Fault {
	return faultFunc(func(s *dirSpec) { s.cfg.Reorder, s.cfg.ReorderDelay = p, gap })
}

// Corrupt flips one random bit of each packet with probability p (netem
// corrupt); the receiving stack drops it on its checksum.
func Corrupt(p float64) Fault { return faultFunc(func(s *dirSpec) { s.cfg.Corrupt = p }) }

// PathMTU drops packets larger than n bytes on the link, silently: a path
// MTU black hole (the hosts' MTU stays what New says).
func PathMTU(n int) Fault { return faultFunc(func(s *dirSpec) { s.cfg.MTU = n }) }

// DropFIN drops the first n TCP segments carrying FIN that cross the link
// (n < 0: every one). The sender retransmits its FIN; with every FIN
// dropped the closing side never finishes.
func DropFIN(n int) Fault { return faultFunc(func(s *dirSpec) { s.filter.dropFIN = n }) }

// DelayFIN holds each TCP segment carrying FIN for d before it enters the
// link (toxiproxy slow_close): the peer learns of the close late, while
// the data before the FIN and everything else flow as usual. A held FIN
// enters the capture when it leaves.
func DelayFIN(d time.Duration) Fault { return faultFunc(func(s *dirSpec) { s.filter.delayFIN = d }) }

// DropHandshakeACK drops the first n segments that complete a three-way
// handshake (the client's first ACK after a SYN-ACK crossed the other
// way; n < 0: every one). The client believes it is connected; the
// server's side waits in SYN-RECEIVED and retransmits its SYN-ACK.
func DropHandshakeACK(n int) Fault {
	return faultFunc(func(s *dirSpec) { s.filter.dropHandshakeACK = n })
}

// ResetAfter lets each TCP connection carry n payload bytes across the
// link, then resets it from the middle of the network: the segment that
// would cross the limit is dropped and both ends receive an RST that looks
// like the other's (toxiproxy limit_data and reset_peer; a firewall
// killing a flow).
func ResetAfter(n int64) Fault { return faultFunc(func(s *dirSpec) { s.filter.resetAfter = n }) }

// AfterConnections applies faults only to the TCP connections opened
// across the link after the first n (counted by their SYNs, both ways,
// from the first Link call with such a fault on the network on):
// "the third connection loses its FIN". Only the faults that look into
// TCP segments can tell connections apart — DelayFIN, DropFIN,
// DropHandshakeACK, ResetAfter, Timeout, LimitData, Slicer — and Latency
// and Jitter, which in a scope add to the link's delay for the picked
// connections only (their segments held in the middle of the network, in
// order); Link fails the test for other faults. It replaces those faults
// given to Link before it. Scopes nest: AfterConnections(2, Toxicity(0.5, f)). For one
// direction, put it inside OneWay (or Upstream, Downstream).
func AfterConnections(n int, faults ...Fault) Fault {
	return scoped(faults, func(s *scope) { s.afterConns = n })
}

// Toxicity applies faults to each TCP connection across the link with
// probability p, drawn once per connection, at its SYN, from the network's
// seed (toxiproxy's toxicity). Like AfterConnections it scopes only the
// faults that look into TCP segments, and replaces those given before it.
func Toxicity(p float64, faults ...Fault) Fault {
	if !(p >= 0 && p <= 1) {
		return faultFunc(func(*dirSpec) { panic(fmt.Sprintf("testnet: Toxicity %v outside [0, 1]", p)) })
	}
	return scoped(faults, func(s *scope) { s.toxicity = p })
}

// OneWay applies faults to the direction from Link's first host to its
// second only.
func OneWay(faults ...Fault) Fault { return oneWay(faults) }

type oneWay []Fault

func (oneWay) apply(*dirSpec) {} // applied by Link to one direction

// Link sets the faults of the link between a and b, replacing what an
// earlier Link set: the link starts from DefaultLatency each way and
// applies faults in order. It takes effect for packets sent from now on.
func (n *Network) Link(a, b *Host, faults ...Fault) {
	n.t.Helper()
	if a == b || a == nil || b == nil || a.n != n || b.n != n {
		n.t.Fatalf("testnet: Link needs two distinct hosts of this network")
	}
	defer func() {
		if r := recover(); r != nil {
			n.t.Fatalf("%v", r) // a fault that cannot be: AfterConnections' panic
		}
	}()
	ab := dirSpec{cfg: netsim.LinkConfig{Latency: DefaultLatency}}
	ba := ab
	for _, f := range faults {
		switch ow := f.(type) {
		case oneWay:
			for _, g := range ow {
				g.apply(&ab)
			}
		case backWay:
			for _, g := range ow {
				g.apply(&ba)
			}
		default:
			f.apply(&ab)
			f.apply(&ba)
		}
	}
	if ab.filter.ge != nil && ab.filter.ge == ba.filter.ge {
		ge := *ab.filter.ge // each direction has its own chain
		ba.filter.ge = &ge
	}
	for _, c := range []netsim.LinkConfig{ab.cfg, ba.cfg} {
		for _, p := range []float64{c.Loss, c.Duplicate, c.Reorder, c.Corrupt} {
			if !(p >= 0 && p <= 1) {
				n.t.Fatalf("testnet: Link %s-%s: probability %v outside [0, 1]", a, b, p)
			}
		}
	}
	n.mu.Lock()
	p := n.pairOf(a, b)
	p.linkGen++
	gen := p.linkGen
	n.mu.Unlock()
	n.Do(func() { n.setLinkConfig(a, b, ab, ba, gen) })
	n.mu.Lock()
	p.dir(a, b).spec = ab.filter
	p.dir(b, a).spec = ba.filter
	for _, d := range []*pairDir{&p.up, &p.down} {
		for _, fl := range d.flows {
			fl.stallArmed = false // a new Timeout times from its own start
		}
	}
	if ab.filter.active() || ba.filter.active() {
		n.faulty.Store(true)
	}
	n.event("link %s-%s: %s", a, b, describe(ab, ba))
	n.mu.Unlock()
}

func describe(ab, ba dirSpec) string {
	x, y := ab.String(), ba.String()
	if x == y {
		return x
	}
	return "-> " + x + "; <- " + y
}

// String names a direction's faults in the words of their constructors.
func (d dirSpec) String() string {
	c, f := d.cfg, d.filter
	var parts []string
	add := func(on bool, format string, args ...any) {
		if on {
			parts = append(parts, fmt.Sprintf(format, args...))
		}
	}
	add(true, "Latency(%v)", c.Latency)
	add(c.Jitter > 0, "Jitter(%v)", c.Jitter)
	add(c.Bandwidth > 0, "Rate(%d, %d)", c.Bandwidth, c.QueuePackets)
	add(c.Loss > 0, "Loss(%v)", c.Loss)
	add(f.ge != nil, "GilbertElliott%v", f.ge)
	add(c.Duplicate > 0, "Duplicate(%v)", c.Duplicate)
	add(c.Reorder > 0, "Reorder(%v, %v)", c.Reorder, c.ReorderDelay)
	add(c.Corrupt > 0, "Corrupt(%v)", c.Corrupt)
	add(c.MTU > 0, "PathMTU(%d)", c.MTU)
	add(f.dropFIN != 0, "DropFIN(%d)", f.dropFIN)
	add(f.delayFIN > 0, "DelayFIN(%v)", f.delayFIN)
	add(f.dropHandshakeACK != 0, "DropHandshakeACK(%d)", f.dropHandshakeACK)
	add(f.resetAfter > 0, "ResetAfter(%d)", f.resetAfter)
	add(f.stall, "Timeout(%v)", f.stallFor)
	add(f.limit > 0, "LimitData(%d)", f.limit)
	add(f.delay > 0 || f.jitter > 0, "+Latency(%v) +Jitter(%v)", f.delay, f.jitter)
	add(f.slice.size > 0, "Slicer(%d, %d, %v)", f.slice.size, f.slice.variation, f.slice.delay)
	add(f.afterConns > 0, "after %d connections", f.afterConns)
	add(f.toxicity > 0, "toxicity %v", f.toxicity)
	add(f.afterBytes > 0, "after %d bytes", f.afterBytes)
	add(f.from > 0 || f.until > 0, "between %v and %v", f.from, f.until)
	for _, w := range d.windows {
		parts = append(parts, w.String())
	}
	return strings.Join(parts, " ")
}

// Partition cuts the link between a and b in both directions: packets
// offered to it are dropped (those already in flight arrive) until Heal.
func (n *Network) Partition(a, b *Host) { n.partition(a, b, netsim.Both, true) }

// PartitionOneWay cuts the link from a to b only.
func (n *Network) PartitionOneWay(from, to *Host) { n.partition(from, to, netsim.AtoB, true) }

// Heal ends Partition and PartitionOneWay between a and b.
func (n *Network) Heal(a, b *Host) { n.partition(a, b, netsim.Both, false) }

// Jam holds every packet sent between a and b, both ways, from now on
// until Release, which delivers them all, in the order they were sent:
// the third kind of partition, after the one that drops (Partition) and
// the one that slows (Link with a large Latency). What a jam holds enters
// the capture when Release lets it onto the link.
func (n *Network) Jam(a, b *Host) {
	n.mu.Lock()
	p := n.pairOf(a, b)
	p.dir(a, b).jammed, p.dir(b, a).jammed = true, true
	n.faulty.Store(true)
	n.event("link %s-%s jammed", a, b)
	n.mu.Unlock()
}

// Release ends a Jam: the held packets leave at once, each direction in
// order, and take the link's latency from now.
func (n *Network) Release(a, b *Host) {
	n.mu.Lock()
	p := n.pairOf(a, b)
	ab, ba := p.dir(a, b), p.dir(b, a)
	heldAB, heldBA := ab.held, ba.held
	ab.jammed, ba.jammed, ab.held, ba.held = false, false, nil, nil
	n.event("link %s-%s released: %d packets held %s->%s, %d %s->%s", a, b, len(heldAB), a, b, len(heldBA), b, a)
	n.mu.Unlock()
	if len(heldAB) > 0 {
		a.link.inner.WritePackets(heldAB) //nolint:errcheck // a lost packet is a lost packet
	}
	if len(heldBA) > 0 {
		b.link.inner.WritePackets(heldBA) //nolint:errcheck // as above
	}
}

func (n *Network) partition(a, b *Host, d netsim.Direction, down bool) {
	var err error
	n.Do(func() {
		if down {
			err = n.sim.SetLinkDown(a.sim, b.sim, d)
		} else {
			err = n.sim.SetLinkUp(a.sim, b.sim, d)
		}
	})
	if err != nil {
		n.t.Fatalf("testnet: %v", err)
	}
	n.mu.Lock()
	switch {
	case !down:
		n.event("link %s-%s healed", a, b)
	case d == netsim.Both:
		n.event("link %s-%s partitioned both ways", a, b)
	default:
		n.event("link %s->%s partitioned", a, b)
	}
	n.mu.Unlock()
}

// gilbertElliott is the state of a two-state burst-loss chain.
type gilbertElliott struct {
	p, r, lossBad, lossGood float64
	bad                     bool
}

func (g *gilbertElliott) String() string {
	return fmt.Sprintf("(%v, %v, %v, %v)", g.p, g.r, g.lossBad, g.lossGood)
}
