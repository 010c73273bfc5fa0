package stack

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	mrand "math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/profile"
)

// Config describes a host.
type Config struct {
	// Name names the host in traces and errors ("client"); optional.
	Name string
	// Addrs are the host's IP addresses (IPv4 and/or IPv6); at least one.
	Addrs []netip.Addr
	// Link is the network interface. The stack attaches itself to it.
	Link link.Endpoint
	// Clock supplies time and timers; nil means the wall clock. Use
	// simrun.Runner.Clock() to run in a simulator's virtual time.
	Clock clock.TimerClock
	// Scheduler is told when calls block and wake (simrun.Runner); nil for
	// real use.
	Scheduler Scheduler
	// Profile selects behaviours that differ between real systems; the
	// zero Profile means profile.Linux.
	Profile profile.Profile
	// TCP sets defaults for every TCP connection of the stack.
	TCP TCPOptions
	// EphemeralPorts is the range, first and last included, that the local
	// ports of outgoing connections and of listeners on port 0 are drawn
	// from; the zero value means Linux's default, 32768–60999
	// (net.ipv4.ip_local_port_range). A host that opens connections faster
	// than the range divided by TIME-WAIT's length runs out
	// (EADDRNOTAVAIL), as Linux does.
	EphemeralPorts [2]uint16
	// Seed fixes the stack's random choices (ISN secret, ephemeral ports)
	// so that simulated runs are reproducible; zero draws them from
	// crypto/rand.
	Seed uint64
	// OnStateChange, if set, is called at every TCP and DCCP state change of every
	// connection, with the connection's endpoints (the lab draws from it).
	// It runs with the connection locked: it must not call the stack.
	OnStateChange func(now clock.Instant, local, remote netip.AddrPort, from, to, why string)
}

// TCPOptions are the tunables of TCP connections. Zero values mean the
// defaults (Linux's where Linux has one).
type TCPOptions struct {
	// SendBuffer and ReceiveBuffer are the socket buffer sizes in bytes
	// a connection starts with: default 256 KiB each, except that the
	// receive buffer is what the link suggests if it does
	// (link.BufferHinter: 1 MiB over a TUN device), up to
	// MaxReceiveBuffer. Each grows to what its path needs, the receive
	// buffer up to MaxReceiveBuffer and the send buffer up to 4 MiB, as
	// Linux's autotuning, unless the connection's own size was set
	// (DialOptions, ListenOptions, SetReadBuffer, SetWriteBuffer).
	SendBuffer, ReceiveBuffer int
	// MaxReceiveBuffer is the largest a receive buffer may grow to (Linux:
	// tcp_rmem[2]); under the linux profile the window scale covers it.
	// Default 6 MiB.
	MaxReceiveBuffer int
	// Nagle turns Nagle's algorithm (RFC 9293 §3.7.4) on for new
	// connections. It is off by default, as in Go's net package, which
	// sets TCP_NODELAY on every connection it dials or accepts: a small
	// write is sent at once instead of waiting for the previous one's ACK
	// (with the peer's delayed ACK, 40 ms per write-write-read exchange).
	// TCPConn.SetNoDelay changes it per connection.
	Nagle bool
	// NoSACK, NoTimestamps and NoWindowScaling turn the options off.
	NoSACK, NoTimestamps, NoWindowScaling bool
	// CongestionControl is "cubic" (default) or "newreno".
	CongestionControl string
	// MSL is the maximum segment lifetime; TIME-WAIT lasts 2*MSL
	// (default 30 s, so 60 s as Linux).
	MSL time.Duration
	// DelayedACK is the delayed-ACK timeout (default 40 ms).
	DelayedACK time.Duration
	// RTOMin, RTOInitial and RTOMax bound the retransmission timeout
	// (defaults 200 ms, 1 s, 120 s).
	RTOMin, RTOInitial, RTOMax time.Duration
	// SYNRetries and Retries limit retransmissions (defaults 6 and 15).
	SYNRetries, Retries int
	// UserTimeout gives up a connection whose data stays unacknowledged
	// this long (RFC 5482); zero means only Retries.
	UserTimeout time.Duration
	// FinWait2Timeout ends an orphaned FIN-WAIT-2 (default 60 s).
	FinWait2Timeout time.Duration
	// MaxOrphans and MaxBufferMemory bound the stack as a whole: the
	// connections closed by the application but not yet ended (orphans:
	// FIN-WAIT-1 and -2, CLOSING, LAST-ACK; not TIME-WAIT), and the bytes
	// of send and receive buffers held by all connections. A connection
	// closed beyond either, or an orphan whose timer fires while the
	// memory is over, is reset instead (Linux tcp_max_orphans, tcp_mem),
	// counted in Stats. Defaults 65536 and 1 GiB.
	MaxOrphans      int
	MaxBufferMemory int64
	// KeepAlive turns keepalive probes on for new connections (RFC 1122
	// §4.2.3.6) when Enable is set — as Go's net.Dialer and
	// net.ListenConfig do by default — with TCPConn.SetKeepAliveConfig's
	// meaning of zero fields: Go's 15 s, 15 s and 9 probes. Without Enable
	// keepalive is off, and a later TCPConn.SetKeepAlive(true) uses the
	// positive fields, else Linux's defaults (2 h, 75 s, 9).
	KeepAlive net.KeepAliveConfig
}

