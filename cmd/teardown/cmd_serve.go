package main

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/lab"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

func init() {
	for _, role := range []string{"serve", "dial"} {
		c := &command{name: role}
		if role == "serve" {
			c.short = "run an app's server on our stack, for a real client (the kernel's nc, socat, Python)"
			c.usage = "serve APP [--variant V] [--proto tcp|dccp] [--service N] [--port N] [--link sim|tun|udp] [--tun NAME] [--net CIDR] [--offload] [--local ADDR:PORT] [--peer ADDR:PORT] [--profile P] [--count N] [--max-conns N] [--idle-timeout S] [--keepalive on|off] [--trace]"
			c.long = "Serve runs APP's server on teardown's own stack, in real time. With --link tun it creates a TUN " +
				"device, gives the kernel the first host address of --net and our stack the second, and prints what to run " +
				"on the kernel side (e.g. 'nc 10.7.0.2 7'). With --link sim the app's own client talks to it in process, " +
				"on the simulator, and the diagram is printed. With --proto dccp the apps are datagram apps (variants naive " +
				"and linger; --service sets the service code) and --link udp carries DCCP in UDP (RFC 6773) from " +
				"--local (default 127.0.0.1:6511), so 'teardown dial APP --proto dccp --link udp' in another terminal " +
				"is the client. APP is one of " + strings.Join(lab.AppNames(), ", ") + "." +
				"\n\nOver tun and udp each connection is served on its own goroutine, at most --max-conns at once " +
				"(further clients wait in the listen backlog, as with a kernel server), and printed as one line when it " +
				"ends. A recv or send that waits --idle-timeout seconds (a silent client, one that stops reading or " +
				"acknowledging) ends its connection with RST. Ctrl-C (or SIGTERM) resets the connections still open and " +
				"prints a summary: connections, bytes, resets, errors." +
				"\n\nMemory is bounded: serve keeps counters per connection and no record of the bytes or calls, so " +
				"it stays near " + memBound + " however much it echoes and however many connections it serves; each connection open at once adds its socket " +
				"buffers (over tun 1 MiB to receive and 256 KiB to send at first, up to 6 and 4 MiB on a fast long path). --trace prints every call as it completes; the lines wait for the output " +
				"in a bounded ring, and those that find it full are dropped and counted."
		} else {
			c.short = "run an app's client on our stack against a real server (the kernel's nc -l, socat)"
			c.usage = "dial APP [--variant V] [--proto tcp|dccp] [--service N] [--port N] [--link sim|tun|udp] [--tun NAME] [--net CIDR] [--offload] [--local ADDR:PORT] [--peer ADDR:PORT] [--profile P] [--retries N] [--idle-timeout S] [--keepalive on|off] [--trace]"
			c.long = "Dial runs APP's client on teardown's own stack, in real time, against a server on the kernel side " +
				"of a TUN device (--link tun; it retries until the kernel's listener is up) or against the app's own " +
				"server in process (--link sim). With --proto dccp --link udp it calls a DCCP-UDP peer (--peer, default " +
				"127.0.0.1:6511, e.g. 'teardown serve APP --proto dccp --link udp') from --local (default 127.0.0.2:6511). " +
				"APP is one of " + strings.Join(lab.AppNames(), ", ") + "." +
				"\n\nDial says each retry: a refused connect is tried again --retries times, 500 ms apart, and an " +
				"unanswered SYN is reported each time it is sent again; then dial gives up with an error. A recv or " +
				"send that waits --idle-timeout seconds ends the connection with RST, and dial fails."
		}
		c.run = func(e *env, args []string) error { return runLive(e, c, args) }
		register(c)
	}
}

// memBound is the resident memory of serve echoing over TUN, measured:
// 21 MB at the peak while one client echoed 1 GB (16 MB after 200 MB,
// 12 MB after 10 000 short connections); it does not grow with either.
const memBound = "20 MB"

