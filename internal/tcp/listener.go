package tcp

import (
	"net/netip"
	"slices"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// The listen backlog (docs/backlog.md): a SYN queue of half-open requests
// and an accept queue of established connections, with the rules real
// systems differ on. Listener is sans-I/O like Conn: the host feeds it the
// segments that reached a listening port and matched no connection
// (HandleSegment) and the time (HandleTimer), and pulls what it produced:
// segments to send (NextSegment), events (TakeEvents), a deadline
// (NextDeadline). The Conns themselves are the host's; the Listener only
// keeps the host's handles to them (type parameter C) in order.

// synackRetries is how often a SYN-ACK is retransmitted before the
// half-open request is given up (Linux tcp_synack_retries).
const synackRetries = 5

// cookieWindow is how long after the last SYN cookie an unmatched ACK is
// still checked as a cookie (Linux: tcp_synq_no_recent_overflow, two
// cookie periods); other ACKs are answered with RST at once.
const cookieWindow = 2 * cookiePeriod

// defaultBacklog is the backlog when ListenConfig.Backlog is zero.
const defaultBacklog = 128

// Tuple names a connection by its two ends, as seen from this host.
type Tuple struct {
	Local, Remote netip.AddrPort
}

// ListenConfig configures a Listener. The rules are plain values: the
// host fills them from its profile (profile.Profile's fields of the same
// names) and from the listener's options.
type ListenConfig struct {
	// Backlog is listen()'s backlog: the SYN queue's size, and the accept
	// queue's bound as the rules below count it. Zero means 128.
	Backlog int
	// Conn4 and Conn6 are the connection configurations of the two address
	// families: the options a SYN-ACK offers, cookies' checks, the SYN-ACK
	// retransmission timeout (RTOInitial doubling up to RTOMax). nil means
	// DefaultConfig.
	Conn4, Conn6 *Config
	// CookieSecret keys the SYN cookies; the host draws it at random.
	CookieSecret [32]byte
	// TSOffsets gives the TSval offsets of the connections (per pair of
	// addresses): the host's, so that its active and passive connections
	// share one clock per peer. nil: a generator keyed with CookieSecret.
	TSOffsets *ISNGenerator

	// SYNACKBeforeAccept: a SYN is answered at once; false, only when
	// Accept takes it off the queue (VOS before 17.1).
	SYNACKBeforeAccept bool
	// RSTOnFullBacklog: a SYN that finds the backlog full draws RST; false,
	// it is dropped in silence.
	RSTOnFullBacklog bool
	// SeparateSYNQueue: the SYN queue and the accept queue are bounded
	// apart, and a final ACK re-checks the accept queue (Linux); false,
	// one backlog counts both and a place is reserved at the SYN.
	SeparateSYNQueue bool
	// AcceptQueueExtraSlot: the accept queue is full only when it holds
	// more than the backlog (Linux's sk_acceptq_is_full).
	AcceptQueueExtraSlot bool
	// SYNQueueExtraSlot: the SYN queue holds backlog+1 half-open requests
	// (Linux's inet_csk_reqsk_queue_is_full). Only with SeparateSYNQueue.
	SYNQueueExtraSlot bool
	// SYNCookies: a SYN that finds the SYN queue full (and the accept
	// queue not) is answered with a cookie. Only with SeparateSYNQueue.
	SYNCookies bool
	// AcceptReturnsReset: a queued connection that is reset stays queued
	// for Accept (Linux); false, it is removed (VOS 17.1).
	AcceptReturnsReset bool
	// AbortOnOverflow answers a final ACK that finds the accept queue full
	// with RST instead of dropping it (Linux tcp_abort_on_overflow=1).
	AbortOnOverflow bool
}

// ListenEvents is a set of things that happened since the last
// TakeEvents: what a host wakes its blocked Accept calls for.
type ListenEvents uint8

// The events.
const (
	// ListenReady: a connection joined the accept queue.
	ListenReady ListenEvents = 1 << iota
	// ListenRequestGone: a half-open request ended (reset, expired) while
	// it is Accept that answers SYNs (no SYNACKBeforeAccept): a waiting
	// Accept may answer the next one.
	ListenRequestGone
)

// ListenStats are a Listener's counters, and its queue lengths. Each is
// documented on stack.ListenStats, which is converted from this type: the
// two keep the same fields in the same order.
type ListenStats struct {
	SYNsReceived, SYNsDropped, RSTsSent            uint64
	SYNACKsSent, SYNACKRetransmits                 uint64
	RequestsExpired, RequestsReset                 uint64
	CookiesSent, CookiesValidated, CookiesRejected uint64
	AcceptOverflows, QueuedResets, Accepted        uint64
	SYNFINsDropped, StaleACKsReset                 uint64
	SpentCookiesEvicted                            uint64
	SYNQueue, AcceptQueue                          int
}

// Listener is one listening port's backlog: RFC 9293 §3.10.7.2 (LISTEN),
// and §3.10.7.4 in SYN-RECEIVED reduced to what a half-open request can
// meet. C is the host's handle to a connection (comparable: the Listener
// finds it again by ==).
type Listener[C comparable] struct {
	cfg ListenConfig
	jar CookieJar

	syn      synQueue
	building []C // handshake done, reported by Joining, not yet ESTABLISHED
	acceptQ  []C // established, waiting for Accept

	lastCookie clock.Instant // last SYN cookie sent (0: never)
	spent      spentCookies  // tuples whose cookie made a connection lately
	next       clock.Instant // earliest SYN-ACK deadline (may be early: stale)
	out        []outSegment
	sent       int // out[:sent] were taken by NextSegment
	events     ListenEvents
	closed     bool
	stats      ListenStats
}

// outSegment is a segment the Listener wants sent, and where.
type outSegment struct {
	tuple Tuple
	seg   Segment
}

// NewListener returns a Listener. Its SYN queue is allocated here, once:
// filling it and flooding past it allocate nothing.
func NewListener[C comparable](cfg ListenConfig) *Listener[C] {
	if cfg.Backlog <= 0 {
		cfg.Backlog = defaultBacklog
	}
	for _, p := range []**Config{&cfg.Conn4, &cfg.Conn6} {
		switch {
		case *p == nil:
			*p = DefaultConfig().Share()
		case !(*p).shared:
			*p = (*p).Share() // its defaults filled in, for FillSYNACK
		}
	}
	if cfg.TSOffsets == nil {
		cfg.TSOffsets = NewISNGenerator(cfg.CookieSecret)
	}
	l := &Listener[C]{cfg: cfg, jar: CookieJar{key: cfg.CookieSecret, ts: cfg.TSOffsets}}
	n := cfg.Backlog
	if cfg.SYNQueueExtraSlot && cfg.SeparateSYNQueue {
		n++
	}
	l.syn.init(n)
	return l
}

// HandleSegment takes a segment that reached the listening port and
// matched no connection. iss is the initial sequence number for a SYN
// that gets queued (the host's ISN generator; unused otherwise). When the
// segment completes a handshake it returns the Request the host makes the
// Conn from (NewFromRequest), hands the segment to and reports with
// Joining.
func (l *Listener[C]) HandleSegment(now clock.Instant, t Tuple, seg *Segment, iss seqnum.V32) (Request, bool) {
	if seg.Flags&(wire.SYN|wire.FIN|wire.ACK|wire.RST) == wire.SYN|wire.FIN {
		// SYN+FIN opens and closes at once: no real client sends it, scans
		// do. Linux drops it in LISTEN (tcp_rcv_state_process) without an
		// answer; so do we, before it takes a SYN-queue slot.
		l.stats.SYNFINsDropped++
		return Request{}, false
	}
	if e := l.syn.lookup(t); e != nil {
		return l.halfOpen(now, e, seg, iss)
	}
	switch {
	case seg.Flags.Has(wire.RST): // an RST to a listener is ignored
	case seg.Flags.Has(wire.ACK):
		return l.bareACK(now, t, seg)
	case seg.Flags.Has(wire.SYN):
		l.handleSYN(now, t, seg, iss)
	}
	// no SYN, no ACK, no RST: drop
	return Request{}, false
}

// Joining reports that the host made the Conn c of a Request from
// HandleSegment: it counts as queued from now on, and joins the accept
// queue when it reports ESTABLISHED (ConnChanged).
func (l *Listener[C]) Joining(c C) { l.building = append(l.building, c) }

// ConnChanged reports that c, a connection of this Listener not yet
// accepted, was established or ended. It reports whether the Listener let
// go of c: it will not be accepted.
func (l *Listener[C]) ConnChanged(c C, established, ended bool) (released bool) {
	if i := slices.Index(l.building, c); i >= 0 {
		l.building = slices.Delete(l.building, i, i+1)
		if established && !l.closed {
			l.acceptQ = append(l.acceptQ, c)
			l.events |= ListenReady
			return false
		}
		return true
	}
	if !ended || l.cfg.AcceptReturnsReset {
		return false
	}
	// VOS 17.1: "the reset effectively removes the socket from the
	// backlog queue so the accept does not see it".
	if i := slices.Index(l.acceptQ, c); i >= 0 {
		l.acceptQ = slices.Delete(l.acceptQ, i, i+1)
		l.stats.QueuedResets++
		return true
	}
	return false
}

// Accept takes the oldest connection of the accept queue. With none, a
// Listener without SYNACKBeforeAccept answers the oldest queued SYN
// instead (unless a handshake it started is under way), and Accept is to
// be called again when that connection is ready.
func (l *Listener[C]) Accept(now clock.Instant) (C, bool) {
	if len(l.acceptQ) > 0 {
		c := l.acceptQ[0]
		l.acceptQ = slices.Delete(l.acceptQ, 0, 1)
		l.stats.Accepted++
		return c, true
	}
	if !l.cfg.SYNACKBeforeAccept && !l.closed {
		l.answerOldest(now)
	}
	var none C
	return none, false
}

// Ready reports whether Accept would return a connection.
func (l *Listener[C]) Ready() bool { return len(l.acceptQ) > 0 }

// Close stops listening: half-open requests are forgotten, and the
// connections not yet accepted are returned for the host to reset (as
// Linux does when a listening socket closes with a non-empty queue).
// Later SYNs and ACKs draw RST.
func (l *Listener[C]) Close() (pending []C) {
	if l.closed {
		return nil
	}
	l.closed = true
	pending = l.acceptQ
	l.acceptQ = nil
	l.syn.init(len(l.syn.slots))
	l.next = 0
	return pending
}

// NextSegment fills seg and t with the next segment to send and reports
// whether there was one.
func (l *Listener[C]) NextSegment(t *Tuple, seg *Segment) bool {
	if l.sent == len(l.out) {
		l.out, l.sent = l.out[:0], 0
		return false
	}
	o := &l.out[l.sent]
	*t, *seg = o.tuple, o.seg
	*o = outSegment{}
	l.sent++
	return true
}

// TakeEvents returns the events since the last call and clears them.
func (l *Listener[C]) TakeEvents() ListenEvents {
	ev := l.events
	l.events = 0
	return ev
}

// NextDeadline is when HandleTimer is next due (0: never). It may be
// early, never late: a request that left the queue keeps its deadline
// until HandleTimer passes it.
func (l *Listener[C]) NextDeadline() clock.Instant { return l.next }

// Stats returns the counters and the queue lengths.
func (l *Listener[C]) Stats() ListenStats {
	st := l.stats
	st.SpentCookiesEvicted = l.spent.evicted
	st.SYNQueue = l.syn.used
	st.AcceptQueue = len(l.acceptQ)
	return st
}

func (l *Listener[C]) emit(t Tuple, seg *Segment) {
	l.out = append(l.out, outSegment{t, *seg})
}

// connConfig is the connection configuration for a local address.
func (l *Listener[C]) connConfig(local netip.AddrPort) *Config {
	if local.Addr().Is4() {
		return l.cfg.Conn4
	}
	return l.cfg.Conn6
}

func (l *Listener[C]) rtoInitial(t Tuple) time.Duration { return l.connConfig(t.Local).RTOInitial }
func (l *Listener[C]) rtoMax(t Tuple) time.Duration     { return l.connConfig(t.Local).RTOMax }
