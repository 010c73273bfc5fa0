package lab

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/link/udp"
	"github.com/teardown-lab/teardown/stack"
)

// The apps over DCCP: each send is one datagram, each recv reads one
// (RFC 4340 §1: an unreliable datagram stream with a connection around
// it). DCCP has no half-close, so a variant may close naively or linger
// (drain until the peer's close or a timeout, then close); "shutdown" is
// TCP's alone.

// DCCPVariants are the close variants the apps have over DCCP.
var DCCPVariants = []string{"naive", "linger"}

// Default UDP addresses of the udp link: two teardown processes on one
// machine talk DCCP-UDP over loopback, the server on 127.0.0.1 and the
// client on 127.0.0.2, both at the IANA port (RFC 6773 §7).
var (
	DefaultUDPServer = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), udp.Port)
	DefaultUDPClient = netip.AddrPortFrom(netip.MustParseAddr("127.0.0.2"), udp.Port)
)

// datagramEchoClient sends "hello" and reads one answer (an echo over
// datagrams has no end-of-stream to wait for), then closes.
func datagramEchoClient(c *Conn, _ string) {
	c.Send("hello")
	c.RecvTimeout(recvSize, lingerTimeout)
	c.Close()
}

// clientFor returns the app's client for proto.
func clientFor(app *App, proto string) func(c *Conn, variant string) {
	if proto == "dccp" && app.Name == "echo" {
		return datagramEchoClient
	}
	return app.Client
}

// appScenarioDCCP is appScenario over DCCP with the given service code.
func appScenarioDCCP(app *App, service uint32) func(p *Program) {
	return func(p *Program) {
		l, err := p.Server.ListenDCCP(app.Port, stack.DCCPListenOptions{Services: services(service)})
		if err != nil {
			panic("lab: listen: " + err.Error())
		}
		p.Go(func() {
			if c := l.Accept(); c != nil {
				app.Server(c, p.Variant)
			}
		})
		p.Go(func() {
			if c := p.Client.DialDCCP(p.ServerAddrPort(app.Port), stack.DCCPOptions{Service: service}); c != nil {
				clientFor(app, "dccp")(c, p.Variant)
			}
		})
	}
}

func services(s uint32) []uint32 {
	if s == 0 {
		return nil
	}
	return []uint32{s}
}

// udpHost builds our stack on a DCCP-UDP endpoint. The peer is
// cfg.UDPPeer (dial) or whoever calls (serve).
func udpHost(cfg *LiveConfig) (*liveRun, error) {
	peers := map[netip.Addr]netip.AddrPort{}
	if cfg.UDPPeer.IsValid() {
		peers[cfg.UDPPeer.Addr()] = cfg.UDPPeer
	}
	ep, err := udp.Open(udp.Config{Local: cfg.UDPLocal, Peers: peers})
	if err != nil {
		return nil, err
	}
	prof, err := lookupProfile(cfg.Profile, "")
	if err != nil {
		ep.Close()
		return nil, err
	}
	run, err := recordingHost(cfg, ep.LocalAddrPort().Addr(), ep, prof)
	if err != nil {
		return nil, err
	}
	run.peer = cfg.UDPPeer.Addr()
	return run, nil
}

// serveDCCP runs the app's server over DCCP on a TUN or UDP link, each
// connection on its own goroutine as over TCP.
func serveDCCP(ctx context.Context, cfg LiveConfig) error {
	run, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer run.closeAll()
	h := run.h
	l, err := h.ListenDCCP(cfg.Port, stack.DCCPListenOptions{Services: services(cfg.Service)})
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { l.l.Close() })
	defer stop()
	at := netip.AddrPortFrom(h.Addr, cfg.Port)
	if cfg.Link == "udp" {
		run.out.say("teardown serves %s over DCCP (variant %s, service %d) at %s, DCCP-UDP on %s\n"+
			"in another terminal run:  teardown dial %s --proto dccp --link udp --service %d\n",
			cfg.App.Name, cfg.Variant, cfg.Service, at, cfg.UDPLocal, cfg.App.Name, cfg.Service)
	} else {
		run.out.say("teardown serves %s over DCCP (variant %s, service %d) on %s over TUN %s\n"+
			"on the kernel side (modprobe dccp) a Python client:\n  %s\n",
			cfg.App.Name, cfg.Variant, cfg.Service, at, cfg.TunName, pythonDCCP("connect", at, cfg.Service))
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}
	return newServer(&cfg, run).run(ctx, l.Accept)
}

// pythonDCCP is a one-line kernel DCCP client or server for the TUN link
// (SOCK_DCCP 6, IPPROTO_DCCP 33, SOL_DCCP 269, DCCP_SOCKOPT_SERVICE 2:
// the service code is set before connect or listen).
func pythonDCCP(role string, at netip.AddrPort, service uint32) string {
	open := fmt.Sprintf(`import socket,struct;s=socket.socket(socket.AF_INET,6,33);s.setsockopt(269,2,struct.pack("!I",%d));`, service)
	if role == "connect" {
		return "python3 -c '" + open + fmt.Sprintf(`s.connect(("%s",%d));s.send(b"hello");print(s.recv(512));s.close()'`, at.Addr(), at.Port())
	}
	return "python3 -c '" + open + fmt.Sprintf(`s.bind(("%s",%d));s.listen(1);c,_=s.accept();print(c.recv(512));c.send(b"h");c.close()'`, at.Addr(), at.Port())
}

// dialDCCP runs the app's client over DCCP on a TUN or UDP link, retrying
// while the peer has no listener yet (Reset code 3, ECONNREFUSED).
func dialDCCP(ctx context.Context, cfg LiveConfig) error {
	run, err := liveHost(&cfg)
	if err != nil {
		return err
	}
	defer run.closeAll()
	to := netip.AddrPortFrom(run.peer, cfg.Port)
	if cfg.Link == "udp" {
		run.out.say("teardown dials %s over DCCP (%s, service %d) at %s, DCCP-UDP %s → %s\n",
			cfg.App.Name, cfg.Variant, cfg.Service, to, cfg.UDPLocal, cfg.UDPPeer)
	} else {
		run.out.say("teardown dials %s over DCCP (%s, service %d) at %s over TUN %s\n"+
			"on the kernel side (modprobe dccp) a Python server:\n  %s\n",
			cfg.App.Name, cfg.Variant, cfg.Service, to, cfg.TunName, pythonDCCP("listen", to, cfg.Service))
	}
	if cfg.Ready != nil {
		cfg.Ready()
	}
	var dc *stack.DCCPConn
	start := run.h.rec.now()
	err = run.connect(ctx, &cfg, to, func() (err error) {
		dc, err = run.h.st.DialDCCP(ctx, to, stack.DCCPOptions{Service: cfg.Service})
		return err
	})
	if err != nil {
		return err
	}
	return run.client(ctx, &cfg, &Conn{h: run.h, d: dc}, start)
}
