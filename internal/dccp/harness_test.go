package dccp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// t0 is the start of protocol time in the tests.
const t0 = clock.Instant(1_700_000_000_000_000_000)

// clonePacket deep-copies a packet, as a link boundary does.
func clonePacket(p *Packet) Packet {
	q := *p
	q.Payload = append([]byte(nil), p.Payload...)
	q.Options.AckVector = append([]byte(nil), p.Options.AckVector...)
	q.Options.DataDropped = append([]byte(nil), p.Options.DataDropped...)
	q.Options.InitCookie = append([]byte(nil), p.Options.InitCookie...)
	for i := range q.Options.NCCID {
		q.Options.CCID[i].Data = append([]byte(nil), p.Options.CCID[i].Data...)
	}
	return q
}

// flight is a packet on the in-test wire.
type flight struct {
	at   clock.Instant
	to   int // 0 client, 1 server
	p    Packet
	seqn int
}

// action is an application call scheduled at a protocol time.
type action struct {
	at clock.Instant
	f  func(now clock.Instant)
}

// pair is two Conns joined by an in-test wire with a fixed one-way delay
// and optional per-packet faults. Side 0 is the client, 1 the server.
type pair struct {
	t       testing.TB
	now     clock.Instant
	conn    [2]*Conn
	lst     *Listener
	delay   time.Duration
	flights []flight
	actions []action
	log     []string
	n       int
	// fault, if set, decides the fate of each packet: drop it, or add
	// extra delay, or duplicate it.
	fault func(from int, p *Packet) (drop bool, extra time.Duration, dup bool)
	// trace lines of state changes, "side: FROM->TO (why)".
	states []string
}

var sideName = [2]string{"client", "server"}

func newPair(t testing.TB, b profile.Profile, delay time.Duration, mod func(*Config)) *pair {
	pr := &pair{t: t, now: t0, delay: delay}
	mk := func(side int, iss seqnum.V48) Config {
		cfg := Config{Profile: b, ISS: iss, ServiceCode: 42, NewCCID: NoCCID, RecordStates: true}
		if mod != nil {
			mod(&cfg)
		}
		return cfg
	}
	pr.lst = &Listener{ServiceCodes: []uint32{42}, Config: mk(1, 0)}
	pr.conn[0] = NewClient(pr.now, mk(0, 1000))
	pr.takeStates()
	return pr
}

// takeStates moves the state changes of both Conns into pr.states. The
// pair takes them after every call into a Conn, so that they keep the
// order in which they happened.
func (pr *pair) takeStates() {
	for side, c := range pr.conn {
		if c == nil {
			continue
		}
		for _, sc := range c.TakeStateChanges(nil) {
			pr.states = append(pr.states, fmt.Sprintf("%s %v->%v (%s)", sideName[side], sc.From, sc.To, sc.Why))
		}
	}
}

// at schedules an application action.
func (pr *pair) at(d time.Duration, f func(now clock.Instant)) {
	pr.actions = append(pr.actions, action{at: t0.Add(d), f: f})
}

// pump moves every packet both Conns owe onto the wire.
func (pr *pair) pump() {
	for side, c := range pr.conn {
		if c == nil {
			continue
		}
		var p Packet
		for c.NextPacket(pr.now, &p) {
			checkFits(pr.t, c, &p)
			pr.log = append(pr.log, fmt.Sprintf("%8.3fs %s %s", pr.now.Sub(t0).Seconds(), sideName[side], describe(&p)))
			pr.send(side, &p)
		}
		pr.takeStates()
	}
}