// Stats are a stack's counters.
type Stats struct {
	// PacketsIn and PacketsOut count IP packets received and sent.
	PacketsIn, PacketsOut uint64
	// Dropped counts received packets dropped before any connection saw
	// them, by reason ("bad-ip", "fragment", "not-ours", "bad-tcp",
	// "bad-checksum", "bad-options", "unknown-protocol"; and the source
	// addresses no host sends from, RFC 1122 §3.2.1.3: "src-broadcast",
	// "src-multicast", "src-unspecified", "src-loopback", "src-reserved",
	// "src-own", "src-v4-mapped").
	Dropped map[string]uint64
	// TCP sums the counters of every TCP connection, closed ones included.
	TCP TCPCounters
	// RSTsForNoConnection counts RSTs sent for segments that matched no
	// connection or listener (RFC 9293 §3.10.7.1).
	RSTsForNoConnection uint64
	// ConnsOpened counts connections created (active and passive).
	ConnsOpened uint64
	// EncodeFailed counts segments the stack could not encode into a
	// packet (larger than the link MTU): always zero unless there is a bug.
	EncodeFailed uint64
	// SegmentsDeferred counts TCP segments handed to the goroutine inside
	// Read or Write on their connection for processing (sock_defer.go),
	// instead of being processed by the goroutine that delivered them.
	SegmentsDeferred uint64
	// TurnsYielded counts the times a goroutine woken on a busy connection
	// let the others waiting for a processor run first (sock_turn.go).
	TurnsYielded uint64
	// ProbesHeldInHost counts tail loss probes (RFC 8985 §7.3) not sent
	// because the segment they would have sent again had not yet left
	// this host: it was still in the connection's queue or in a link
	// write that had not returned (Linux: TCPSpuriousRtxHostQueues).
	ProbesHeldInHost uint64
	// Orphans is the number of orphaned connections now, BufferMemory the
	// bytes of buffers all connections hold now (TCPOptions.MaxOrphans,
	// MaxBufferMemory).
	Orphans      int
	BufferMemory int64
	// OrphanCapResets and MemoryCapResets count the connections reset
	// because closing them would exceed MaxOrphans, or because the buffer
	// memory was over MaxBufferMemory when they were closed or when an
	// orphan's timer fired (Linux counts both as TCPAbortOnMemory).
	OrphanCapResets, MemoryCapResets uint64
	// ICMP counts the ICMP and ICMPv6 messages received (icmp.go).
	ICMP ICMPCounters
	// Fragments counts IPv4 reassembly (reasm4.go).
	Fragments FragmentCounters
}

// dropReason indexes the stack-level drop counters.
type dropReason int

const (
	dropBadIP dropReason = iota
	dropFragment
	dropNotOurs
	dropBadTCP
	dropBadChecksum
	dropBadOptions
	dropUnknownProto
	// Bad source addresses (srcaddr.go).
	dropSrcBroadcast
	dropSrcMulticast
	dropSrcUnspecified
	dropSrcLoopback
	dropSrcReserved
	dropSrcOwn
	dropSrcV4Mapped
	numDrops
)

var dropNames = [numDrops]string{"bad-ip", "fragment", "not-ours", "bad-tcp", "bad-checksum", "bad-options", "unknown-protocol",
	"src-broadcast", "src-multicast", "src-unspecified", "src-loopback", "src-reserved", "src-own", "src-v4-mapped"}

