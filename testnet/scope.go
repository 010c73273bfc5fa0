package testnet

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
)

// scope is which segments the TCP-level faults of a direction take: the
// conditions of AfterConnections, Toxicity, AfterBytes and Between, all
// of which must hold.
type scope struct {
	afterConns  int           // skip the link's first afterConns connections
	toxicity    float64       // each connection with this probability (0: all)
	afterBytes  int64         // from this offset of the sender's stream on
	from, until time.Duration // on the network's clock; until 0: no end
}

// scoped is a fault that applies faults, the TCP-level ones, within the
// scope set says; they replace the TCP-level faults given before it.
func scoped(faults []Fault, set func(*scope)) Fault {
	return faultFunc(func(d *dirSpec) {
		scratch := dirSpec{cfg: d.cfg}
		scratch.cfg.Latency, scratch.cfg.Jitter = -1, -1 // to see whether Latency or Jitter set them
		for _, f := range faults {
			f.apply(&scratch)
		}
		extra, jitter := max(scratch.cfg.Latency, 0), max(scratch.cfg.Jitter, 0)
		scratch.cfg.Latency, scratch.cfg.Jitter = d.cfg.Latency, d.cfg.Jitter
		if scratch.cfg != d.cfg || scratch.filter.ge != nil || len(scratch.windows) > 0 {
			panic("testnet: AfterConnections, Toxicity and AfterBytes scope only Latency, Jitter and the faults that look into TCP segments (DelayFIN, DropFIN, DropHandshakeACK, ResetAfter, Timeout, LimitData, Slicer)")
		}
		f := scratch.filter
		f.delay, f.jitter = extra, jitter
		f.ge = d.filter.ge // burst loss stays link-wide
		set(&f.scope)
		d.filter = f
	})
}

// AfterBytes applies faults to each TCP connection once n bytes of its
// stream crossed the link that way: to the segments from stream offset n
// on (by sequence number, so retransmissions count once). It scopes the
// faults AfterConnections does.
func AfterBytes(n int64, faults ...Fault) Fault {
	return scoped(faults, func(s *scope) { s.afterBytes = n })
}

// Between applies faults from the network's time start until end (0: no
// end), measured from New on the network's clock (virtual in a bubble).
// Unlike the other scopes it takes every fault: those netsim models
// (Latency, Loss, Rate...) change the link's configuration at start and
// end, the TCP-level ones look at the time of each segment. The TCP-level
// ones replace those given before it; the others add to the link's
// configuration while the window is open.
func Between(start, end time.Duration, faults ...Fault) Fault {
	return faultFunc(func(d *dirSpec) {
		scratch := dirSpec{cfg: d.cfg}
		for _, f := range faults {
			f.apply(&scratch)
		}
		if scratch.filter.ge != nil || len(scratch.windows) > 0 {
			panic("testnet: Between takes no GilbertElliott and no nested Between")
		}
		if scratch.cfg != d.cfg {
			d.windows = append(d.windows, cfgWindow{start, end, faults})
		}
		if f := scratch.filter; f.active() {
			f.ge = d.filter.ge
			f.from, f.until = start, end
			d.filter = f
		}
	})
}

// At applies faults from the network's time t on: Between(t, 0, ...).
func At(t time.Duration, faults ...Fault) Fault { return Between(t, 0, faults...) }

// Until applies faults from now until the network's time t:
// Between(0, t, ...).
func Until(t time.Duration, faults ...Fault) Fault { return Between(0, t, faults...) }

// Upstream applies faults to the direction from Link's first host to its
// second only (OneWay; toxiproxy's upstream when the first is the client).
func Upstream(faults ...Fault) Fault { return oneWay(faults) }

// Downstream applies faults to the direction from Link's second host to
// its first only (toxiproxy's downstream, the default of its toxics).
func Downstream(faults ...Fault) Fault { return backWay(faults) }

type backWay []Fault

func (backWay) apply(*dirSpec) {} // applied by Link to one direction