func (pr *pair) send(from int, p *Packet) {
	drop, extra, dup := false, time.Duration(0), false
	if pr.fault != nil {
		drop, extra, dup = pr.fault(from, p)
	}
	if drop {
		return
	}
	for range 1 + b2i(dup) {
		pr.n++
		pr.flights = append(pr.flights, flight{at: pr.now.Add(pr.delay + extra), to: 1 - from, p: clonePacket(p), seqn: pr.n})
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// deliver hands a packet to its side, creating the server Conn from a
// Request as a host's demux would.
func (pr *pair) deliver(f flight) {
	p := f.p
	c := pr.conn[f.to]
	if c == nil || (c.State() == Closed && p.Type == wire.DCCPRequest) {
		nc, r, reply := pr.lst.HandlePacket(pr.now, &p, 5000, 0)
		if nc != nil {
			pr.conn[1] = nc
			pr.takeStates()
		} else if reply {
			pr.send(1, &r)
		}
		return
	}
	c.HandlePacket(pr.now, &p)
	pr.takeStates()
}

// run advances protocol time until nothing is left to do or until limit.
func (pr *pair) run(limit time.Duration) {
	end := t0.Add(limit)
	for steps := 0; steps < 1_000_000; steps++ {
		pr.pump()
		next := clock.Instant(0)
		for _, f := range pr.flights {
			next = clock.Earliest(next, f.at)
		}
		for _, a := range pr.actions {
			next = clock.Earliest(next, a.at)
		}
		for _, c := range pr.conn {
			if c != nil {
				next = clock.Earliest(next, c.NextDeadline())
			}
		}
		if next == 0 || next.After(end) {
			return
		}
		if next.After(pr.now) {
			pr.now = next
		}
		pr.step()
	}
	pr.t.Fatalf("run did not settle")
}

// step performs everything due at pr.now: actions first, then arrivals
// in sending order, then timers.
func (pr *pair) step() {
	for i := 0; i < len(pr.actions); i++ {
		if a := pr.actions[i]; !a.at.After(pr.now) {
			pr.actions = append(pr.actions[:i], pr.actions[i+1:]...)
			i--
			a.f(pr.now)
			pr.takeStates()
			pr.pump()
		}
	}
	for {
		best := -1
		for i, f := range pr.flights {
			if !f.at.After(pr.now) && (best < 0 || f.seqn < pr.flights[best].seqn) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		f := pr.flights[best]
		pr.flights = append(pr.flights[:best], pr.flights[best+1:]...)
		pr.deliver(f)
	}
	for _, c := range pr.conn {
		if c != nil && due(c.NextDeadline(), pr.now) {
			c.HandleTimer(pr.now)
			checkTimerMoved(pr.t, c.NextDeadline(), pr.now, c.State())
			pr.takeStates()
		}
	}
}

// checkTimerMoved fails when a core's deadline is not after now once it
// has run HandleTimer(now): the timer should have done its work or moved,
// or a driver that sleeps until NextDeadline goes round now for ever.
func checkTimerMoved(t testing.TB, next, now clock.Instant, what any) {
	t.Helper()
	if next != 0 && next <= now {
		t.Fatalf("%v: after HandleTimer(%v) the next deadline is %v, not later", what, now, next)
	}
}

// checkFits fails when a packet with its options is larger than the
// Conn's maximum packet size: HeaderRoom must hold every option a data
// packet can carry, or a full-sized datagram would not fit the link
// (packets without data may use the whole size).
func checkFits(t testing.TB, c *Conn, p *Packet) {
	t.Helper()
	h := p.Header(1, 2)
	h.Options = p.AppendOptions(nil)
	if n := h.Len() + len(p.Payload); n > c.cfg.MaxPacketSize {
		t.Fatalf("%s of %d bytes (header and options %d, room %d) exceeds the maximum packet size %d",
			p.Type, n, h.Len(), HeaderRoom, c.cfg.MaxPacketSize)
	}
}

// describe is a one-line rendering of a packet for logs and assertions.
func describe(p *Packet) string {
	s := p.Type.String()
	if p.Type == wire.DCCPReset {
		s += "(" + p.ResetCode.String() + ")"
	}
	if len(p.Payload) > 0 {
		s += fmt.Sprintf(" %q", p.Payload)
	}
	return s
}

// sent returns the packet lines of one side ("client Close").
func (pr *pair) sent(side int) []string {
	var out []string
	for _, l := range pr.log {
		if f := strings.SplitN(strings.TrimSpace(l), " ", 3); f[1] == sideName[side] {
			out = append(out, f[2])
		}
	}
	return out
}

// count returns how many packets of the given description a side sent.
func (pr *pair) count(side int, what string) int {
	n := 0
	for _, s := range pr.sent(side) {
		if s == what {
			n++
		}
	}
	return n
}

// readAll reads every queued datagram of a side.
func readAll(c *Conn, now clock.Instant) ([]string, error) {
	var got []string
	buf := make([]byte, 2048)
	for {
		n, err := c.Read(now, buf)
		if err != nil {
			return got, err
		}
		got = append(got, string(buf[:n]))
	}
}

func (pr *pair) dump() string {
	return strings.Join(pr.log, "\n") + "\n" + strings.Join(pr.states, "\n")
}
