package testnet

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
)

// DefaultLatency is the one-way delay of a link that Link did not
// configure.
const DefaultLatency = time.Millisecond

// Network is a simulated network of hosts for one test. Make it with New;
// it is torn down by the test's Cleanup.
type Network struct {
	t       testing.TB
	seed    uint64
	mtu     int
	prof    profile.Profile
	virtual bool // inside a synctest bubble
	capture io.Writer

	sim  *netsim.Sim
	run  *simrun.Runner
	clk  clock.TimerClock // what the stacks read
	gate *gate            // virtual time only

	mu     sync.Mutex
	hosts  []*Host
	rng    *rand.Rand // draws of the faults package netsim does not model
	pairs  map[[2]*Host]*pair
	events []string // faults that fired, for the failure report

	countMu sync.Mutex
	counts  map[string]int // "client->server dropped (loss)": the network's own faults
	faulty  atomic.Bool

	pw       *pcap.Writer // the Sim's capture; the driver's goroutine writes it
	pcapFile *os.File
	pcapBuf  *bufio.Writer
	pcapPath string

	start      time.Time     // when New ran, for the report's times in real time
	stopping   atomic.Int32  // 1 drain, 2 stop
	drainUntil clock.Instant // the drain gives up at this virtual time
	driverDone chan struct{}
	driverErr  error
}

// Option configures New.
type Option interface{ applyNet(*Network) }

type netOption func(*Network)

func (f netOption) applyNet(n *Network) { f(n) }

// Seed fixes the seed every random choice of the network derives from (the
// faults, the stacks' ISNs and ports). The -testnet.seed flag overrides it;
// without either the seed is a hash of the test's name.
func Seed(n uint64) Option { return netOption(func(nw *Network) { nw.seed = n }) }

// MTU sets every host's MTU in bytes (1500 by default).
func MTU(n int) Option { return netOption(func(nw *Network) { nw.mtu = n }) }

// Capture also writes the network's pcap to w (the file the failure report
// names is written either way). w is written from the goroutine that
// drives the network and is complete once the test's cleanup has run.
func Capture(w io.Writer) Option { return netOption(func(nw *Network) { nw.capture = w }) }

// RealTime runs the network on the wall clock even inside a synctest
// bubble (where the wall clock is the bubble's fake one).
func RealTime() Option { return netOption(func(nw *Network) { nw.virtual = false }) }

// ProfileOption is both an Option (the default profile of every host) and
// a HostOption (one host's profile).
type ProfileOption struct{ p profile.Profile }

func (o ProfileOption) applyNet(n *Network)      { n.prof = o.p }
func (o ProfileOption) applyHost(c *hostConfig)  { c.prof = o.p }
func (o ProfileOption) String() string           { return o.p.Name }
func (o ProfileOption) Profile() profile.Profile { return o.p }

// Profile selects the behaviour of real systems the stacks follow
// (profile.Linux by default): for the network, or for one host.
func Profile(p profile.Profile) ProfileOption { return ProfileOption{p} }

// New makes an empty network for t; its hosts, stacks and capture are
// closed by t.Cleanup. Inside a testing/synctest bubble it runs in virtual
// time, outside on the wall clock (see the package documentation).
func New(t testing.TB, opts ...Option) *Network {
	t.Helper()
	n := &Network{t: t, seed: nameSeed(t.Name()), mtu: 1500, prof: profile.Linux, start: time.Now(),
		virtual: inBubble(), pairs: make(map[[2]*Host]*pair), driverDone: make(chan struct{})}
	for _, o := range opts {
		o.applyNet(n)
	}
	if seedFlag.set {
		n.seed = seedFlag.n
	}
	if n.mtu < 1280 {
		t.Fatalf("testnet: MTU %d is below 1280, the least IPv6 allows", n.mtu)
	}
	n.rng = rand.New(rand.NewPCG(n.seed, 0x74657374)) // "test"
	n.sim = netsim.New(n.seed)
	n.run = simrun.New(n.sim)
	if n.virtual {
		n.gate = &gate{run: n.run}
		n.clk = gatedClock{n.run.Clock(), n.gate}
	} else {
		n.clk = wallClock{n.run.Clock()}
	}
	if err := n.openCapture(); err != nil {
		t.Fatalf("testnet: capture: %v", err)
	}
	n.counts = make(map[string]int)
	n.sim.Observe(n.observe)
	go n.drive()
	t.Cleanup(n.cleanup)
	return n
}

// nameSeed is the default seed: FNV-1a of the test's name, stable across
// runs and machines.
func nameSeed(name string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, name)
	return h.Sum64()
}

// Seed returns the network's seed.
func (n *Network) Seed() uint64 { return n.seed }

// Virtual reports whether the network runs in a synctest bubble's virtual
// time (and so repeats exactly for its seed).
func (n *Network) Virtual() bool { return n.virtual }

// Sim returns the simulation underneath. Only the network's driver may
// touch it while the test runs: use Do.
func (n *Network) Sim() *netsim.Sim { return n.sim }

// Do runs fn on the goroutine that drives the simulation, between two of
// its events, and returns when fn has: the way to touch the Sim (counters,
// links) while the network runs. fn must not block.
func (n *Network) Do(fn func()) {
	if n.stopping.Load() == 2 {
		fn() // the driver is gone: nobody else touches the Sim
		return
	}
	done := make(chan struct{})
	tm := n.run.Clock().NewTimer(func() { fn(); close(done) })
	tm.Reset(n.run.Now())
	<-done
}

