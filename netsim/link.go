package netsim

import (
	"fmt"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

// LinkConfig describes one direction of a link. The zero value is a clean
// link: lossless, instantaneous and of unlimited bandwidth.
type LinkConfig struct {
	// Latency is the propagation delay added to every packet.
	Latency time.Duration
	// Jitter adds a uniformly random extra delay in [0, Jitter] to each
	// packet. Jitter alone never reorders: a packet never arrives before
	// the one sent ahead of it on the same direction (it arrives at the
	// same instant instead), as on a real link.
	Jitter time.Duration
	// Bandwidth in bits per second; 0 means unlimited. A packet of n bytes
	// occupies the link for n*8/Bandwidth seconds and waits for the
	// packets ahead of it: it leaves at max(now, previous departure) +
	// n*8/Bandwidth.
	Bandwidth int64
	// QueuePackets and QueueBytes bound the packets waiting for the link
	// (accepted but whose serialization has not started); a packet that
	// would exceed either bound is dropped (tail drop). Zero means
	// unbounded. They only matter when Bandwidth is set.
	QueuePackets int
	QueueBytes   int
	// Loss is the probability that a packet is lost after serialization.
	Loss float64
	// Duplicate is the probability that a second, identical copy of the
	// packet arrives right after it.
	Duplicate float64
	// Reorder is the probability that a packet is held back by
	// ReorderDelay (1ms if zero), so that packets sent after it can
	// overtake it.
	Reorder      float64
	ReorderDelay time.Duration
	// Corrupt is the probability that one random bit of the packet is
	// flipped in transit.
	Corrupt float64
	// MTU drops packets larger than this many bytes; 0 means no limit.
	// Use it to model a path MTU black hole.
	MTU int
}

// Direction selects one or both directions of a link.
type Direction uint8

// The directions of a link between a and b.
const (
	Both Direction = iota // a to b and b to a
	AtoB                  // from a to b only
	BtoA                  // from b to a only
)

// Link is a bidirectional link between two nodes, made of two independent
// directions, each with its own configuration, queue, faults and counters.
type Link struct {
	a, b   *node
	ab, ba *linkDir
}

// interval is a half-open range of virtual time [from, until).
type interval struct{ from, until clock.Instant }

// linkDir is one direction of a link.
type linkDir struct {
	sim      *Sim
	from, to *node
	cfg      LinkConfig
	stats    LinkStats
	down     bool
	parts    []interval

	busyUntil   clock.Instant // when the last accepted packet finishes serializing
	lastArrival clock.Instant // arrival of the last in-order packet (FIFO floor)
	waiting     []waiter      // queued packets, oldest first, from waitHead
	waitHead    int
	waitBytes   int
}

// waiter is a packet accepted by a direction whose serialization starts at
// a later time.
type waiter struct {
	start clock.Instant
	size  int
}

// Connect links a and b with the same configuration in both directions.
func (s *Sim) Connect(a, b Node, cfg LinkConfig) *Link {
	return s.ConnectAsym(a, b, cfg, cfg)
}

// ConnectAsym links a and b with configuration ab from a to b and ba from
// b to a. It panics if a and b are the same node or belong to another Sim.
func (s *Sim) ConnectAsym(a, b Node, ab, ba LinkConfig) *Link {
	na, nb := a.base(), b.base()
	if na == nb || na.sim != s || nb.sim != s {
		panic("netsim: Connect needs two distinct nodes of this Sim")
	}
	l := &Link{
		a:  na,
		b:  nb,
		ab: &linkDir{sim: s, from: na, to: nb, cfg: ab},
		ba: &linkDir{sim: s, from: nb, to: na, cfg: ba},
	}
	na.out = append(na.out, l.ab)
	nb.out = append(nb.out, l.ba)
	s.links = append(s.links, l)
	s.topology++
	return l
}

// dirs returns the directions selected by d.
func (l *Link) dirs(d Direction) []*linkDir {
	switch d {
	case AtoB:
		return []*linkDir{l.ab}
	case BtoA:
		return []*linkDir{l.ba}
	}
	return []*linkDir{l.ab, l.ba}
}

// Stats returns the counters of the a-to-b and b-to-a directions.
func (l *Link) Stats() (ab, ba LinkStats) { return l.ab.stats, l.ba.stats }

// SetConfig replaces the configuration of the selected directions from
// now on; packets already in flight keep their arrival times.
func (l *Link) SetConfig(d Direction, cfg LinkConfig) {
	for _, ld := range l.dirs(d) {
		ld.cfg = cfg
	}
}

// SetDown makes the selected directions drop every packet offered to them
// until SetUp. Packets already in flight still arrive.
func (l *Link) SetDown(d Direction) {
	for _, ld := range l.dirs(d) {
		ld.down = true
	}
}

// SetUp ends a SetDown.
func (l *Link) SetUp(d Direction) {
	for _, ld := range l.dirs(d) {
		ld.down = false
	}
}

// Partition makes the selected directions drop every packet offered to
// them at a time t with from <= t < until (use clock.Never for a partition
// that never heals). Packets already in flight when the partition starts
// still arrive.
func (l *Link) Partition(from, until clock.Instant, d Direction) {
	for _, ld := range l.dirs(d) {
		ld.parts = append(ld.parts, interval{from, until})
	}
}

// blocked reports whether the direction drops everything at time now, and
// forgets partitions that are over.
func (d *linkDir) blocked(now clock.Instant) bool {
	if d.down {
		return true
	}
	hit := false
	keep := d.parts[:0]
	for _, p := range d.parts {
		if p.until <= now {
			continue
		}
		keep = append(keep, p)
		if p.from <= now {
			hit = true
		}
	}
	clear(d.parts[len(keep):])
	d.parts = keep
	return hit
}

// findLink returns the link between a and b and whether it runs from a to
// b (true) or was made as b-to-a.
func (s *Sim) findLink(a, b Node) (*Link, bool, error) {
	na, nb := a.base(), b.base()
	for _, l := range s.links {
		switch {
		case l.a == na && l.b == nb:
			return l, true, nil
		case l.a == nb && l.b == na:
			return l, false, nil
		}
	}
	return nil, false, fmt.Errorf("netsim: no link between %s and %s", na.name, nb.name)
}

// orient maps a Direction given relative to (a, b) onto a link that may
// have been made as (b, a).
func orient(d Direction, forward bool) Direction {
	if forward || d == Both {
		return d
	}
	if d == AtoB {
		return BtoA
	}
	return AtoB
}

// Partition drops the packets offered to the link between a and b at
// times in [from, until), in direction dir relative to (a, b).
func (s *Sim) Partition(a, b Node, from, until clock.Instant, dir Direction) error {
	l, fwd, err := s.findLink(a, b)
	if err != nil {
		return err
	}
	l.Partition(from, until, orient(dir, fwd))
	return nil
}

// SetLinkDown makes the link between a and b drop everything in direction
// dir (relative to (a, b)) until SetLinkUp.
func (s *Sim) SetLinkDown(a, b Node, dir Direction) error {
	l, fwd, err := s.findLink(a, b)
	if err != nil {
		return err
	}
	l.SetDown(orient(dir, fwd))
	return nil
}

// SetLinkUp ends SetLinkDown for direction dir (relative to (a, b)).
func (s *Sim) SetLinkUp(a, b Node, dir Direction) error {
	l, fwd, err := s.findLink(a, b)
	if err != nil {
		return err
	}
	l.SetUp(orient(dir, fwd))
	return nil
}

// Ends returns the two nodes of the link in the order it was made.
func (l *Link) Ends() (a, b Node) { return l.a.self(), l.b.self() }

// LinkBetween returns the link joining a and b, whichever order it was
// made in.
func (s *Sim) LinkBetween(a, b Node) (*Link, error) {
	l, _, err := s.findLink(a, b)
	return l, err
}

// Links returns the links in the order they were made.
func (s *Sim) Links() []*Link { return append([]*Link(nil), s.links...) }

// Hosts returns the hosts in the order they were added.
func (s *Sim) Hosts() []*Host { return append([]*Host(nil), s.hosts...) }

// Switches returns the switches in the order they were added.
func (s *Sim) Switches() []*Switch { return append([]*Switch(nil), s.switches...) }
