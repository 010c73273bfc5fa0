package tcp

import (
	"math"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// Config sets up a connection. Zero fields take the defaults listed with
// each field (Linux's values where Linux has one); DefaultConfig returns
// them filled in.
type Config struct {
	// MSS is the largest payload this end receives and sends per segment,
	// announced in the MSS option: the MTU minus the IP and TCP headers.
	// Default 1460 (Ethernet MTU, IPv4).
	MSS int
	// PeerDefaultMSS is the send MSS assumed when the peer's SYN carries no
	// MSS option: PeerDefaultMSS4 or PeerDefaultMSS6. Default the IPv4 one.
	PeerDefaultMSS int
	// MinSendMSS is the least send MSS taken from a peer's MSS option,
	// before the room of options in every segment comes off it (RFC 9293
	// §3.7.1, MUST-16; Linux tcp_min_snd_mss). Default 48.
	MinSendMSS int
	// RecvBuffer and SendBuffer are the receive and send buffer sizes in
	// bytes. Default 256 KiB each.
	RecvBuffer, SendBuffer int
	// MaxRecvBuffer is the largest the receive buffer may become (Linux:
	// the larger of tcp_rmem[2] and net.core.rmem_max). Under a profile
	// with WindowScaleForMaxBuffer the window scale is chosen to cover it
	// rather than RecvBuffer, unless RecvBufferSet. Default 6 MiB, Linux's
	// tcp_rmem[2].
	MaxRecvBuffer int
	// RecvBufferSet says RecvBuffer was set for this socket before its SYN
	// (SO_RCVBUF): Linux then clamps the window, and so the scale, to it.
	RecvBufferSet bool

	// NoWindowScaling, NoSACK and NoTimestamps turn off offering (and
	// accepting) the RFC 7323 window scale, RFC 2018 SACK-permitted and
	// RFC 7323 timestamps options. All three are on by default, as Linux.
	NoWindowScaling, NoSACK, NoTimestamps bool
	// NoDelay turns off Nagle's algorithm (RFC 9293 §3.7.4), as
	// TCP_NODELAY. Nagle is on by default.
	NoDelay bool
	// Cork holds back segments shorter than the MSS, in flight or not
	// (Linux TCP_CORK), until it is turned off or the FIN goes.
	Cork bool

	// DelayedACK is the longest an ACK for in-order data is delayed
	// (RFC 9293 §3.8.6.3 requires less than 0.5 s). Default 40 ms (Linux's
	// minimum delayed-ACK time).
	DelayedACK time.Duration
	// MSL is the maximum segment lifetime; TIME-WAIT lasts 2*MSL. Default
	// 30 s, so TIME-WAIT lasts 60 s as on Linux.
	MSL time.Duration
	// RTOInitial, RTOMin and RTOMax bound the retransmission timeout
	// (RFC 6298 §2: 1 s initial; Linux uses a 200 ms minimum and a 120 s
	// maximum). As on Linux, RTOMin bounds the variance term, so the RTO
	// is at least SRTT + RTOMin. Defaults 1 s, 200 ms, 120 s.
	RTOInitial, RTOMin, RTOMax time.Duration
	// SYNRetries is how often a SYN or SYN-ACK is retransmitted before the
	// open fails with ErrTimeout (Linux tcp_syn_retries). Default 6.
	SYNRetries int
	// Retries is how often a data segment or FIN is retransmitted without
	// progress before the connection fails with ErrTimeout (Linux
	// tcp_retries2). Default 15.
	Retries int
	// OrphanRetries replaces Retries, when smaller, for a connection the
	// application has closed: retransmissions and unanswered zero-window
	// probes; it also gives up after this many probes once their interval
	// reached RTOMax, answered or not (Linux tcp_orphan_retries, whose 0
	// means 8). Default 8.
	OrphanRetries int
	// UserTimeout, when positive, gives up a connection whose sent data has
	// gone unacknowledged this long (RFC 5482, RFC 9293 §3.8.3), measured
	// as Linux does from the first retransmission, or whose peer kept its
	// window shut this long from the first window probe (RFC 6429).
	// Zero: only Retries.
	UserTimeout time.Duration
	// KeepAlive turns on keepalive probes (RFC 9293 §3.8.4) after
	// KeepAliveIdle without segments from the peer (default 2 h), every
	// KeepAliveInterval (default 75 s), giving up after KeepAliveCount
	// unanswered probes (default 9) with RST and ErrTimeout, as Linux.
	KeepAlive                        bool
	KeepAliveIdle, KeepAliveInterval time.Duration
	KeepAliveCount                   int
	// FinWait2Timeout ends a connection left in FIN-WAIT-2 after a full
	// close, whose peer never sends FIN (Linux tcp_fin_timeout). Default 60 s.
	FinWait2Timeout time.Duration
	// MaxOrphans and MaxBufferMemory are host-wide limits, which the host
	// (package stack) enforces: the connections the application closed
	// that are still sending or waiting for the peer's FIN (orphans), and
	// the bytes of send and receive buffers all connections hold. A
	// connection closed beyond either, or an orphan whose timer fires while
	// the memory is over, is reset (Linux tcp_max_orphans, tcp_mem; both
	// sized there from the host's RAM). Defaults 65536 and 1 GiB.
	MaxOrphans      int
	MaxBufferMemory int64
	// ChallengeACKInterval is the least time between two ACKs answering
	// invalid segments: RFC 5961 challenge ACKs, and the duplicate ACKs for
	// segments outside the window or with an old timestamp (RFC 5961 §7
	// asks for a limit; Linux's tcp_invalid_ratelimit and gVisor allow one
	// per 500 ms per connection, one limit for all kinds). Default 500 ms.
	ChallengeACKInterval time.Duration
	// CongestionControl names the congestion controller of package cc:
	// "cubic" (the default, as Linux) or "newreno".
	CongestionControl string
	// NoRACK turns off RACK-TLP (RFC 8985: time-based loss detection and
	// the Tail Loss Probe), leaving loss detection to RFC 6675's duplicate
	// ACK threshold and the retransmission timer. RACK-TLP needs SACK and
	// is on by default, as on Linux.
	NoRACK bool

	// Profile selects the behaviours that differ between systems. The zero
	// Profile (no Name) means profile.Linux.
	Profile profile.Profile

	// RecordStates makes every Conn keep its state changes, with their time
	// and reason, until the host takes them (TakeStateChanges); the lab
	// draws its diagrams from them. Without it EventState alone says that
	// the state changed. Being data, not a hook, it leaves the Config
	// shareable.
	RecordStates bool

	// GSOMaxPayload, when above twice the send MSS, lets NextSegment hand
	// out a run of full new-data segments as one Segment of up to this
	// many payload bytes, with Segment.GSOSize set: a TSO super-segment
	// for a link that cuts it (the stack sets it for a link.GSOEndpoint).
	// RACK and the SACK scoreboard then keep one record per run, as Linux
	// keeps one per TSO buffer: a run counts as delivered when all of it
	// is, and retransmissions still go one segment at a time. Zero: one
	// segment per Segment, as on the wire.
	GSOMaxPayload int

	// shared marks a Config from Share: connections keep a pointer to it
	// instead of a copy of their own.
	shared bool
}

// The send MSS a peer's SYN without an MSS option implies (RFC 9293
// §3.7.1): the least datagram every IPv4 host takes (576 bytes) or IPv6's
// minimum MTU (1280, RFC 8200 §5), less the IP and TCP headers.
const (
	PeerDefaultMSS4 = 536
	PeerDefaultMSS6 = 1220
)

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	return c
}

