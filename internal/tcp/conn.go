package tcp

import (
	"sync"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/tcp/cc"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Conn is one TCP connection: the state machine of RFC 9293 with its send
// and receive buffers. It is not safe for concurrent use; the host
// serializes calls. Its methods split by concern over conn_recv.go (SEGMENT
// ARRIVES), conn_ack.go (ACK processing), conn_sack.go (SACK loss
// recovery), conn_rack.go (RACK-TLP), conn_send.go (NextSegment),
// conn_delack.go (when to ACK), conn_close.go (the application's close
// calls), conn_app.go (Read, Write), conn_timer.go and timewait.go (reuse
// of a 4-tuple in TIME-WAIT).
type Conn struct {
	cfg   *Config // shared (Config.Share) or its own; cfg.Profile: what differs between systems
	state State
	// passive: opened by NewPassive (an RST in SYN-RECEIVED then means the
	// peer is gone, not that we were refused).
	passive bool
	// The window scale shifts (RFC 7323 §2) and the TSval offset (§5.4)
	// sit with the small fields above: packed so, a Conn fits the
	// 768-byte allocation size class (TestConnFitsItsSizeClass).
	sndShift, rcvShift uint8
	tsOffset           uint32
	opened             clock.Instant

	// Send sequence space (RFC 9293 §3.3.1). sndMax is the highest
	// sequence number sent plus one: SND.NXT goes back to SND.UNA after a
	// timeout, sndMax does not.
	iss, sndUna, sndNxt, sndMax seqnum.V32
	sndWnd, maxSndWnd           uint32 // scaled; MAX.SND.WND of RFC 5961 §5.2
	sndWL1, sndWL2              seqnum.V32
	sndMSS                      int // effective send MSS, options excluded

	// Receive sequence space. rcvAdv is the right edge of the window last
	// advertised; it never moves left (RFC 9293 §3.8.6.2.2).
	irs, rcvNxt, rcvAdv seqnum.V32
	lastAckSent         seqnum.V32

	// Negotiated options.
	wsOK, sackOK, tsOK bool
	tsRecent           uint32 // TS.Recent (RFC 7323 §4.3)
	tsRecentAt         clock.Instant

	// snd holds data written but not yet acknowledged; its first byte has
	// sequence number sndBufSeq. The FIN, once queued, follows its last
	// byte.
	snd       ring
	sndBufSeq seqnum.V32
	finQueued bool // the application closed for writing
	finSent   bool
	// rcv holds in-order unread bytes, then out-of-order bytes (tracked by
	// ooo) at their places.
	rcv ring
	ooo *reassembly // nil until data first arrives out of order
	// rt sizes the receive buffer to the path (rcvtune.go): nil until the
	// application has read more than a first flight of data.
	rt *rcvTuning
	// rcvFin is the sequence number of a FIN seen beyond RCV.NXT (out of
	// order, or held by HoldFINWhileUnread); hasRcvFin says it is set.
	rcvFin    seqnum.V32
	hasRcvFin bool
	finRcvd   bool // the peer's FIN was consumed
	// hasDSACK says the next ACK reports the duplicate [dsackL, dsackR)
	// in a D-SACK block (RFC 2883).
	hasDSACK       bool
	inRecovery     bool // NewReno's recovery (RFC 6582), with recover below; here, in padding
	dsackL, dsackR seqnum.V32

	noDelay, keepAlive bool // TCP_NODELAY, SO_KEEPALIVE: from cfg, then set per connection

	appClosed  bool   // full close (Close) was called
	readClosed bool   // CloseRead or Close was called
	events     Events // since the last TakeEvents (packed here, in padding)
	// lastSegSize is the length of the last in-order segment shorter
	// than rcvMSS, if it was long enough to be a full one
	// (conn_delack.go; here, in padding).
	lastSegSize uint16
	err         error // terminal error for Read and Write
	errRead     bool  // a Read reported err (profile.ReadErrorOnce)

	// Pending output.
	synPending, ackNow, rtxPending bool
	probePending, keepalivePending bool
	rstPending, rstWithACK         bool
	rstSeq, rstAck                 seqnum.V32 // the pending RST (queueRST)
	// Receiver ACK policy (conn_delack.go): rcvMSS estimates the peer's
	// segment size, quickAcks counts ACKs still to send at once, pushed
	// says a short segment (the end of a burst) awaits its ACK, and
	// lastDataRcvd is when in-order data last arrived.
	lastDataRcvd clock.Instant
	rcvMSS       uint16
	quickAcks    uint8
	pushed       bool
	// persistN counts the persist timer's back-offs, probesOut the window
	// probes the peer has not answered (conn_persist.go); here, in padding.
	persistN, probesOut uint16

	timers    timers
	rto       rtoEstimator
	backoff   int           // consecutive timeouts of the same data
	rtxStart  clock.Instant // first retransmission without progress (user timeout)
	rttTiming bool          // a segment is being timed (no timestamps)
	// swsOverride lets the next segment into a window too small for sender
	// SWS avoidance (the persist timer fired, conn_persist.go).
	swsOverride bool
	kaProbes    uint16 // unanswered keepalive probes; here, in padding
	rttSeq      seqnum.V32
	rttTime     clock.Instant
	lastChACK   clock.Instant
	dupAcks     int
	recover     seqnum.V32 // RFC 6582 "recover"
	// pushedSeq is where the last segment with PSH ended (Linux's
	// pushed_seq; Profile.PushPastHalfWindow).
	pushedSeq seqnum.V32
	cc        cc.Algorithm
	// lastDataSent is when a segment carrying data or FIN was last sent:
	// a sender idle for longer than the RTO restarts from the restart
	// window (RFC 5681 §4.1).
	lastDataSent clock.Instant

	// lr.sb is the SACK scoreboard (RFC 6675), used when SACK was
	// negotiated; without SACK, loss recovery is NewReno's (RFC 6582)
	// with inRecovery and recover above. lr.sackFirst is the retransmission
	// that begins a SACK recovery (RFC 6675 §5 step 4.3), sent before
	// anything else when rtxPending is set.
	//
	// lr holds them, with RACK's state (RFC 8985 §6, conn_rack.go): it
	// is allocated when the first data segment leaves with SACK in use,
	// so that an idle connection or a pure receiver carries none of it.
	//
	// rtxKind says whether timers.rtx is the RTO, the probe timeout or
	// RACK's reordering timer. A Tail Loss Probe episode (§7) runs while
	// tlpActive, until SND.UNA reaches tlpEnd; tlpRtx says the probe was
	// a retransmission, tlpPending that it is due to be sent.
	lr                            *lossRecovery
	tlpEnd                        seqnum.V32
	rtxKind                       uint8
	tlpActive, tlpRtx, tlpPending bool

	// changes holds the state changes not yet taken (Config.RecordStates);
	// nil until the first.
	changes *[]StateChange

	stats   Counters
	summary Summary
}

// lossRecovery is the sender's SACK-based loss recovery state.
type lossRecovery struct {
	sb        Scoreboard
	rack      rack
	sackFirst SACKSend
}

// recovery returns the loss recovery state, taking it (with the
// scoreboard's window starting at SND.UNA) on first use.
func (c *Conn) recovery() *lossRecovery {
	if c.lr == nil {
		lr, _ := lossRecoveries.Get().(*lossRecovery)
		if lr == nil {
			lr = new(lossRecovery)
		}
		lr.sb.Init(c.sndUna, c.sndMSS)
		c.lr = lr
	}
	return c.lr
}

// lossRecoveries holds the loss recovery state of connections that will
// send no more (TIME-WAIT, CLOSED) for new ones to take: with the RACK
// records' ring, about 800 bytes a connection that a short connection
// would otherwise allocate anew.
var lossRecoveries sync.Pool

// releaseRecovery gives the loss recovery state back to the pool, emptied
// but for the RACK ring's memory.
func (c *Conn) releaseRecovery() {
	lr := c.lr
	if lr == nil {
		return
	}
	c.lr = nil
	segs := lr.rack.segs
	clear(segs)
	*lr = lossRecovery{}
	lr.rack.segs = segs
	lossRecoveries.Put(lr)
}

// recovering reports whether SACK loss recovery (RFC 6675 §5) or the
// retransmission after a timeout (§5.1) is under way.
func (c *Conn) recovering() bool { return c.lr != nil && c.lr.sb.Recovering() }

// timers holds the connection's deadlines; zero means disarmed.
type timers struct {
	rtx, persist, delack, keepalive, timeWait, finWait2 clock.Instant
}

func newConn(now clock.Instant, cfg *Config, iss seqnum.V32) *Conn {
	if !cfg.shared {
		own := *cfg
		own.setDefaults()
		cfg = &own
	}
	c := &Conn{
		cfg:       cfg,
		noDelay:   cfg.NoDelay,
		keepAlive: cfg.KeepAlive,
		opened:    now,
		iss:       iss,
		sndUna:    iss,
		sndNxt:    iss,
		sndMax:    iss,
		recover:   iss,
		sndBufSeq: iss.Add(1),
		pushedSeq: iss.Add(1),
		sndMSS:    cfg.PeerDefaultMSS,
		snd:       newRing(cfg.SendBuffer),
		// Slack of one window-scale unit: the advertised right edge is
		// rounded up to it (see windowField).
		rcv:      newRing(cfg.RecvBuffer + 1<<cfg.windowShift()),
		rto:      newRTOEstimator(cfg.RTOInitial, cfg.RTOMin, cfg.RTOMax),
		tsOffset: uint32(iss) * 2654435761, // per-connection clock offset (RFC 7323 §5.4)
	}
	c.cc = newCC(cfg.CongestionControl, cfg.MSS)
	return c
}

// SetTSOffset sets the offset of the TSvals the Conn sends (RFC 7323
// §5.4); without it the offset derives from the ISS. Call it before the
// first NextSegment: the host gives every connection to one peer the same
// offset (ISNGenerator.TSOffset).
func (c *Conn) SetTSOffset(off uint32) { c.tsOffset = off }

// NewActive opens a connection actively (RFC 9293 §3.10.1 OPEN): the Conn
// starts in SYN-SENT and its first NextSegment is the SYN. iss comes from
// an ISNGenerator. The Conn keeps cfg if it comes from Config.Share, else
// a copy.
func NewActive(now clock.Instant, cfg *Config, iss seqnum.V32) *Conn {
	c := newConn(now, cfg, iss)
	c.synPending = true
	c.setState(now, SynSent, "active open")
	return c
}

// NewPassive opens a connection from a SYN that reached a listener (RFC
// 9293 §3.10.7.2): the Conn starts in SYN-RECEIVED and its first
// NextSegment is the SYN-ACK. The caller checked that syn carries SYN and
// neither ACK nor RST. cfg is kept or copied as for NewActive.
func NewPassive(now clock.Instant, cfg *Config, iss seqnum.V32, syn *Segment) *Conn {
	c := newConn(now, cfg, iss)
	c.passive = true
	c.stats.SegsIn++
	c.negotiate(now, syn)
	c.irs = syn.Seq
	c.rcvNxt = syn.Seq.Add(1)
	c.lastAckSent = c.rcvNxt
	c.sndWnd = uint32(syn.Window) // never scaled in a SYN (RFC 7323 §2.2)
	c.maxSndWnd = c.sndWnd
	c.synPending = true
	c.setState(now, SynReceived, "rcvd SYN (passive open)")
	return c
}

// setState is the one place the state changes: it runs the entry actions
// (timers, events, the summary) and reports the change (EventState, and
// the change itself under Config.RecordStates).
func (c *Conn) setState(now clock.Instant, s State, why string) {
	from := c.state
	if from == s {
		return
	}
	c.state = s
	switch s {
	case Established:
		c.events |= EventEstablished | EventWritable
		c.armKeepalive(now)
	case FinWait2:
		if c.appClosed {
			c.timers.finWait2 = now.Add(c.cfg.FinWait2Timeout)
		}
	case TimeWait:
		c.enterTimeWait(now)
	case Closed:
		c.timers = timers{}
		c.synPending, c.ackNow, c.rtxPending = false, false, false
		c.probePending, c.keepalivePending = false, false
		c.events |= EventClosed | EventReadable | EventWritable
		c.end(now, EndGraceful, "closed")
	}
	if s == TimeWait || s == Closed {
		// Nothing more is sent in either state (TIME-WAIT only answers
		// with ACKs, which use no loss recovery state).
		c.tidyBuffers()
		c.releaseRecovery()
		c.releaseTuning()
	}
	c.events |= EventState
	if c.cfg.RecordStates {
		c.recordState(StateChange{At: now, From: from, To: s, Why: why})
	}
}

// tidyBuffers hands an empty ring's memory back to the shared pools: the
// receive ring once everything was read and nothing waits out of order,
// the send ring once everything was acknowledged.
func (c *Conn) tidyBuffers() {
	if c.rcv.len() == 0 && c.ooo.empty() {
		c.rcv.release()
	}
	if c.snd.len() == 0 {
		c.snd.release()
	}
}

// end records how the connection ended; the first call wins.
func (c *Conn) end(now clock.Instant, e Ending, why string) {
	if c.summary.Ending != EndOpen {
		return
	}
	c.summary.Ending = e
	c.summary.Why = why
	c.summary.Duration = now.Sub(c.opened)
	c.summary.SentUnacked = c.sentUnacked()
	c.summary.UnsentDiscarded += c.unsent()
}

// sentUnacked is the number of data bytes sent but not acknowledged.
func (c *Conn) sentUnacked() int {
	lo := c.sndUna.Max(c.sndBufSeq)
	hi := c.sndMax.Min(c.sndBufSeq.Add(seqnum.Size32(c.snd.len())))
	if d := hi.Sub(lo); d > 0 {
		return int(d)
	}
	return 0
}

// unsent is the number of data bytes written but never sent.
func (c *Conn) unsent() int {
	sent := c.sndMax.Sub(c.sndBufSeq)
	if sent < 0 {
		sent = 0
	}
	return max(0, c.snd.len()-int(sent))
}

// finSeq is the sequence number of our FIN (meaningful once finQueued).
func (c *Conn) finSeq() seqnum.V32 { return c.sndBufSeq.Add(seqnum.Size32(c.snd.len())) }

// finAcked reports whether our FIN was sent and acknowledged.
func (c *Conn) finAcked() bool { return c.finSent && c.sndUna == c.finSeq().Add(1) }

// State returns the connection state.
func (c *Conn) State() State { return c.state }

// TakeEvents returns the events since the last call and clears them.
func (c *Conn) TakeEvents() Events {
	e := c.events
	c.events = 0
	return e
}

// Summary returns what is known of how the connection ended (Ending is
// EndOpen while it has not).
func (c *Conn) Summary() Summary { return c.summary }

// Counters returns the connection's statistics.
func (c *Conn) Counters() Counters { return c.stats }

// Unacked returns the number of bytes written by the application and not
// yet acknowledged by the peer, sent or not.
func (c *Conn) Unacked() int { return c.snd.len() }

// AllAcked reports whether everything written, and the FIN if one was
// queued, has been acknowledged: the condition a positive SO_LINGER and a
// graceful close wait for.
func (c *Conn) AllAcked() bool {
	return c.snd.len() == 0 && (!c.finQueued || c.finAcked())
}

// Readable returns the number of bytes Read would return now.
func (c *Conn) Readable() int { return c.rcv.len() }

// Writable returns the free space of the send buffer.
func (c *Conn) Writable() int { return c.snd.free() }

// Err returns the error that ended the connection (nil while open or after
// a graceful end).
func (c *Conn) Err() error { return c.err }

// SRTT returns the smoothed round-trip time (zero before a sample).
func (c *Conn) SRTT() time.Duration { return c.rto.srtt }

// RTO returns the current retransmission timeout, back-off included.
func (c *Conn) RTO() time.Duration { return c.rto.backedOff(c.backoff) }

// SendMSS returns the effective send MSS (payload bytes per segment).
func (c *Conn) SendMSS() int { return c.sndMSS }

// Negotiated reports which options the handshake agreed on.
func (c *Conn) Negotiated() (windowScaling, sack, timestamps bool) {
	return c.wsOK, c.sackOK, c.tsOK
}

// SetNoDelay turns Nagle's algorithm off (true) or on, as TCP_NODELAY.
func (c *Conn) SetNoDelay(on bool) { c.noDelay = on }

// SetKeepAlive turns keepalive probes on or off (RFC 9293 §3.8.4).
func (c *Conn) SetKeepAlive(now clock.Instant, on bool) {
	c.keepAlive = on
	c.kaProbes = 0
	c.timers.keepalive = 0
	c.armKeepalive(now)
}

// negotiate takes the options of the peer's SYN (RFC 9293 §3.7.1, RFC
// 7323 §2.2 and §3.2, RFC 2018 §2). An option is in use when both SYNs
// carry it; for a passive open our SYN-ACK carries only what the peer
// offered.
func (c *Conn) negotiate(now clock.Instant, syn *Segment) {
	o := &syn.Options
	peerMSS := c.cfg.PeerDefaultMSS
	if o.HasMSS && o.MSS > 0 {
		peerMSS = int(o.MSS)
	}
	// The floor bounds the MSS itself; the options then take their room
	// from it (Linux: tcp_min_snd_mss before the header's options).
	c.sndMSS = max(min(peerMSS, c.cfg.MSS), c.cfg.MinSendMSS)
	c.wsOK = !c.cfg.NoWindowScaling && o.HasWScale
	if c.wsOK {
		c.sndShift = min(o.WScale, 14) // RFC 7323 §2.3: treat above 14 as 14
		c.rcvShift = c.cfg.windowShift()
	}
	c.sackOK = !c.cfg.NoSACK && o.SACKPermitted
	c.tsOK = !c.cfg.NoTimestamps && o.HasTimestamp
	if c.tsOK {
		c.tsRecent = o.TSVal
		c.tsRecentAt = now
		c.sndMSS -= wire.TCPTimestampRoom // the option's room in every segment
	}
	c.cc.SetMSS(c.sndMSS)
}

// tsNow is our TSval clock at now.
func (c *Conn) tsNow(now clock.Instant) uint32 { return tsClock(now, c.tsOffset) }

// tsClock is the TSval clock: milliseconds of now plus a per-connection
// offset, wrapping at 32 bits (RFC 7323 §5.4: a tick of 1 ms to 1 s).
func tsClock(now clock.Instant, offset uint32) uint32 {
	return uint32(int64(now)/int64(time.Millisecond)) + offset
}

// newCC returns the named congestion controller (CUBIC when the name is
// empty or unknown; Config documents the names).
func newCC(name string, mss int) cc.Algorithm {
	a, err := cc.New(name, mss)
	if err != nil {
		a = cc.NewCubic(mss)
	}
	return a
}