// Stack is a host running teardown's TCP over a link.
type Stack struct {
	name    string
	addrs   []netip.Addr
	link    link.Endpoint
	mtu     int
	clk     clock.TimerClock
	sched   Scheduler
	prof    profile.Profile
	tcpOpts TCPOptions
	// ephemeral is Config.EphemeralPorts, defaults applied.
	ephemeral [2]uint16
	// tcpCfg4 and tcpCfg6 are the connections' shared configurations.
	tcpCfg4, tcpCfg6 *tcp.Config
	isn              *tcp.ISNGenerator
	onState          func(now clock.Instant, local, remote netip.AddrPort, from, to, why string)

	// mu guards listeners, closed and rng. Every received TCP segment
	// reads the listeners (deliverTCP) under a read lock, so that the
	// flows of a busy stack do not queue behind one another for a map
	// lookup (128 flows over the pipe: 61 s of waiting on it per 2 s of run
	// as an exclusive lock). A dial or an accept holds the read lock while
	// it registers its connection, so that Close, which takes the write
	// lock, finds every connection registered before it and no other.
	mu  sync.RWMutex
	rng *mrand.Rand
	// portKey and portCounters choose ephemeral ports (pickPort). The
	// counters are atomic: dials claim ports side by side (claimPort).
	portKey      [32]byte
	portCounters *[portTableLen]atomic.Uint32
	// conns are the TCP connections, locked by shards (conn_table.go).
	conns     connTable
	listeners map[uint16]*TCPListener
	closed    bool

	pktsIn, pktsOut atomic.Uint64
	drops           [numDrops]atomic.Uint64
	rstNoConn       atomic.Uint64
	segsDeferred    atomic.Uint64
	turnsYielded    atomic.Uint64
	probesHeld      atomic.Uint64
	turns           atomic.Uint32 // turns ended on all connections (sock_turn.go)
	txEncodeFailed  atomic.Uint64
	opened          atomic.Uint64
	res             stackResources // orphans and buffer memory (orphans.go)
	icmp            icmpStats
	reasm           reassembler
	statsMu         sync.Mutex
	tcpDone         tcp.Counters // counters of connections already forgotten

	// rstBuf is where RSTs for no connection are built (under mu).
	rstBuf []byte

	// dccp holds the DCCP connections and listeners (dccp_table.go).
	dccp dccpTables

	// gsoLink is link when it takes super-segments (link.GSOEndpoint),
	// gsoMax their largest size; nil and 0 otherwise (txqueue_gso.go).
	gsoLink link.GSOEndpoint
	gsoMax  int
}

// fourTuple identifies a TCP connection from this host's side.
type fourTuple struct {
	local, remote netip.AddrPort
}

// New creates a stack and attaches it to cfg.Link.
func New(cfg Config) (*Stack, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("stack: Config.Addrs is empty: a host needs an address")
	}
	if cfg.Link == nil {
		return nil, errors.New("stack: Config.Link is nil")
	}
	for _, a := range cfg.Addrs {
		if !a.IsValid() {
			return nil, fmt.Errorf("stack: invalid address %v", a)
		}
	}
	eph := cfg.EphemeralPorts
	if eph == [2]uint16{} {
		eph = [2]uint16{ephemeralFirst, ephemeralLast}
	}
	if eph[0] == 0 || eph[0] > eph[1] {
		return nil, fmt.Errorf("stack: EphemeralPorts %d–%d is not a range of ports", eph[0], eph[1])
	}
	mtu := cfg.Link.MTU()
	if mtu < 576 {
		return nil, fmt.Errorf("stack: link MTU %d is below IPv4's minimum of 576", mtu)
	}
	s := &Stack{
		name:      cfg.Name,
		addrs:     append([]netip.Addr(nil), cfg.Addrs...),
		link:      cfg.Link,
		mtu:       mtu,
		clk:       cfg.Clock,
		sched:     cfg.Scheduler,
		prof:      cfg.Profile,
		tcpOpts:   cfg.TCP,
		ephemeral: eph,
		onState:   cfg.OnStateChange,
		listeners: make(map[uint16]*TCPListener),
		rstBuf:    make([]byte, 120),
		dccp:      newDCCPTables(),
	}
	if g, ok := cfg.Link.(link.GSOEndpoint); ok && g.GSOMaxSize() > mtu {
		s.gsoLink, s.gsoMax = g, g.GSOMaxSize()
	}
	if h, ok := cfg.Link.(link.BufferHinter); ok && s.tcpOpts.ReceiveBuffer <= 0 {
		hint := max(h.ReceiveBufferHint(), 0)
		if m := s.tcpOpts.MaxReceiveBuffer; m > 0 {
			hint = min(hint, m)
		}
		s.tcpOpts.ReceiveBuffer = hint
	}
	for i, a := range s.addrs {
		s.addrs[i] = a.Unmap()
	}
	s.conns.init()
	if s.clk == nil {
		s.clk = clock.NewRealTimers()
	}
	if s.prof.Name == "" {
		s.prof = profile.Linux
	}
	s.tcpCfg4, s.tcpCfg6 = s.buildTCPConfig(true), s.buildTCPConfig(false)
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		rand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:]) | 1
	}
	s.rng = mrand.New(mrand.NewPCG(seed, 0x7465617264776e)) // "teardwn"
	var secret [32]byte
	for i := 0; i < 32; i += 8 {
		binary.LittleEndian.PutUint64(secret[i:], s.rng.Uint64())
	}
	s.isn = tcp.NewISNGenerator(secret)
	s.portKey = sha256.Sum256(append([]byte("ephemeral ports "), secret[:]...))
	s.portCounters = new([portTableLen]atomic.Uint32)
	cfg.Link.Attach((*receiver)(s))
	return s, nil
}

