package dccp

import (
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// Config configures a Conn. The zero value of every field means its
// documented default.
type Config struct {
	// Profile selects the closing behaviours that differ between systems
	// (its DCCP fields: passive-close states, tie-breaker, abort on
	// unread data). The zero Profile (no Name) means profile.Linux.
	Profile profile.Profile
	// ISS is the initial sequence number (chosen by the host, §7.2).
	ISS seqnum.V48
	// ServiceCode is the client's Request service code (§8.1.2).
	ServiceCode uint32
	// CCID is the preferred CCID of this end's sender: 2 (default) or 3.
	CCID uint8
	// ServerTimewait makes a server close with Close (keeping TIMEWAIT
	// itself) instead of CloseReq (§8.3; Linux's DCCP_SOCKOPT_SERVER_TIMEWAIT).
	ServerTimewait bool
	// MSL is the maximum segment lifetime: TIMEWAIT lasts 2 MSL (RFC 4340
	// §8.3), RESPOND and PARTOPEN at most 4 MSL (§8.1.3, §8.1.5). The
	// RFC's MSL is TCP's, 2 minutes (its 4 MSL are "8 minutes"), so its
	// TIMEWAIT lasts 4 minutes. Default 30 s, so that TIMEWAIT lasts 60 s
	// like Linux's DCCP_TIMEWAIT_LEN (and TCP's TIME-WAIT, tcp.Config).
	// This is the one place the default is set; the host passes its
	// user's value through.
	MSL time.Duration
	// MaxPacketSize is the largest DCCP packet, header included (the
	// MPS of §14). Default 1400.
	MaxPacketSize int
	// SendQueueLen bounds the datagrams waiting to be sent. Default 5,
	// Linux's tx_qlen.
	SendQueueLen int
	// RecvQueueLen bounds the datagrams waiting to be read. Default 64.
	RecvQueueLen int
	// SequenceWindow is this end's Sequence Window (§7.5.2). Default 100.
	SequenceWindow uint64
	// InitialRTT is the round-trip time assumed before a sample. Default
	// 200 ms.
	InitialRTT time.Duration
	// RequestRetries is how many times a Request is retransmitted before
	// the client gives up. Default 6 (Linux's request_retries).
	RequestRetries int
	// CloseRetries is how many times Close or CloseReq is retransmitted
	// before the final timeout. Default 15, Linux's retries2: with the
	// backoff capped at 64 s (§8.3) the final timeout comes well after
	// 64 s, as the seed describes for the simultaneous-close ping-pong.
	CloseRetries int
	// SyncInterval is the minimum time between Syncs sent in reply to
	// invalid packets (§7.5.4 asks for rate limiting). Default 124 ms,
	// Linux's sync_ratelimit.
	SyncInterval time.Duration
	// DelayedAck is how long an acknowledgement may wait for more data.
	// Default 25 ms.
	DelayedAck time.Duration
	// NewCCID builds the congestion control when the connection opens;
	// nil means DefaultCCIDs (CCID 2 and 3). NoCCID disables it.
	NewCCID NewCCIDFunc
	// RecordStates makes the Conn keep its state changes, with their time
	// and reason, until the host takes them (TakeStateChanges); the lab
	// draws its diagrams from them. Without it EventState alone says that
	// the state changed.
	RecordStates bool
}

// DefaultConfig returns a Config with every default filled in.
func DefaultConfig() Config {
	var c Config
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defInt := func(d *int, v int) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Profile.Name == "" {
		c.Profile = profile.Linux
	}
	if c.CCID != 3 {
		c.CCID = 2
	}
	def(&c.MSL, 30*time.Second)
	def(&c.InitialRTT, 200*time.Millisecond)
	def(&c.SyncInterval, 124*time.Millisecond)
	def(&c.DelayedAck, 25*time.Millisecond)
	defInt(&c.MaxPacketSize, 1400)
	defInt(&c.SendQueueLen, 5)
	defInt(&c.RecvQueueLen, 64)
	defInt(&c.RequestRetries, 6)
	defInt(&c.CloseRetries, 15)
	if c.SequenceWindow == 0 {
		c.SequenceWindow = 100
	}
}

// HeaderRoom is the part of MaxPacketSize kept for the header and
// options: the 48-bit generic header with acknowledgement (24 bytes)
// and room for timestamps, feature options and an Ack Vector.
const HeaderRoom = 24 + 76

// Conn is one DCCP connection: a pure state machine. Its methods are not
// safe for concurrent use; the host serialises them.
type Conn struct {
	cfg      Config
	state    State
	isServer bool

	// Sequence number variables of RFC 4340 §7.1, §7.5.
	iss, isr, gss, gsr, gar, osr seqnum.V48
	gsrValid                     bool // GSR/ISR hold a received number

	feat  featureSet
	avRx  ackVecRx
	tx    TxCCID
	rx    RxCCID
	timer timers
	out   outFlags

	sendQ, recvQ datagramQueue

	srtt      time.Duration // smoothed RTT; InitialRTT until rttValid
	rttValid  bool          // srtt holds at least one sample
	rttSample time.Duration // the sample the packet being processed gave, or 0
	tsRecv    uint32        // last Timestamp received (§13.1), echoed once
	tsRecvAt  clock.Instant
	tsPending bool

	ndpRun       uint64 // non-data packets sent since the last data packet (§7.7)
	dup          bool   // the packet being processed was seen before
	appClosed    bool   // the application called Close
	closePending bool   // Close waits for the send queue to drain
	peerReset    wire.DCCPResetCode
	gotReset     bool
	events       Events
	changes      []StateChange // not yet taken (Config.RecordStates)
	counters     Counters
	summary      Summary

	avBuf [wire.DCCPMaxOptionData]byte
	ddBuf [dropBlocksAck]byte

	// Acknowledgements of acknowledgements and drop reports
	// (conn_drop.go).
	avSent         [avSentLen]avSent
	avSentN        int  // entries of avSent written
	peerKeepsState bool // the peer sends Ack Vectors
	dataSinceAck   int  // data packets sent since our last acknowledgement
	dropRuns       int  // runs of dropped packets since our last acknowledgement
	dropSeen       *[ackVecLen]uint64
	ackCC          ackCC // congestion control of the peer's acknowledgements (ackratio.go)
}

// NewClient returns a client Conn in state REQUEST with a Request ready
// to be sent (§8.1.1).
func NewClient(now clock.Instant, cfg Config) *Conn {
	c := newConn(cfg, false)
	c.feat.offerClient(&c.cfg)
	c.out.request = true
	c.setState(now, Request, "application connects")
	c.timer.rtxStart = now
	c.timer.rtxInterval = time.Second // §8.1.1: first retransmission after about one second
	c.timer.rtx = now.Add(c.timer.rtxInterval)
	return c
}

// newServer returns a server Conn for a valid Request (§8.5 step 3): the
// sequence variables are set from it and a Response is queued.
func newServer(now clock.Instant, cfg Config, req *Packet) *Conn {
	c := newConn(cfg, true)
	c.isr, c.gsr, c.gsrValid = req.Seq, req.Seq, true
	c.cfg.ServiceCode = req.ServiceCode
	c.setState(now, Respond, "Request accepted")
	c.acceptOptions(now, req)
	c.avRx.record(req.Seq)
	c.out.response = true
	c.timer.respond = now.Add(4 * c.cfg.MSL) // §8.1.3: give up after 4 MSL
	return c
}

func newConn(cfg Config, server bool) *Conn {
	cfg.setDefaults()
	c := &Conn{cfg: cfg, isServer: server, srtt: cfg.InitialRTT}
	c.iss = cfg.ISS & seqnum.Mask48
	c.gss = c.iss.Add(-1) // the first packet sent carries ISS
	c.gar = c.iss
	c.feat.init(server, &c.cfg)
	c.sendQ.init(cfg.SendQueueLen)
	c.recvQ.init(cfg.RecvQueueLen)
	c.events |= EventWritable
	return c
}

// State returns the connection state.
func (c *Conn) State() State { return c.state }

// IsServer reports whether this end is the server.
func (c *Conn) IsServer() bool { return c.isServer }

// ServiceCode returns the connection's service code.
func (c *Conn) ServiceCode() uint32 { return c.cfg.ServiceCode }

// GSS returns the greatest sequence number sent (§7.1).
func (c *Conn) GSS() seqnum.V48 { return c.gss }

// GSR returns the greatest sequence number received (§7.1).
func (c *Conn) GSR() seqnum.V48 { return c.gsr }

// SRTT returns the smoothed round-trip time estimate.
func (c *Conn) SRTT() time.Duration { return c.srtt }

// Done reports whether the connection is over: CLOSED, or TIMEWAIT (a
// Conn in TIMEWAIT still answers packets until its deadline).
func (c *Conn) Done() bool { return c.state == Closed || c.state == TimeWait }

// setState changes state, runs the entry actions of the new state and
// reports the change (EventState, and the change itself under
// Config.RecordStates).
func (c *Conn) setState(now clock.Instant, s State, why string) {
	from := c.state
	if from == s {
		return
	}
	c.state = s
	c.events |= EventState
	switch s {
	case Open:
		c.timer.partOpen, c.timer.respond, c.timer.partOpenEnd = 0, 0, 0
		c.startCCIDs(now)
	case PartOpen:
		c.timer.rtx = 0
		c.timer.partOpenEnd = now.Add(4 * c.cfg.MSL) // §8.1.5
		c.events |= EventWritable
		// The Response confirmed the features: data sent in PARTOPEN
		// is already under congestion control (RFC 4340 §10; a client
		// writing at once would otherwise burst its whole queue).
		c.startCCIDs(now)
	case PassiveClose, PassiveCloseReq:
		c.events |= EventReadable // end-of-stream becomes readable after the queue
	case TimeWait:
		c.timer = timers{timeWait: now.Add(2 * c.cfg.MSL)}
		c.ended(now)
	case Closed:
		c.timer = timers{}
		c.ended(now)
	}
	if c.cfg.RecordStates {
		c.changes = append(c.changes, StateChange{At: now, From: from, To: s, Why: why})
	}
}

// ended runs when the connection reaches CLOSED or TIMEWAIT: the send
// queue is dropped and, without the passive-close states, so is the
// receive queue (the data loss the seed describes, §3.1 there).
func (c *Conn) ended(now clock.Instant) {
	c.events |= EventClosed | EventReadable | EventWritable
	if c.summary.EndedAt == 0 {
		c.summary.EndedAt = now
	}
	c.summary.UnsentDiscarded += c.sendQ.len()
	c.sendQ.clear()
	if !c.cfg.Profile.DCCPPassiveCloseStates {
		c.summary.UnreadDiscarded += c.recvQ.len()
		c.recvQ.clear()
	}
	c.tx, c.rx = nil, nil
}

// ackWindow returns AWL and AWH (§7.5.1): the acknowledgement numbers
// that may validly arrive. Its width W' is this end's own Sequence Window
// (the feature located here, set to how many packets we may have in
// flight; §7.5.2 — Linux: "Ack validity window depends on local Sequence
// Window value").
func (c *Conn) ackWindow() (awl, awh seqnum.V48) {
	w := c.feat.local[wire.DCCPFeatSequenceWindow]
	awh = c.gss
	awl = c.gss.Add(1 - int64(w))
	if c.iss.InRange(awl, awh) {
		awl = c.iss // max(GSS + 1 - W', ISS)
	}
	return awl, awh
}

// seqWindow returns SWL and SWH (§7.5.1): the sequence numbers that may
// validly arrive. Its width W is the peer's Sequence Window (the feature
// located at the sender, which knows how many packets it may have in
// flight; §7.5.2 — Linux: "Sequence validity window depends on remote
// Sequence Window").
func (c *Conn) seqWindow() (swl, swh seqnum.V48) {
	w := int64(c.feat.remote[wire.DCCPFeatSequenceWindow])
	swl = c.gsr.Add(1 - w/4)       // GSR + 1 - floor(W/4)
	swh = c.gsr.Add((3*w + 3) / 4) // GSR + ceil(3W/4)
	if c.isr.InRange(swl, c.gsr) { // max(GSR + 1 - floor(W/4), ISR)
		swl = c.isr
	}
	return swl, swh
}
