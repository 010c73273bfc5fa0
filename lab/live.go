package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/tun"
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
	// Out receives the instructions and the transcript of our calls.
	Out io.Writer
	// Ready, if set, is called once the app can be reached (Serve) or
	// is about to connect (Dial).
	Ready func()
}

// ErrLinkUnavailable is returned for a link or protocol the lab cannot
// drive yet.
var ErrLinkUnavailable = errors.New("not available yet")

// liveHost builds our stack on the configured link (TUN, or UDP for
// DCCP) and a recording host whose calls are printed as they complete. It
// returns the host, its cleanup, and the peer's address.
func liveHost(cfg *LiveConfig) (*Host, func(), netip.Addr, error) {
	if cfg.Link == "udp" {
		return udpHost(cfg)
	}
	kernel, ours, ok := tun.HostAddrs(cfg.Net)
	if !ok {
		return nil, nil, netip.Addr{}, fmt.Errorf("--net %s has fewer than two host addresses", cfg.Net)
	}
	dev, err := tun.Open(tun.Config{Name: cfg.TunName, MTU: mtu, KernelAddr: netip.PrefixFrom(kernel, cfg.Net.Bits()),
		Offload: cfg.TunOffload})
	if err != nil {
		return nil, nil, netip.Addr{}, err
	}
	prof, err := lookupProfile(cfg.Profile, "")
	if err != nil {
		dev.Close()
		return nil, nil, netip.Addr{}, err
	}
	h, closeAll, err := recordingHost(cfg, ours, dev, prof)
	if err != nil {
		return nil, nil, netip.Addr{}, err
	}
	return h, closeAll, kernel, nil
}

// recordingHost makes our stack on dev with address ours, and a host that
// prints each call as it completes. Cleanup closes the stack, then dev.
func recordingHost(cfg *LiveConfig, ours netip.Addr, dev interface {
	link.Endpoint
	Close() error
}, prof profile.Profile) (*Host, func(), error) {
	st, err := stack.New(stack.Config{Name: "teardown", Addrs: []netip.Addr{ours}, Link: dev, Profile: prof})
	if err != nil {
		dev.Close()
		return nil, nil, err
	}
	wall := clock.NewReal()
	start := wall.Now()
	rec := newRecorder(&trace.Trace{Hosts: []string{"teardown"}}, wall.Now)
	rec.live = func(c *trace.Call, s, e clock.Instant) {
		fmt.Fprintf(cfg.Out, "%9.3f  %s\n", float64(e.Sub(start))/float64(time.Second), callLine(c))
	}
	h := &Host{Name: "teardown", Addr: ours, st: st, rec: rec, sleep: time.Sleep}
	closeAll := func() {
		time.Sleep(100 * time.Millisecond) // let the last FIN or ACK leave
		st.Close()
		dev.Close()
	}
	return h, closeAll, nil
}

// callLine is one transcript line: `recv(1) -> data "h"`.
func callLine(c *trace.Call) string {
	arg := c.Arg
	if c.Name == trace.CallSend && c.Result == trace.ResultOK {
		arg = quoteCut(c.Detail, 24)
	}
	s := fmt.Sprintf("%s(%s) -> %s", c.Name, arg, c.Result)
	switch {
	case c.Result == trace.ResultData:
		s += " " + quoteCut(c.Detail, 24)
	case c.Detail != "" && c.Name != trace.CallSend:
		s += ": " + c.Detail
	}
	return s
}

// Serve runs cfg.App's server on our stack. Over "tun" the peer is
// whatever the kernel side runs (the instructions say what); over "sim"
// it is the app's own client, on the simulator.
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
	h, closeAll, _, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	l, err := h.Listen(cfg.Port, 0)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, l.Close)
	defer stop()
	fmt.Fprintf(cfg.Out, "teardown serves %s (variant %s) on %s over TUN %s\non the kernel side run:  nc %s %d\n",
		cfg.App.Name, cfg.Variant, netip.AddrPortFrom(h.Addr, cfg.Port), cfg.TunName, h.Addr, cfg.Port)
	if cfg.Ready != nil {
		cfg.Ready()
	}
	for n := 0; cfg.Count == 0 || n < cfg.Count; n++ {
		c := l.Accept()
		if c == nil {
			return ctx.Err()
		}
		cfg.App.Server(c, cfg.Variant)
	}
	return nil
}

// Dial runs cfg.App's client on our stack against the kernel side's
// server (over "tun"), or against the app's own server (over "sim"). Over
// TUN it retries while the kernel refuses, until ctx ends, so the kernel's
// listener may be started after it.
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
	h, closeAll, kernel, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	fmt.Fprintf(cfg.Out, "teardown dials %s (%s) at %s over TUN %s\non the kernel side run:  nc -l %s %d\n",
		cfg.App.Name, cfg.Variant, netip.AddrPortFrom(kernel, cfg.Port), cfg.TunName, kernel, cfg.Port)
	if cfg.Ready != nil {
		cfg.Ready()
	}
	for {
		start := h.rec.now()
		tc, err := h.st.DialTCP(ctx, netip.AddrPortFrom(kernel, cfg.Port))
		if err == nil {
			// Recorded once it worked: the refused attempts while the
			// kernel's listener was not up yet are not part of the story.
			call := h.rec.tr.AddCall(start, trace.Call{Host: h.Name, Name: trace.CallConnect})
			h.rec.end(call, start, trace.ResultOK, 0, "")
			cfg.App.Client(&Conn{h: h, c: tc}, cfg.Variant)
			return nil
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
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
	return res.WriteText(cfg.Out, TextOptions{})
}