// Name returns the host's name.
func (s *Stack) Name() string { return s.name }

// Addrs returns the host's addresses.
func (s *Stack) Addrs() []netip.Addr { return append([]netip.Addr(nil), s.addrs...) }

// Clock returns the clock the stack runs on.
func (s *Stack) Clock() clock.TimerClock { return s.clk }

// Profile returns the stack's profile.
func (s *Stack) Profile() profile.Profile { return s.prof }

func (s *Stack) hasAddr(a netip.Addr) bool {
	a = a.Unmap()
	for _, x := range s.addrs {
		if x == a {
			return true
		}
	}
	return false
}

// addrFor returns the stack's address of the same family as remote.
func (s *Stack) addrFor(remote netip.Addr) (netip.Addr, bool) {
	remote = remote.Unmap()
	for _, a := range s.addrs {
		if a.Is4() == remote.Is4() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (s *Stack) drop(r dropReason) { s.drops[r].Add(1) }

// Stats returns the stack's counters.
func (s *Stack) Stats() Stats {
	st := Stats{
		PacketsIn:           s.pktsIn.Load(),
		PacketsOut:          s.pktsOut.Load(),
		Dropped:             make(map[string]uint64),
		RSTsForNoConnection: s.rstNoConn.Load(),
		SegmentsDeferred:    s.segsDeferred.Load(),
		TurnsYielded:        s.turnsYielded.Load(),
		ProbesHeldInHost:    s.probesHeld.Load(),
		ConnsOpened:         s.opened.Load(),
		EncodeFailed:        s.txEncodeFailed.Load(),
		ICMP:                s.icmp.snapshot(),
		Fragments:           s.reasm.counters(),
	}
	s.res.stats(&st)
	for i := range s.drops {
		if n := s.drops[i].Load(); n > 0 {
			st.Dropped[dropNames[i]] = n
		}
	}
	s.statsMu.Lock()
	sum, live := s.tcpDone, s.conns.all()
	s.statsMu.Unlock()
	for _, ep := range live {
		ep.mu.Lock()
		sum.Add(ep.core.Counters())
		ep.mu.Unlock()
	}
	st.TCP = TCPCounters(sum)
	return st
}

// Close ends everything the stack has, then detaches it from its link (the
// link itself stays open: it is the caller's). A second Close does
// nothing.
//
// TCP: every listener closes as TCPListener.Close does (connections not
// yet accepted are reset, half-open ones forgotten), and every connection
// is aborted as Close after SetLinger(0) does: an RST in every state that
// has a peer, while a connection in SYN-SENT or TIME-WAIT just ends; both
// queues are discarded.
//
// DCCP: every listener closes as DCCPListener.Close does (connections not
// yet accepted are reset), and every connection that has not ended is
// aborted as DCCPConn.Abort does: Reset(Aborted), both queues discarded; a
// connection already in TIMEWAIT or CLOSED is left as it is.
//
// Calls blocked on any of these connections and listeners return.
func (s *Stack) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	ls := slices.Collect(maps.Values(s.listeners))
	eps := s.conns.all()
	s.mu.Unlock()
	for _, l := range ls {
		l.Close()
	}
	for _, ep := range eps {
		ep.abort()
	}
	s.closeDCCP()
	s.link.Attach(nil)
	return nil
}
