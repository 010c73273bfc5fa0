package testnet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// Host is a machine on the network: one stack with an IPv4 and an IPv6
// address. Its name resolves to those addresses in every host's Dial.
type Host struct {
	n       *Network
	name    string
	index   int
	v4, v6  netip.Addr
	sim     *netsim.Host
	link    *hostLink
	cfg     hostConfig
	backlog int
	crashed atomic.Bool

	mu    sync.Mutex
	stack *stack.Stack // replaced by Restart
	boots uint64
}

// HostOption configures Network.Host.
type HostOption interface{ applyHost(*hostConfig) }

type hostConfig struct {
	prof    profile.Profile
	tcp     stack.TCPOptions
	backlog int
}

type hostOption func(*hostConfig)

func (f hostOption) applyHost(c *hostConfig) { f(c) }

// TCPOptions sets the host's TCP tunables (buffers, Nagle, timeouts).
func TCPOptions(o stack.TCPOptions) HostOption {
	return hostOption(func(c *hostConfig) { c.tcp = o })
}

// Backlog sets the listen() backlog of the host's TCP listeners (128 by
// default): a small one makes "the peer's backlog is full" easy to reach.
func Backlog(n int) HostOption { return hostOption(func(c *hostConfig) { c.backlog = n }) }

// Host adds a host named name, linked to every other host by a clean link
// with DefaultLatency each way. A name used twice fails the test.
func (n *Network) Host(name string, opts ...HostOption) *Host {
	n.t.Helper()
	cfg := hostConfig{prof: n.prof}
	for _, o := range opts {
		o.applyHost(&cfg)
	}
	if name == "" || net.ParseIP(name) != nil {
		n.t.Fatalf("testnet: host name %q: want a name that is not an address", name)
	}
	n.mu.Lock()
	for _, h := range n.hosts {
		if h.name == name {
			n.mu.Unlock()
			n.t.Fatalf("testnet: a host named %q exists already", name)
		}
	}
	h := &Host{n: n, name: name, index: len(n.hosts) + 1, backlog: cfg.backlog, cfg: cfg}
	h.v4, h.v6 = addrs(h.index)
	others := append([]*Host(nil), n.hosts...)
	n.hosts = append(n.hosts, h)
	n.mu.Unlock()
	n.Do(func() {
		h.sim = n.sim.AddHost(name, h.v4, h.v6)
		h.sim.SetMTU(n.mtu)
		for _, o := range others {
			n.sim.Connect(o.sim, h.sim, netsim.LinkConfig{Latency: DefaultLatency})
		}
	})
	h.link = &hostLink{h: h, inner: n.run.Endpoint(h.sim)}
	h.boot()
	return h
}

