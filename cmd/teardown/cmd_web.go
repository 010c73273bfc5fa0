package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/teardown-lab/teardown/web"
)

func init() {
	register(&command{
		name:  "web",
		short: "the lab in a browser: pick a scenario and watch it unfold, step by step",
		usage: "web [--addr IP] [--port N] [--export DIR]",
		long: "Web serves a page on localhost where one picks a scenario, a variant and a profile and watches " +
			"the run unfold instant by instant (Step, Play, Reset; the keys →, ←, space, r, End): packets as " +
			"arrows, application calls, state changes, then the verdict and why. Two variants run side by " +
			"side; the link's delay can be changed, a packet clicked to drop what its sender sends at that " +
			"instant, and the half-close and linger variants toggled. Each run's pcap (the bytes 'teardown run " +
			"--pcap' writes), SVG and JSON download; an uploaded capture is analysed as 'teardown analyze' " +
			"does and each connection drawn the same way. The stacks and the simulator run in the browser, " +
			"compiled to WebAssembly when the page is written (this needs the go command and the source: run " +
			"it in a checkout); --export DIR writes the page as static files that work from disk or any file " +
			"server, with no teardown behind them (docs/web.md).",
		run: runWeb,
	})
}

func runWeb(e *env, args []string) error {
	c := commands["web"]
	fs := newFlags(e, c)
	addr := fs.String("addr", "127.0.0.1", "IP", "the address to serve on")
	port := fs.Uint("port", 8080, 0, 65535, "N", "the port to serve on (0: any free one)")
	export := fs.String("export", "", "DIR", "write the page's files into DIR instead of serving them")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if err := noArgs(c, pos); err != nil {
		return err
	}
	if err := fs.only(*export == "", "when serving, not with --export", "addr", "port"); err != nil {
		return err
	}
	ip, err := netip.ParseAddr(*addr)
	if err != nil {
		return usageError("--addr %s: not an IP address", *addr)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if *export != "" {
		if err := web.Build(ctx, *export); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "wrote the page into %s: open %s/index.html, or serve the directory\n", *export, *export)
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), strconv.FormatUint(*port, 10)))
	if err != nil {
		return err
	}
	defer ln.Close()
	dir, err := os.MkdirTemp("", "teardown-web-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	fmt.Fprintf(e.stderr, "teardown web: compiling the lab to WebAssembly…\n")
	if err := web.Build(ctx, dir); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "serving the lab on http://%s/ (Ctrl-C stops)\n", ln.Addr())
	return web.Serve(ctx, ln, dir)
}
