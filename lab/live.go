package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// LiveConfig describes a run of one app against a real peer (Serve, Dial).
type LiveConfig struct {
	// App is the application; Variant how our side closes.
	App     *App
	Variant string
	// Profile is our stack's profile ("" means linux).
	Profile string
	// Port is the app's port; 0 means App.Port.
	Port uint16
	// Proto is "tcp" (the default) or "dccp".
	Proto string
	// Service is the DCCP service code (RFC 4340 §8.1.2): the client's
	// Request carries it and the server accepts only it; 0 on the server
	// accepts any.
	Service uint32
	// Link is "sim" (both ends in process, on the simulator), "tun" or
	// "udp" (DCCP over UDP, RFC 6773).
	Link string
	// UDPLocal is the UDP address our stack binds on the udp link (its IP
	// is the stack's address); UDPPeer is the peer's UDP address (dial:
	// whom to call; serve: where replies go, by default the peer's IP at
	// udp.Port).
	UDPLocal, UDPPeer netip.AddrPort
	// TunName and Net configure the TUN link: the kernel gets the first
	// host address of Net, our stack the second.
	TunName string
	Net     netip.Prefix
	// TunOffload opens the TUN device with the kernel's offloads (large
	// TCP segments cross it whole; see tun.Config.Offload).
	TunOffload bool
	// Count is how many connections Serve handles before returning; 0
	// means until ctx ends.
	Count int
	// MaxConns is how many connections Serve serves at once, each on its
	// own goroutine; beyond it Serve accepts no more until one ends, and
	// new ones wait in the listen backlog as with a kernel server. 0 means
	// DefaultMaxConns.
	MaxConns int
	// IdleTimeout bounds how long one recv or send of the app may wait:
	// a connection whose peer went silent, stopped reading or stopped
	// acknowledging is then reset. It is also the stack's user timeout
	// (RFC 5482): data unacknowledged that long ends the connection. 0
	// means DefaultIdleTimeout; negative, no limit.
	IdleTimeout time.Duration
	// NoKeepAlive turns TCP keepalive off; live connections have it on
	// (RFC 9293 §3.8.4, with the stack's timing: Linux's 2 h, 75 s, 9).
	NoKeepAlive bool
	// Retries is how many times Dial retries a connect the peer refused,
	// 500 ms apart, before it gives up; 0 means DefaultRetries, negative
	// none.
	Retries int
	// Trace prints every call of the app as it completes (the
	// transcript). Without it a live run prints one line per connection
	// and keeps no record of its calls or bytes; with it the lines wait
	// for the output in a ring of bounded size (traceLines), and those
	// that find it full are dropped and counted.
	Trace bool
	// Out receives the instructions, a line per connection, the summary,
	// and with Trace the transcript.
	Out io.Writer
	// Ready, if set, is called once the app can be reached (Serve) or
	// is about to connect (Dial).
	Ready func()
}

// ErrLinkUnavailable is returned for a link or protocol the lab cannot
// drive yet.
var ErrLinkUnavailable = errors.New("not available yet")

// liveRun is a live run's stack and output.
type liveRun struct {
	// h is our host. Its recorder keeps nothing (newSinkRecorder): each
	// connection gets a recorder of its own (connLog).
	h   *Host
	out *liveOut
	t0  clock.Instant // the run's start
	// peer is the kernel's address (TUN) or the UDP peer's.
	peer netip.Addr
	// closeAll closes the stack, then the link, then the output.
	closeAll func()
}

// liveHost builds our stack on the configured link (TUN, or UDP for
// DCCP) and the run's output.
func liveHost(cfg *LiveConfig) (*liveRun, error) {
	if cfg.Link == "udp" {
		return udpHost(cfg)
	}
	return tunHost(cfg)
}

// recordingHost makes our stack on dev with address ours, and the run's
// output. With cfg.Trace the calls not made on a connection (accept) are
// printed too. Cleanup closes the stack, then dev, then the output.
func recordingHost(cfg *LiveConfig, ours netip.Addr, dev interface {
	link.Endpoint
	Close() error
}, prof profile.Profile) (*liveRun, error) {
	st, err := stack.New(stack.Config{Name: "teardown", Addrs: []netip.Addr{ours}, Link: dev, Profile: prof,
		TCP: stack.TCPOptions{UserTimeout: cfg.idle()}})
	if err != nil {
		dev.Close()
		return nil, err
	}
	wall := clock.NewReal()
	run := &liveRun{out: newLiveOut(cfg.Out), t0: wall.Now()}
	rec := newSinkRecorder(wall.Now, func(c *trace.Call, _, end clock.Instant) {
		if cfg.Trace && c.Result == trace.ResultOK { // not the accept the stop ends
			run.out.trace(fmt.Sprintf("%9.3f  %s\n", seconds(end.Sub(run.t0)), callLine(c)))
		}
	})
	run.h = &Host{Name: "teardown", Addr: ours, st: st, rec: rec, sleep: time.Sleep}
	run.closeAll = func() {
		time.Sleep(100 * time.Millisecond) // let the last FIN or ACK leave
		st.Close()
		dev.Close()
		run.out.close()
	}
	return run, nil
}