// Share returns a copy of c with its defaults filled in, for many
// connections to use at once: a connection made from it keeps the pointer
// rather than a copy of the Config (224 bytes a connection fewer, which
// takes tcp.Conn down a size class). Neither the caller nor anyone else
// may change it afterwards. A Config that is not shared is copied into
// each connection made from it.
func (c Config) Share() *Config {
	c.setDefaults()
	c.shared = true
	return &c
}

// Config returns the Config c runs with: the shared one it was made from
// (Config.Share), or its own copy.
func (c *Conn) Config() *Config { return c.cfg }

func (c *Config) setDefaults() {
	def := func(p *time.Duration, d time.Duration) {
		if *p <= 0 {
			*p = d
		}
	}
	defInt := func(p *int, d int) {
		if *p <= 0 {
			*p = d
		}
	}
	defInt(&c.MSS, 1460)
	defInt(&c.PeerDefaultMSS, PeerDefaultMSS4)
	defInt(&c.MinSendMSS, 48)
	defInt(&c.RecvBuffer, 256<<10)
	defInt(&c.SendBuffer, 256<<10)
	defInt(&c.MaxRecvBuffer, 6<<20)
	defInt(&c.SYNRetries, 6)
	defInt(&c.Retries, 15)
	defInt(&c.OrphanRetries, 8)
	defInt(&c.KeepAliveCount, 9)
	def(&c.DelayedACK, 40*time.Millisecond)
	def(&c.MSL, 30*time.Second)
	def(&c.RTOInitial, time.Second)
	def(&c.RTOMin, 200*time.Millisecond)
	def(&c.RTOMax, 120*time.Second)
	def(&c.KeepAliveIdle, 2*time.Hour)
	def(&c.KeepAliveInterval, 75*time.Second)
	def(&c.FinWait2Timeout, 60*time.Second)
	defInt(&c.MaxOrphans, 65536)
	if c.MaxBufferMemory <= 0 {
		c.MaxBufferMemory = 1 << 30
	}
	def(&c.ChallengeACKInterval, 500*time.Millisecond)
	if c.Profile.Name == "" {
		c.Profile = profile.Linux
	}
	if c.MSS > math.MaxUint16 {
		c.MSS = math.MaxUint16
	}
	if c.RecvBuffer < 2*c.MSS {
		c.RecvBuffer = 2 * c.MSS
	}
	if c.SendBuffer < c.MSS {
		c.SendBuffer = c.MSS
	}
}

// windowShift is the RFC 7323 §2.2 shift this end announces: the smallest
// that lets the receive buffer be advertised, at most 14 (§2.3). RFC 7323
// leaves the choice to the receiver; Linux (tcp_select_initial_window)
// covers the largest buffer the socket may grow to instead of the one it
// has, unless SO_RCVBUF fixed it: ilog2(space)-15, which is the same
// smallest shift, of a larger space.
func (c *Config) windowShift() uint8 {
	space := c.RecvBuffer
	if c.scalesForMaxBuffer() {
		space = max(space, c.MaxRecvBuffer)
	}
	var s uint8
	for s < 14 && space>>s > wire.TCPMaxWindow {
		s++
	}
	return s
}

// synWindow is the window of a SYN or SYN-ACK, never scaled (RFC 7323
// §2.2): the receive buffer up to 65535. (Linux rounds it down to a
// multiple of the MSS, 64240; we do not: docs/drill.md.)
func (c *Config) synWindow() uint16 {
	return uint16(min(c.RecvBuffer, wire.TCPMaxWindow))
}

// scalesForMaxBuffer: the shift follows MaxRecvBuffer, so it does not
// move when the buffer is resized after the SYN.
func (c *Config) scalesForMaxBuffer() bool {
	return c.Profile.WindowScaleForMaxBuffer && !c.RecvBufferSet
}