// cfgWindow is netsim faults that hold between two times.
type cfgWindow struct {
	from, until time.Duration
	faults      []Fault
}

func (w cfgWindow) open(t time.Duration) bool { return t >= w.from && (w.until == 0 || t < w.until) }

func (w cfgWindow) String() string {
	d := dirSpec{}
	for _, f := range w.faults {
		f.apply(&d)
	}
	return fmt.Sprintf("[%v, %v): %v", w.from, w.until, d)
}

// cfgAt is a direction's netsim configuration at the network's time t.
func (d dirSpec) cfgAt(t time.Duration) netsim.LinkConfig {
	c := d.cfg
	for _, w := range d.windows {
		if w.open(t) {
			s := dirSpec{cfg: c}
			for _, f := range w.faults {
				f.apply(&s)
			}
			c = s.cfg
		}
	}
	return c
}

// origin is the instant of the network's time 0.
func (n *Network) origin() clock.Instant {
	if n.virtual {
		return netsim.Epoch
	}
	return clock.Instant(n.start.UnixNano())
}

// elapsed is the network's time.
func (n *Network) elapsed() time.Duration { return n.run.Now().Sub(n.origin()) }

// setLinkConfig gives the link between a and b its netsim configuration
// and arms a timer for each window edge to come; on the driver's
// goroutine. A later Link (gen) stops the timers of this one.
func (n *Network) setLinkConfig(a, b *Host, ab, ba dirSpec, gen int) {
	l, err := n.sim.LinkBetween(a.sim, b.sim)
	if err != nil {
		panic(err) // every pair is linked by Host
	}
	set := func() {
		t := n.elapsed()
		if x, _ := l.Ends(); x == netsim.Node(a.sim) {
			l.SetConfig(netsim.AtoB, ab.cfgAt(t))
			l.SetConfig(netsim.BtoA, ba.cfgAt(t))
		} else {
			l.SetConfig(netsim.AtoB, ba.cfgAt(t))
			l.SetConfig(netsim.BtoA, ab.cfgAt(t))
		}
	}
	set()
	now := n.elapsed()
	for _, w := range append(append([]cfgWindow(nil), ab.windows...), ba.windows...) {
		for _, edge := range []time.Duration{w.from, w.until} {
			if edge <= now {
				continue
			}
			tm := n.run.Clock().NewTimer(func() {
				n.mu.Lock()
				current := n.pairOf(a, b).linkGen == gen
				if current {
					n.event("link %s-%s: window %v %s", a, b, w, map[bool]string{true: "opens", false: "closes"}[edge == w.from])
				}
				n.mu.Unlock()
				if current {
					set()
				}
			})
			tm.Reset(n.origin().Add(edge))
		}
	}
}

// inScope reports whether the direction's TCP-level faults take seg, of
// connection key; n.mu held.
func (n *Network) inScope(p *pair, d *pairDir, key [2]netip.AddrPort, seg wire.TCP) bool {
	s := d.spec.scope
	if s.afterConns > 0 && p.connNumber(key) <= s.afterConns {
		return false // AfterConnections: not this one yet
	}
	if s.toxicity > 0 && !d.toxic(n, p.connNumber(key), s.toxicity) {
		return false // Toxicity: spared
	}
	if s.afterBytes > 0 {
		start, ok := d.start[key]
		if !ok || int64(seg.Seq().Sub(start)) < s.afterBytes {
			return false // AfterBytes: not so far yet
		}
	}
	if s.from > 0 || s.until > 0 {
		if t := n.elapsed(); t < s.from || s.until > 0 && t >= s.until {
			return false // Between: outside the window
		}
	}
	return true
}

// tcpKey is a segment's sender and receiver.
func tcpKey(ip wire.IPPacket, seg wire.TCP) [2]netip.AddrPort {
	return [2]netip.AddrPort{netip.AddrPortFrom(ip.Src, seg.SrcPort()), netip.AddrPortFrom(ip.Dst, seg.DstPort())}
}