// boot gives the host a new stack on its link.
func (h *Host) boot() {
	n := h.n
	var sched stack.Scheduler
	if n.gate != nil {
		sched = n.gate
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.boots++
	s, err := stack.New(stack.Config{Name: h.name, Addrs: []netip.Addr{h.v4, h.v6},
		Link: h.link, Clock: n.clk, Scheduler: sched, Profile: h.cfg.prof, TCP: h.cfg.tcp,
		Seed: n.seed ^ uint64(h.index)<<32 ^ h.boots<<48 | 1})
	if err != nil {
		n.t.Fatalf("testnet: host %s: %v", h.name, err)
	}
	h.stack = s
}

// Restart brings a host back with a new stack, as a machine that
// rebooted: the connections of the old one are gone without a trace (the
// old stack is closed while the host is cut off, so its RSTs never
// leave), and the new one answers their peers' next segments with RST
// (RFC 9293 §3.10.7.1). A host that did not Crash crashes first. The
// listeners and connections of the old stack are closed; listen again.
func (h *Host) Restart() {
	h.Crash()
	old := h.Stack()
	old.Close()
	h.boot()
	h.crashed.Store(false)
	h.n.mu.Lock()
	h.n.event("host %s restarted with a new stack", h.name)
	h.n.mu.Unlock()
}

// Name returns the host's name.
func (h *Host) Name() string { return h.name }

// Addr returns the host's IPv4 address (10.0.0.N).
func (h *Host) Addr() netip.Addr { return h.v4 }

// Addr6 returns the host's IPv6 address (fd00::N).
func (h *Host) Addr6() netip.Addr { return h.v6 }

// Stack returns the host's stack, for what Listen and Dial do not offer
// (DialTCPWith, counters, Sockets).
// After Restart it is the new stack.
func (h *Host) Stack() *stack.Stack {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stack
}

// String returns the host's name.
func (h *Host) String() string { return h.name }

// Lookup returns the host named name, or nil: the hosts NewServer made,
// say.
func (n *Network) Lookup(name string) *Host { return n.lookup(name) }

// lookup finds a host by name; n.mu not held.
func (n *Network) lookup(name string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.hosts {
		if h.name == name {
			return h
		}
	}
	return nil
}

// hostOf finds the host owning addr, or nil.
func (n *Network) hostOf(addr netip.Addr) *Host {
	addr = addr.Unmap()
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, h := range n.hosts {
		if h.v4 == addr || h.v6 == addr {
			return h
		}
	}
	return nil
}

// family checks a network string: "tcp", "tcp4", "tcp6" or "dccp".
func family(network string) (proto string, v4, v6 bool, err error) {
	switch network {
	case "tcp", "dccp":
		return network, true, true, nil
	case "tcp4":
		return "tcp", true, false, nil
	case "tcp6":
		return "tcp", false, true, nil
	}
	return "", false, false, net.UnknownNetworkError(network)
}

// resolve turns "host:port" into an address: host is a host's name or an
// IP address; a name gives its IPv4 address unless the network is tcp6.
func (n *Network) resolve(network, address string) (proto string, ap netip.AddrPort, err error) {
	proto, v4, v6, err := family(network)
	if err != nil {
		return "", ap, err
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return "", ap, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", ap, fmt.Errorf("invalid port %q", portStr)
	}
	if a, perr := netip.ParseAddr(host); perr == nil {
		a = a.Unmap()
		if a.Is4() && !v4 || a.Is6() && !v6 {
			return "", ap, &net.AddrError{Err: "address of the wrong family for " + network, Addr: host}
		}
		return proto, netip.AddrPortFrom(a, uint16(port)), nil
	}
	h := n.lookup(host)
	if h == nil {
		return "", ap, &net.DNSError{Err: "no such host on this testnet", Name: host, IsNotFound: true}
	}
	a := h.v4
	if !v4 {
		a = h.v6
	}
	return proto, netip.AddrPortFrom(a, uint16(port)), nil
}

// DialContext connects to address on the named network, as net.Dialer's
// DialContext does: network is "tcp", "tcp4", "tcp6" or "dccp"; address
// is "name:port" or "ip:port". The method value fits
// http.Transport.DialContext. Errors are *net.OpError values wrapping the
// stack's (errors.Is(err, syscall.ECONNREFUSED) holds for a refused one).
func (h *Host) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	proto, ap, err := h.n.resolve(network, address)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	if proto == "dccp" {
		c, err := h.Stack().DialDCCP(ctx, ap, stack.DCCPOptions{})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := h.Stack().DialTCP(ctx, ap)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dial is DialContext without a context.
func (h *Host) Dial(network, address string) (net.Conn, error) {
	return h.DialContext(context.Background(), network, address)
}

// Listen listens on address of the named network: "tcp", "tcp4", "tcp6"
// or "dccp"; port 0 picks a free port. As net.Listen does, the address
// says which of the host's addresses accept: ":port" (and "0.0.0.0" or
// "::" with "tcp") every one of the network's family — both for "tcp",
// the IPv4 one for "tcp4", the IPv6 one for "tcp6" — and "name:port" (the
// host's own name, its IPv4 address unless the network is "tcp6") or one
// of its own addresses that address alone; a SYN to another one is
// refused. The listener's Addr reports the bound address. DCCP listens on
// every address whatever the address says. A port in use, on any
// address, gives an error matching syscall.EADDRINUSE.
func (h *Host) Listen(network, address string) (net.Listener, error) {
	proto, bind, port, err := h.bindOf(network, address)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	if proto == "dccp" {
		l, err := h.Stack().ListenDCCP(port, stack.DCCPListenOptions{Backlog: h.backlog})
		if err != nil {
			return nil, err
		}
		return l, nil
	}
	l, err := h.Stack().ListenTCP(port, stack.ListenOptions{Backlog: h.backlog, Addr: bind})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// bindOf reads Listen's arguments: the protocol, the address to bind (the
// zero Addr: every one) and the port.
func (h *Host) bindOf(network, address string) (proto string, bind netip.Addr, port uint16, err error) {
	proto, v4, v6, err := family(network)
	if err != nil {
		return "", bind, 0, err
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return "", bind, 0, err
	}
	p, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return "", bind, 0, fmt.Errorf("invalid port %q", portStr)
	}
	switch a, perr := netip.ParseAddr(host); {
	case host == "" || perr == nil && a.IsUnspecified() && v4 && v6:
		if !v6 {
			bind = netip.IPv4Unspecified()
		} else if !v4 {
			bind = netip.IPv6Unspecified()
		}
	case host == h.name:
		bind = h.v4
		if !v4 {
			bind = h.v6
		}
	case perr != nil:
		return "", bind, 0, fmt.Errorf("%s is not an address of host %s: %w", host, h.name, stack.ErrAddrNotAvailable)
	default:
		bind = a.Unmap()
		if bind.Is4() && !v4 || bind.Is6() && !v6 {
			return "", bind, 0, &net.AddrError{Err: "address of the wrong family for " + network, Addr: host}
		}
		if !bind.IsUnspecified() && bind != h.v4 && bind != h.v6 {
			return "", bind, 0, fmt.Errorf("%s is not an address of host %s: %w", host, h.name, stack.ErrAddrNotAvailable)
		}
	}
	return proto, bind, uint16(p), nil
}

// Crash makes the host vanish from the network: from now on nothing it
// sends leaves it and nothing reaches it, so its peers see silence — no
// FIN, no RST — as when a machine loses power or its cable. Its programs
// keep running against a stack that talks to nobody.
func (h *Host) Crash() {
	if !h.crashed.Swap(true) {
		h.n.mu.Lock()
		h.n.event("host %s crashed: no packet in or out from now on", h.name)
		h.n.mu.Unlock()
		h.n.faulty.Store(true)
	}
}