// drive runs the simulation until cleanup stops it.
func (n *Network) drive() {
	defer close(n.driverDone)
	done := func() bool {
		switch n.stopping.Load() {
		case 1: // draining: let the closes play out, within reason
			return n.sim.NextEvent().IsZero() || n.sim.Now() > n.drainUntil
		case 2:
			return true
		}
		return false
	}
	if n.virtual {
		n.driverErr = n.run.DriveBackground(done)
		return
	}
	n.driverErr = n.run.DriveRealTime(done)
}

// observe counts what the simulated links did to packets, for the
// failure report; it runs on the driver's goroutine.
func (n *Network) observe(ev netsim.PacketEvent) {
	var what string
	switch ev.Kind {
	case netsim.Dropped:
		what = "dropped (" + ev.Reason.String() + ")"
	case netsim.Duplicated, netsim.Corrupted, netsim.Reordered:
		what = ev.Kind.String()
	default:
		return
	}
	n.countMu.Lock()
	n.counts[ev.From+"->"+ev.To+" "+what]++
	n.countMu.Unlock()
}

// kick makes the driver look at its done condition.
func (n *Network) kick() {
	tm := n.run.Clock().NewTimer(func() {})
	tm.Reset(n.run.Now())
}

// event records a fault that fired, for the failure report; n.mu held.
func (n *Network) event(format string, args ...any) {
	if len(n.events) < 200 {
		at := time.Duration(n.run.Now() - netsim.Epoch)
		if !n.virtual {
			at = time.Since(n.start).Round(time.Microsecond)
		}
		n.events = append(n.events, fmt.Sprintf("%10s  %s", at, fmt.Sprintf(format, args...)))
	}
}

// captureDropped puts a packet the hosts' links dropped (filter.go) in
// the capture at the instant it was sent, as tcpdump on the sender would
// show it; the driver writes it, as it writes the rest.
func (n *Network) captureDropped(p []byte) {
	cp := append([]byte(nil), p...)
	tm := n.run.Clock().NewTimer(func() { n.pw.WritePacket(n.sim.Now(), cp) }) //nolint:errcheck // as netsim's capture
	tm.Reset(n.run.Now())
}

// openCapture starts the pcap file: in -testnet.pcap's directory, kept,
// or in the temporary directory, removed when the test passes.
func (n *Network) openCapture() error {
	dir, pattern := os.TempDir(), "testnet-*.pcap"
	if pcapFlag != "" {
		dir = pcapFlag
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.CreateTemp(dir, fileSafe(n.t.Name())+"-"+pattern)
	if err != nil {
		return err
	}
	n.pcapFile, n.pcapPath = f, f.Name()
	n.pcapBuf = bufio.NewWriterSize(f, 64<<10)
	var w io.Writer = n.pcapBuf
	if n.capture != nil {
		w = io.MultiWriter(n.pcapBuf, n.capture)
	}
	pw, err := pcap.NewWriter(w, 0)
	if err != nil {
		return err
	}
	n.pw = pw
	n.sim.Capture(pw)
	return nil
}

// fileSafe turns a test name into part of a file name.
func fileSafe(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	if len(b) > 80 {
		b = b[:80]
	}
	return string(b)
}

// PcapPath returns the path of the capture file. It is complete after the
// test's cleanup; it is removed then if the test passed and -testnet.pcap
// is not set.
func (n *Network) PcapPath() string { return n.pcapPath }

// cleanup reports a failure, closes the stacks, lets what they sent play
// out (in virtual time), stops the driver and finishes the capture.
func (n *Network) cleanup() {
	if n.t.Failed() {
		n.report(n.t)
	}
	n.mu.Lock()
	hosts := append([]*Host(nil), n.hosts...)
	n.mu.Unlock()
	for _, h := range hosts {
		h.Stack().Close()
	}
	if n.virtual {
		// The closes' RSTs and the last timers run out in virtual time;
		// a timer that re-arms for ever must not hang the test.
		n.drainUntil = n.run.Now().Add(10 * time.Minute)
		n.stopping.Store(1)
	} else {
		n.stopping.Store(2)
	}
	n.kick()
	<-n.driverDone
	n.stopping.Store(2)
	for _, h := range hosts {
		h.sim.Close()
	}
	if n.driverErr != nil {
		n.t.Errorf("testnet: the network's driver stopped: %v", n.driverErr)
	}
	n.pcapBuf.Flush()
	n.pcapFile.Close()
	if !n.t.Failed() && pcapFlag == "" {
		os.Remove(n.pcapPath)
	}
}

// wallClock is the clock of the stacks outside a bubble: the wall clock
// between events (the Runner's moves only when its loop runs), the
// Runner's timers.
type wallClock struct{ clock.TimerClock }

func (wallClock) Now() clock.Instant { return clock.Instant(time.Now().UnixNano()) }

// addrs returns the addresses of the i-th host (from 1).
func addrs(i int) (v4, v6 netip.Addr) {
	v4 = netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)})
	var b [16]byte
	b[0], b[1] = 0xfd, 0x00
	b[14], b[15] = byte(i>>8), byte(i)
	return v4, netip.AddrFrom16(b)
}
