package lab

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// The simulated network of every run: two hosts on one link.
var (
	// ClientAddr and ServerAddr are the hosts' addresses.
	ClientAddr = netip.MustParseAddr("10.0.0.1")
	ServerAddr = netip.MustParseAddr("10.0.0.2")
)

// Defaults of a run.
const (
	// DefaultSeed is the seed when Options.Seed is zero.
	DefaultSeed = 1
	// DefaultLatency is the one-way delay of the link: long enough that
	// the diagram shows what crosses what.
	DefaultLatency = time.Millisecond
	defaultSettle  = time.Second
	defaultLimit   = 5 * time.Minute
	mtu            = 1500
)

// Options select what Run replays.
type Options struct {
	// Variant and Profile name a variant and a profile ("" means the
	// scenario's first variant and that variant's profile).
	Variant, Profile string
	// Seed drives the simulator and the stacks' random choices (ISNs,
	// ports); 0 means DefaultSeed.
	Seed uint64
	// Latency is the link's one-way delay; 0 means DefaultLatency.
	Latency time.Duration
	// Lose drops packets on the link, one direction at a time (teardown
	// web's "drop this packet").
	Lose []Loss
}

// Loss drops every packet host From sends in [At, At+For) of simulated
// time from the start of the run; For 0 means the packets sent at the
// instant At alone. The diagram draws them as arrows ending in a cross.
type Loss struct {
	From    string
	At, For time.Duration
}

// Result is one replayed run. Text, SVG and WriteJSON render its record;
// Verdict and Explanation say what it cost and why.
type Result struct {
	Scenario *Scenario
	Variant  Variant
	Profile  profile.Profile
	// Pcap is the capture of the run (LINKTYPE_RAW, ns timestamps): every
	// packet as its sender offered it to the link.
	Pcap []byte

	// trace is the record the methods render.
	trace *trace.Trace
}

// Program is what a scenario's code sees: the two hosts and a way to
// start their applications.
type Program struct {
	// Variant is the variant's name; Profile the stacks' profile.
	Variant string
	Profile profile.Profile
	// Client and Server are the two hosts.
	Client, Server *Host

	r         *simrun.Runner
	sim       *netsim.Sim
	nodes     map[string]*netsim.Host
	rec       *recorder
	mu        sync.Mutex
	remaining int
	lastEnd   clock.Instant
}

// Go starts fn as an application (a simrun program goroutine).
func (p *Program) Go(fn func()) {
	p.mu.Lock()
	p.remaining++
	p.mu.Unlock()
	p.r.Go(func() {
		defer func() {
			p.mu.Lock()
			p.remaining--
			p.lastEnd = p.r.Now()
			p.mu.Unlock()
		}()
		fn()
	})
}

// Note draws a remark across the diagram (host "") or at a host.
func (p *Program) Note(host, text string) { p.rec.note(host, text) }

// loseFrom drops every packet host sends in [at, at+d) of simulated
// time from the start of the run (netsim.Sim.Partition, one direction),
// to show retransmission. Call it while setting the scenario up.
func (p *Program) loseFrom(host string, at, d time.Duration) {
	other := p.Client.Name
	if host == other {
		other = p.Server.Name
	}
	start := p.r.Now().Add(at)
	if err := p.sim.Partition(p.nodes[host], p.nodes[other], start, start.Add(d), netsim.AtoB); err != nil {
		panic("lab: partition: " + err.Error())
	}
}

// ServerAddrPort is the server's address with port.
func (p *Program) ServerAddrPort(port uint16) netip.AddrPort {
	return netip.AddrPortFrom(p.Server.Addr, port)
}

// Run replays scenario id with opt and returns the record. An unknown id,
// variant or profile is an ErrUnknown error; a scenario that cannot run
// yet is an ErrNotRunnable error saying what it needs.
func Run(id string, opt Options) (*Result, error) {
	sc, err := Lookup(id)
	if err != nil {
		return nil, err
	}
	v, err := sc.Variant(opt.Variant)
	if err != nil {
		return nil, err
	}
	prof, err := lookupProfile(opt.Profile, v.Profile)
	if err != nil {
		return nil, err
	}
	if !sc.Runnable() {
		return nil, fmt.Errorf("%w: %s needs %s", ErrNotRunnable, sc.ID, sc.Needs)
	}
	if opt.Seed == 0 {
		opt.Seed = DefaultSeed
	}
	if opt.Latency == 0 {
		opt.Latency = DefaultLatency
	}
	for _, l := range opt.Lose {
		if l.From != sc.Client && l.From != sc.Server {
			return nil, fmt.Errorf("%w host %q to lose packets from (hosts: %s, %s)", ErrUnknown, l.From, sc.Client, sc.Server)
		}
	}
	return runScenario(sc, v, prof, opt)
}