func runLive(e *env, c *command, args []string) error {
	fs := newFlags(e, c)
	variant := fs.String("variant", "naive", "V", "how our side closes: "+strings.Join(lab.CloseVariants, ", ")+
		" (DCCP: "+strings.Join(lab.DCCPVariants, ", ")+")")
	proto := fs.Choice("proto", "tcp", []string{"tcp", "dccp"}, "", "the transport")
	port := fs.Uint("port", 0, 0, 65535, "N", "the port (default: the app's: echo and echo-one 7, discard 9, primes 5000)")
	link := fs.Choice("link", "sim", []string{"sim", "tun", "udp"}, "", "the simulator, a TUN device, or DCCP in UDP")
	tunName := fs.String("tun", "td0", "NAME", "the TUN device's name (--link tun)")
	netFlag := fs.String("net", "10.7.0.0/24", "CIDR", "the TUN link's network (--link tun)")
	offload := fs.Bool("offload", "use the kernel's TUN offloads (TSO/GSO, checksums): large segments cross whole (--link tun)")
	prof := fs.Choice("profile", "linux", profile.Names(), "P", "our stack's profile")
	var count *uint64
	if c.name == "serve" {
		count = fs.Uint("count", 0, 0, 1<<31-1, "N", "return after this many connections (0: until interrupted)")
	}
	var maxConns, retries *uint64
	if c.name == "serve" {
		maxConns = fs.Uint("max-conns", lab.DefaultMaxConns, 1, 1<<20, "N", "serve at most N connections at once (--link tun, udp)")
	} else {
		retries = fs.Uint("retries", lab.DefaultRetries, 0, 1<<20, "N", "retry a refused connect N times, 500 ms apart (--link tun, udp)")
	}
	idle := fs.Uint("idle-timeout", uint64(lab.DefaultIdleTimeout/time.Second), 0, 1<<31-1, "S",
		"reset a connection whose recv or send waits S seconds; 0: wait for ever (--link tun, udp)")
	keepalive := fs.Choice("keepalive", "on", []string{"on", "off"}, "", "TCP keepalive probes on our connections (--link tun)")
	traceCalls := fs.Bool("trace", "print every call as it completes (--link tun, udp)")
	service := fs.Uint("service", 0, 0, 1<<32-1, "N", "the DCCP service code (--proto dccp; serve: 0 accepts any)")
	local := fs.String("local", "", "ADDR:PORT", "our UDP address (--link udp; default serve "+lab.DefaultUDPServer.String()+
		", dial "+lab.DefaultUDPClient.String()+")")
	peer := fs.String("peer", "", "ADDR:PORT", "the peer's UDP address (--link udp; default dial "+lab.DefaultUDPServer.String()+
		"; serve: the caller's IP at port 6511)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("%s takes one app (%s)", c.name, strings.Join(lab.AppNames(), ", "))
	}
	app, err := lab.LookupApp(pos[0])
	if err != nil {
		return usageError("%v", err)
	}
	variants := lab.CloseVariants
	if *proto == "dccp" {
		variants = lab.DCCPVariants
	}
	if !slices.Contains(variants, *variant) {
		return usageError("unknown variant %q for %s (variants: %s)", *variant, *proto, strings.Join(variants, ", "))
	}
	for _, rule := range []struct {
		ok    bool
		when  string
		flags []string
	}{
		{*link == "tun", "with --link tun", []string{"tun", "net", "offload"}},
		{*link == "udp", "with --link udp", []string{"local", "peer"}},
		{*proto == "dccp", "with --proto dccp", []string{"service"}},
		{*link != "sim", "with --link tun or udp", []string{"max-conns", "retries", "idle-timeout", "trace"}},
		{*link == "tun" && *proto == "tcp", "to TCP over --link tun", []string{"keepalive"}},
	} {
		if err := fs.only(rule.ok, rule.when, rule.flags...); err != nil {
			return err
		}
	}
	cfg := lab.LiveConfig{App: app, Variant: *variant, Profile: *prof, Port: uint16(*port), Link: *link,
		Proto: *proto, Service: uint32(*service), TunName: *tunName, TunOffload: *offload, Out: e.stdout}
	cfg.IdleTimeout = time.Duration(*idle) * time.Second
	if *idle == 0 {
		cfg.IdleTimeout = -1 // no limit
	}
	cfg.NoKeepAlive, cfg.Trace = *keepalive == "off", *traceCalls
	if count != nil {
		cfg.Count, cfg.MaxConns = int(*count), int(*maxConns)
	} else {
		cfg.Retries = int(*retries)
		if *retries == 0 {
			cfg.Retries = -1 // no retry
		}
	}
	switch *link {
	case "tun":
		p, err := netip.ParsePrefix(*netFlag)
		if err != nil {
			return usageError("--net %s: not a network in CIDR form (e.g. 10.7.0.0/24)", *netFlag)
		}
		cfg.Net = p
	case "udp":
		if *proto != "dccp" {
			return usageError("--link udp carries DCCP only (DCCP-UDP, RFC 6773): add --proto dccp")
		}
		if cfg.UDPLocal, cfg.UDPPeer, err = udpAddrs(c.name, *local, *peer); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if c.name == "serve" {
		err = lab.Serve(ctx, cfg)
	} else {
		err = lab.Dial(ctx, cfg)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, stack.ErrListenerClosed) {
		return nil
	}
	return err
}

// udpAddrs resolves --local and --peer for the udp link, with the
// defaults that let two teardown processes on one machine talk.
func udpAddrs(role, local, peer string) (netip.AddrPort, netip.AddrPort, error) {
	l, p := lab.DefaultUDPServer, netip.AddrPort{}
	if role == "dial" {
		l, p = lab.DefaultUDPClient, lab.DefaultUDPServer
	}
	var err error
	if local != "" {
		if l, err = netip.ParseAddrPort(local); err != nil {
			return l, p, usageError("--local %s: not an IP address and port (e.g. 127.0.0.2:6511)", local)
		}
	}
	if peer != "" {
		if p, err = netip.ParseAddrPort(peer); err != nil {
			return l, p, usageError("--peer %s: not an IP address and port (e.g. 127.0.0.1:6511)", peer)
		}
	}
	return l, p, nil
}
