package drill

import (
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// The addresses and ports of a run, as packetdrill's defaults.
var (
	LocalAddr  = netip.MustParseAddr("192.168.0.1")
	RemoteAddr = netip.MustParseAddr("192.0.2.1")
)

const (
	localPort  = 8080  // what bind(fd, ..., ...) binds
	remotePort = 48123 // the remote host's port
	// remoteISN is the live ISN of the remote side when its script ISN is
	// 0, so that the remapping of sequence numbers is exercised.
	remoteISN = 1_000_000
	// anyWait bounds how long "*" waits for a packet.
	anyWait = 10 * time.Minute
)

// DefaultTolerance is packetdrill's default --tolerance_usecs.
const DefaultTolerance = 4 * time.Millisecond

// Status is how a script ended.
type Status string

const (
	Pass        Status = "pass"
	Fail        Status = "fail"
	Unsupported Status = "unsupported"
)

// Result is the outcome of one script.
type Result struct {
	Script string `json:"script"`
	Status Status `json:"status"`
	// Line is the script line of the first mismatch or unsupported
	// construct; Message says what happened, Expected and Actual show the
	// event as the script wrote it and as it happened.
	Line     int    `json:"line,omitempty"`
	Message  string `json:"message,omitempty"`
	Expected string `json:"expected,omitempty"`
	Actual   string `json:"actual,omitempty"`
	// Notes say what the run did not apply (sysctls without a meaning
	// here), whatever the status.
	Notes []string `json:"notes,omitempty"`
	// Pcap is the run's packets as a pcap file, with Options.Record; SVG
	// draws the run.
	Pcap  []byte `json:"-"`
	trace *trace.Trace
}

// SVG draws a recorded run (Options.Record) with the lab's sequence
// diagram: the script's calls on the local host, every packet, and the
// simulated stack's state changes; nil without a recording.
func (r Result) SVG() []byte {
	if r.trace == nil {
		return nil
	}
	return trace.SVG(r.trace, trace.SVGOptions{})
}

func (r Result) String() string {
	var s string
	switch r.Status {
	case Pass:
		s = fmt.Sprintf("%s: pass", r.Script)
	case Unsupported:
		s = fmt.Sprintf("%s:%d: unsupported: %s", r.Script, r.Line, r.Message)
	default:
		s = fmt.Sprintf("%s:%d: fail: %s", r.Script, r.Line, r.Message)
		if r.Expected != "" {
			s += "\n  expected: " + r.Expected
		}
		if r.Actual != "" {
			s += "\n  actual:   " + r.Actual
		}
	}
	for _, n := range r.Notes {
		s += "\n  note: " + n
	}
	return s
}

// Options configure a run.
type Options struct {
	// Profile is the stack's profile; the zero Profile is linux.
	Profile profile.Profile
	// Tolerance overrides the script's --tolerance_usecs when nonzero.
	Tolerance time.Duration
	// Record keeps the run's packets and calls (Result.Trace, Result.Pcap).
	Record bool
}

// Run runs a parsed script against a fresh stack on a simulated network.
func Run(s *Script, opts Options) Result {
	if len(s.Unsupported) > 0 {
		u := s.Unsupported[0]
		return Result{Script: s.Name, Status: Unsupported, Line: u.Line, Message: u.What}
	}
	sim := netsim.New(1)
	laddr, raddr := addrs(s)
	lh, rh := sim.AddHost("local", laddr), sim.AddHost("remote", raddr)
	lh.SetMTU(1500) // packetdrill's tun device
	sim.Connect(lh, rh, netsim.LinkConfig{})
	run := simrun.New(sim)
	p := opts.Profile
	if p.Name == "" {
		p = profile.Linux
	}
	cfg := simConfigFor(s, p)
	var rec *recorder
	var onState func(now clock.Instant, local, remote netip.AddrPort, from, to, why string)
	if opts.Record {
		rec = newRecorder(s.Name, p.Name, run.Now())
		onState = func(now clock.Instant, _, remote netip.AddrPort, from, to, why string) {
			rec.state(now, remote.String(), from, to, why)
		}
	}
	st, err := stack.New(stack.Config{Name: "local", Addrs: []netip.Addr{laddr}, OnStateChange: onState,
		Link: run.Endpoint(lh), Clock: run.Clock(), Scheduler: run, Profile: cfg.profile, TCP: cfg.tcp, Seed: 1})
	if err != nil {
		return Result{Script: s.Name, Status: Fail, Message: err.Error()}
	}
	peer := run.Endpoint(rh)
	d := newDriver(s, opts, &simBackend{run: run, clk: run.Clock(), peer: peer})
	d.st, d.listen, d.rec = st, cfg.listen, rec
	peer.Attach(link.ReceiverFunc(d.receive))
	var done atomic.Bool
	var res Result
	run.Go(func() {
		res = d.exec()
		res.Script = s.Name
		st.Close() // packetdrill resets what is left, too
		done.Store(true)
	})
	if err := run.Run(done.Load); err != nil && !done.Load() {
		return Result{Script: s.Name, Status: Fail, Message: "simulation: " + err.Error()}
	}
	if n := notAppliedNote("to the stack", cfg.notApplied); n != "" {
		res.Notes = append(res.Notes, n)
	}
	if rec != nil {
		res.trace, res.Pcap = rec.result()
	}
	return res
}

func newDriver(s *Script, opts Options, be backend) *driver {
	d := &driver{s: s, be: be, fds: map[int]*socket{}, tol: DefaultTolerance, rport: remotePort,
		flows: map[uint16]*flow{}}
	d.laddr, d.raddr = addrs(s)
	if s.Tolerance > 0 {
		d.tol = s.Tolerance
	}
	if opts.Tolerance > 0 {
		d.tol = opts.Tolerance
	}
	return d
}

// driver runs one script. Its exec runs as a simrun program goroutine;
// receive and timers run on the simulator's goroutine.
type driver struct {
	s  *Script
	be backend
	st *stack.Stack // the simulated stack; nil on other backends
	// laddr and raddr are the stack's and the remote host's addresses.
	laddr, raddr netip.Addr
	rec          *recorder // with Options.Record
	// listen is what the script's sysctls make of the stack's listeners.
	listen stack.ListenOptions
	tol    time.Duration

	start clock.Instant
	fds   map[int]*socket
	block *pending   // the blocking call in progress, if any
	dccp  *dccpState // DCCP numbering and sockets (run_dccp.go), made on first use

	mu     sync.Mutex
	waiter chan struct{}
	sent   []sniffed // packets the stack sent, not yet matched

	// rport is the remote host's port of lines that name none; flows
	// holds the numbering of each remote port a script uses.
	rport uint16
	flows map[uint16]*flow
}

// flow is the numbering of one connection, keyed by the remote host's
// port: live = script + offset. A line names its remote port with
// packetdrill's "src>dst" ports, or uses the script's default one.
type flow struct {
	localOff, remoteOff uint32
	tsOff               uint32
	tsKnown             bool
	remoteKnown         bool   // remoteOff was fixed by an inbound SYN
	lport               uint16 // the stack's port, once known
}

// flow returns the numbering of the connection with remote port rport.
func (d *driver) flow(rport uint16) *flow {
	f := d.flows[rport]
	if f == nil {
		f = &flow{}
		d.flows[rport] = f
	}
	return f
}

// receive is the remote host's link: it records what the stack sends.
func (d *driver) receive(pkts [][]byte) {
	now := d.be.Now()
	d.mu.Lock()
	for _, p := range pkts {
		d.rec.packet(now, true, p)
		if s, ok := sniff(p); ok {
			s.at = now
			d.sent = append(d.sent, s)
		}
	}
	d.mu.Unlock()
	d.notify()
}

// notify wakes exec if it waits.
func (d *driver) notify() {
	d.mu.Lock()
	w := d.waiter
	d.waiter = nil
	d.mu.Unlock()
	if w != nil {
		d.be.Unpark(w)
		close(w)
	}
}

// waitUntil parks exec until cond holds (checked under d.mu) or the
// virtual time reaches deadline; it reports whether cond held.
func (d *driver) waitUntil(deadline clock.Instant, cond func() bool) bool {
	for {
		d.mu.Lock()
		if cond != nil && cond() {
			d.mu.Unlock()
			return true
		}
		if !d.be.Now().Before(deadline) {
			d.mu.Unlock()
			return false
		}
		w := make(chan struct{})
		d.waiter = w
		d.mu.Unlock()
		t := d.be.NewTimer(d.notify)
		t.Reset(deadline)
		d.be.Park(w)
		t.Stop()
	}
}

// settle lets what the last event set off happen (backend.settle).
func (d *driver) settle() { d.be.settle(d) }

// tolerance is the slack of an event gap long: the larger of the
// configured tolerance and 12.5% of the gap.
func (d *driver) tolerance(gap time.Duration) time.Duration {
	return max(d.tol, gap/8)
}

func (d *driver) since(t clock.Instant) string {
	return fmt.Sprintf("%.6f", t.Sub(d.start).Seconds())
}

func (d *driver) failf(ev *Event, format string, args ...any) *Result {
	return &Result{Status: Fail, Line: ev.Line, Message: fmt.Sprintf(format, args...), Expected: ev.Text}
}

// exec runs the events in order.
func (d *driver) exec() Result {
	d.start = d.be.Now()
	prev := d.start // the live time of the previous event
	for i := range d.s.Events {
		ev := &d.s.Events[i]
		d.settle()
		if r := d.checkBlocked(); r != nil {
			return *r
		}
		var target clock.Instant
		switch ev.When.Kind {
		case TimeAbs:
			target = d.start.Add(ev.When.At)
		case TimeRel:
			target = prev.Add(ev.When.At)
		case TimeAny:
			target = d.be.Now()
		}
		var r *Result
		switch {
		case ev.Packet != nil && ev.Packet.Inbound:
			d.waitUntil(target, nil)
			r = d.inject(ev)
			prev = target
		case ev.Packet != nil:
			prev, r = d.expect(ev, prev, target)
		case ev.Info != nil:
			d.waitUntil(target, nil)
			r = d.checkInfo(ev)
			prev = target
		default:
			d.waitUntil(target, nil)
			// In real time a call can start late (a loaded machine): what
			// follows it is timed from when it really started, as from an
			// outbound packet sent late. On the simulator that is target.
			base := prev
			target = max(target, d.be.Now())
			r = d.call(ev, target, base)
			prev = target
		}
		if r != nil {
			return *r
		}
	}
	d.settle()
	if d.block != nil {
		ev := d.block.ev
		end := d.blockEnd()
		if !d.waitUntil(end.Add(d.tolerance(end.Sub(d.block.started))), d.block.isDone) {
			return *d.failf(ev, "%s(...) still blocked at %s", ev.Call.Name, d.since(d.be.Now()))
		}
		if r := d.checkBlocked(); r != nil {
			return *r
		}
	}
	return Result{Status: Pass}
}

// expect waits for the packet of an outbound line and judges it.
func (d *driver) expect(ev *Event, prev, target clock.Instant) (clock.Instant, *Result) {
	lo, hi := target, target
	w := ev.When
	switch {
	case w.Kind == TimeAny:
		hi = target.Add(anyWait)
	case w.Range && w.EndRel:
		hi = target.Add(w.End)
	case w.Range:
		hi = d.start.Add(w.End)
	}
	if w.Kind != TimeAny {
		tol := d.tolerance(target.Sub(prev))
		lo, hi = lo.Add(-tol), hi.Add(tol)
	}
	if !d.waitUntil(hi, func() bool { return len(d.sent) > 0 }) {
		r := d.failf(ev, "no packet sent by %s", d.since(hi))
		return prev, r
	}
	got := d.pop()
	// Segments that together carry the line's payload count as one, as a
	// kernel's TSO super-packet would (packetdrill without
	// --strict_segments).
	for got.payload < ev.Packet.Len && got.flags&(flSYN|flFIN|flRST) == 0 &&
		d.waitUntil(hi, func() bool { return len(d.sent) > 0 && d.sent[0].seq == got.seq+got.payload }) {
		next := d.pop()
		got.flags |= next.flags
		got.payload += next.payload
		got.ack, got.win, got.opts = next.ack, next.win, next.opts
	}
	if msg := d.match(ev.Packet, &got); msg != "" {
		r := d.failf(ev, "%s", msg)
		r.Actual = d.format(&got)
		return prev, r
	}
	if got.at.Before(lo) {
		r := d.failf(ev, "packet sent at %s, too early (expected from %s)", d.since(got.at), d.since(lo))
		r.Actual = d.format(&got)
		return prev, r
	}
	return got.at, nil
}

func (d *driver) pop() sniffed {
	d.mu.Lock()
	defer d.mu.Unlock()
	got := d.sent[0]
	d.sent = d.sent[1:]
	return got
}