// conn makes c a connection of the run, with a recorder of its own that
// keeps only its counters (and prints its calls with cfg.Trace), the idle
// timeout and keepalive. id numbers served connections (0 for dial's).
func (r *liveRun) conn(cfg *LiveConfig, c *Conn, id int) *connLog {
	now := r.h.st.Clock().Now
	l := &connLog{id: id, peer: c.sock().RemoteAddrPort(), begin: now(), out: r.out, t0: r.t0, trace: cfg.Trace}
	h := *r.h
	h.rec = newSinkRecorder(now, l.call)
	c.h, c.idle = &h, cfg.idle()
	if c.c != nil && !cfg.NoKeepAlive {
		c.c.SetKeepAlive(true)
	}
	return l
}

// callLine is one transcript line: `recv(1) -> data "h"`.
func callLine(c *trace.Call) string {
	arg := c.Arg
	ok := c.Result == trace.ResultOK
	if c.Name == trace.CallSend && ok {
		arg = quoteCut(c.Detail, 24)
	}
	s := fmt.Sprintf("%s(%s) -> %s", c.Name, arg, c.Result)
	switch {
	case c.Result == trace.ResultData:
		s += " " + quoteCut(c.Detail, 24)
	case c.Detail != "" && (c.Name != trace.CallSend || !ok):
		s += ": " + strings.ReplaceAll(c.Detail, "\n", "; ")
	}
	return s
}

// Serve runs cfg.App's server on our stack. Over "tun" the peer is
// whatever the kernel side runs (the instructions say what); over "sim"
// it is the app's own client, on the simulator. Each connection is served
// on its own goroutine (see LiveConfig.MaxConns, IdleTimeout) and printed
// as one line when it ends. When ctx ends, Serve resets the connections
// still open, prints a summary line and returns ctx's error.
func Serve(ctx context.Context, cfg LiveConfig) error {
	if cfg.Port == 0 {
		cfg.Port = cfg.App.Port
	}
	if cfg.Link == "sim" {
		return simPair(cfg, "serve")
	}
	if cfg.Proto == "dccp" {
		return serveDCCP(ctx, cfg)
	}
	run, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer run.closeAll()
	l, err := run.h.Listen(cfg.Port, 0)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, l.Close)
	defer stop()
	h := run.h
	run.out.say("teardown serves %s (variant %s) on %s over TUN %s\non the kernel side run:  nc %s %d\n",
		cfg.App.Name, cfg.Variant, netip.AddrPortFrom(h.Addr, cfg.Port), cfg.TunName, h.Addr, cfg.Port)
	if cfg.Ready != nil {
		cfg.Ready()
	}
	return newServer(&cfg, run).run(ctx, l.Accept)
}

// Dial runs cfg.App's client on our stack against the kernel side's
// server (over "tun"), or against the app's own server (over "sim"). Over
// TUN it retries while the kernel refuses (cfg.Retries times, 500 ms
// apart), so the kernel's listener may be started after it, and says so
// each time; it says too when a SYN goes unanswered and is sent again.
// It returns an error if the connect fails or the app's connection waited
// the idle timeout.
func Dial(ctx context.Context, cfg LiveConfig) error {
	if cfg.Port == 0 {
		cfg.Port = cfg.App.Port
	}
	if cfg.Link == "sim" {
		return simPair(cfg, "dial")
	}
	if cfg.Proto == "dccp" {
		return dialDCCP(ctx, cfg)
	}
	run, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer run.closeAll()
	to := netip.AddrPortFrom(run.peer, cfg.Port)
	run.out.say("teardown dials %s (%s) at %s over TUN %s\non the kernel side run:  nc -l %s %d\n",
		cfg.App.Name, cfg.Variant, to, cfg.TunName, run.peer, cfg.Port)
	if cfg.Ready != nil {
		cfg.Ready()
	}
	var tc *stack.TCPConn
	start := run.h.rec.now()
	err = run.connect(ctx, &cfg, to, func() (err error) {
		stopWatch := run.watchSYNs(to)
		defer stopWatch()
		tc, err = run.h.st.DialTCP(ctx, to)
		return err
	})
	if err != nil {
		return err
	}
	return run.client(ctx, &cfg, &Conn{h: run.h, c: tc}, start)
}

// simPair runs the app's server and client on the simulator and prints
// the diagram: our side is the one named by role, the peer the other.
func simPair(cfg LiveConfig, role string) error {
	sc := &Scenario{ID: role + "-" + cfg.App.Name, Group: "live", Client: "client", Server: "server",
		Summary: cfg.App.Summary, Variants: []Variant{{Name: cfg.Variant,
			Why: fmt.Sprintf("%s over the simulated link: the %s side is ours, variant %s.", cfg.App.Name, strings.TrimSuffix(role, "e")+"er", cfg.Variant)}}}
	app := *cfg.App
	app.Port = cfg.Port
	if role == "dial" {
		// The variant is the client's; the built-in server closes naively.
		srv := app.Server
		app.Server = func(c *Conn, _ string) { srv(c, "naive") }
	}
	sc.program = appScenario(&app, nil)
	if cfg.Proto == "dccp" {
		sc.program = appScenarioDCCP(&app, cfg.Service)
	}
	prof, err := lookupProfile(cfg.Profile, "")
	if err != nil {
		return err
	}
	res, err := runScenario(sc, sc.Variants[0], prof, Options{Seed: DefaultSeed, Latency: DefaultLatency})
	if err != nil {
		return err
	}
	// serve and dial have no --width: their diagram keeps the 100
	// columns it had before the text's default became 80.
	return res.WriteText(cfg.Out, TextOptions{Width: liveWidth})
}

// liveWidth is the width of the diagram of a serve or dial over the
// simulated link.
const liveWidth = 100