func runScenario(sc *Scenario, v Variant, prof profile.Profile, opt Options) (*Result, error) {
	sim := netsim.New(opt.Seed)
	sim.SetMaxEvents(2_000_000)
	ch, sh := sim.AddHost(sc.Client, ClientAddr), sim.AddHost(sc.Server, ServerAddr)
	ch.SetMTU(mtu)
	sh.SetMTU(mtu)
	sim.Connect(ch, sh, netsim.LinkConfig{Latency: opt.Latency})
	var capture bytes.Buffer
	pw, err := pcap.NewWriter(&capture, 0)
	if err != nil {
		return nil, err
	}
	sim.Capture(pw)
	r := simrun.New(sim)
	tr := &trace.Trace{Scenario: sc.ID, Variant: v.Name, Profile: prof.Name, Seed: opt.Seed,
		Hosts: []string{sc.Client, sc.Server}, Start: sim.Now()}
	rec := newRecorder(tr, r.Now)
	sim.Observe(rec.packet)
	p := &Program{Variant: v.Name, Profile: prof, r: r, sim: sim, rec: rec,
		nodes: map[string]*netsim.Host{sc.Client: ch, sc.Server: sh}}
	var stacks []*stack.Stack
	for i, h := range []*netsim.Host{ch, sh} {
		name, addr := []string{sc.Client, sc.Server}[i], []netip.Addr{ClientAddr, ServerAddr}[i]
		var opts stack.TCPOptions // Nagle off, the stack's default
		if sc.TCP != nil {
			sc.TCP(name, &opts)
		}
		st, err := stack.New(stack.Config{Name: name, Addrs: []netip.Addr{addr}, Link: rec.tap(name, r.Endpoint(h)),
			Clock: r.Clock(), Scheduler: r, Profile: prof, TCP: opts, Seed: opt.Seed*2 + uint64(i) + 1,
			OnStateChange: rec.state(name)})
		if err != nil {
			return nil, err
		}
		stacks = append(stacks, st)
		host := &Host{Name: name, Addr: addr, st: st, rec: rec, sleep: r.Sleep}
		if i == 0 {
			p.Client = host
		} else {
			p.Server = host
		}
	}
	sc.program(p)
	for _, l := range opt.Lose {
		p.loseFrom(l.From, l.At, max(l.For, time.Nanosecond))
	}
	if err := drive(sc, p, sim); err != nil {
		return nil, err
	}
	rec.freeze()
	sim.Observe(nil)
	sim.Capture(nil)
	tidy(p, stacks)
	rec.nameConns()
	tr.Verdict = verdict(tr, rec)
	tr.Explanation = explain(sc, v, prof, tr, rec)
	if err := tr.Validate(); err != nil {
		return nil, fmt.Errorf("lab: %s/%s recorded an inconsistent trace: %w", sc.ID, v.Name, err)
	}
	return &Result{Scenario: sc, Variant: v, Profile: prof, Pcap: capture.Bytes(), trace: tr}, nil
}

// drive runs the simulation until the applications have returned and the
// network has settled, or until the limit. Applications still blocked
// then (an accept that never returns) stay "blocked" in the record.
func drive(sc *Scenario, p *Program, sim *netsim.Sim) error {
	settle, limit := sc.Settle, sc.Limit
	if settle == 0 {
		settle = defaultSettle
	}
	if limit == 0 {
		limit = defaultLimit
	}
	end := sim.Now().Add(limit)
	done := func() bool {
		next := sim.NextEvent()
		p.mu.Lock()
		remaining, last := p.remaining, p.lastEnd
		p.mu.Unlock()
		if remaining == 0 && (next.IsZero() || next > last.Add(settle)) {
			return true
		}
		return !next.IsZero() && next > end
	}
	err := p.r.Run(done)
	if errors.Is(err, simrun.ErrDeadlock) {
		return nil
	}
	return err
}

// tidy lets the applications that are still blocked return, so a run
// leaves no goroutine behind: the stacks are closed (which wakes every
// blocked call with an error the frozen recorder ignores) and the
// simulation runs until the applications are done.
func tidy(p *Program, stacks []*stack.Stack) {
	for _, st := range stacks {
		st.Close()
	}
	stop := p.r.Now().Add(time.Hour)
	p.r.Run(func() bool { //nolint:errcheck // whatever is left is abandoned
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.remaining == 0 || p.r.Now() > stop
	})
}
