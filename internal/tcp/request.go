package tcp

import (
	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Request is a half-open passive connection: what a listener keeps of a
// SYN it answered (or, under a profile that answers only at accept, will
// answer), until the final ACK of the handshake makes it a Conn. It is
// deliberately small (no buffers, no pointers; Linux calls the same
// thing a request sock): a SYN flood fills a queue of these, never of
// Conns with their 256 KiB buffers (RFC 4987 §3.1 "Increasing Backlog",
// §3.2 "Reducing SYN-RECEIVED Timer").
type Request struct {
	// ISS and IRS are our and the peer's initial sequence numbers.
	ISS, IRS seqnum.V32
	// TSRecent is the peer's SYN TSval (RFC 7323 §4.3), TSOffset the
	// per-connection offset of our TSval clock (RFC 7323 §5.4).
	TSRecent, TSOffset uint32
	// PeerMSS is the MSS option of the SYN (0: none).
	PeerMSS uint16
	// Window is the SYN's window field (never scaled, RFC 7323 §2.2).
	Window uint16
	// PeerWScale is the SYN's window scale shift, valid with WScaleOK.
	PeerWScale uint8
	// WScaleOK, SACKOK and TSOK say which options both sides use.
	WScaleOK, SACKOK, TSOK bool
	// Retransmitted says a SYN-ACK was sent more than once (Karn: no RTT
	// sample from the handshake's timing); SentAt is when the first went.
	Retransmitted bool
	SentAt        clock.Instant
}

// NewRequest records a SYN that reached a listener (RFC 9293 §3.10.7.2,
// LISTEN: "fourth check for a SYN"): the options the SYN-ACK will carry
// are those the SYN offered and cfg allows. iss is our initial sequence
// number, tsOffset our TSval offset.
func NewRequest(cfg *Config, iss seqnum.V32, tsOffset uint32, syn *Segment) Request {
	o := &syn.Options
	r := Request{ISS: iss, IRS: syn.Seq, TSOffset: tsOffset, Window: syn.Window}
	if o.HasMSS {
		r.PeerMSS = o.MSS
	}
	r.WScaleOK = !cfg.NoWindowScaling && o.HasWScale
	r.PeerWScale = o.WScale
	r.SACKOK = !cfg.NoSACK && o.SACKPermitted
	r.TSOK = !cfg.NoTimestamps && o.HasTimestamp
	r.TSRecent = o.TSVal
	return r
}

// FillSYNACK builds the SYN,ACK answering the request (RFC 9293 §3.10.7.2:
// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>), with the options of RFC 7323 and
// RFC 2018 the SYN offered. tsVal is the TSval to send; SYNACKTSVal
// computes the ordinary one.
func (r *Request) FillSYNACK(cfg *Config, tsVal uint32, seg *Segment) {
	d := cfg
	if !cfg.shared { // a shared Config has its defaults already
		own := *cfg
		own.setDefaults()
		d = &own
	}
	*seg = Segment{Seq: r.ISS, Ack: r.IRS.Add(1), Flags: wire.SYN | wire.ACK}
	o := &seg.Options
	o.HasMSS, o.MSS = true, uint16(d.MSS)
	if r.WScaleOK {
		o.HasWScale, o.WScale = true, d.windowShift()
	}
	o.SACKPermitted = r.SACKOK
	if r.TSOK {
		o.HasTimestamp, o.TSVal, o.TSEcr = true, tsVal, r.TSRecent
	}
	seg.Window = d.synWindow()
}

// SYNACKTSVal is the TSval of a SYN-ACK sent at now: the same clock the
// Conn made from the request will use (milliseconds plus TSOffset).
func (r *Request) SYNACKTSVal(now clock.Instant) uint32 {
	return uint32(int64(now)/1e6) + r.TSOffset
}

// NewFromRequest makes the Conn of a request whose SYN-ACK was sent: the
// Conn starts in SYN-RECEIVED with SND.NXT = ISS+1, exactly as NewPassive
// would be after its first NextSegment, and the host then hands it the
// segment that completes the handshake (HandleSegment), which takes it to
// ESTABLISHED and processes any data or FIN the segment carries (RFC 9293
// §3.10.7.4, SYN-RECEIVED, fifth check). A request rebuilt from a SYN
// cookie (CookieJar.Check) is made the same way.
func NewFromRequest(now clock.Instant, cfg *Config, r *Request) *Conn {
	c := newConn(now, cfg, r.ISS)
	c.passive = true
	c.tsOffset = r.TSOffset
	syn := Segment{Seq: r.IRS, Flags: wire.SYN, Window: r.Window}
	o := &syn.Options
	o.HasMSS, o.MSS = r.PeerMSS != 0, r.PeerMSS
	o.HasWScale, o.WScale = r.WScaleOK, r.PeerWScale
	o.SACKPermitted = r.SACKOK
	o.HasTimestamp, o.TSVal = r.TSOK, r.TSRecent
	c.stats.SegsIn++
	c.negotiate(now, &syn)
	c.irs = r.IRS
	c.rcvNxt = r.IRS.Add(1)
	c.lastAckSent = c.rcvNxt
	c.sndWnd = uint32(r.Window)
	c.maxSndWnd = c.sndWnd
	c.rcvAdv = c.rcvNxt.Add(seqnum.Size32(c.cfg.synWindow()))
	c.sndNxt = r.ISS.Add(1)
	c.sndMax = c.sndNxt
	c.stats.SegsOut++
	if !r.Retransmitted && r.SentAt != 0 {
		c.rttTiming, c.rttTime = true, r.SentAt
	}
	c.setState(now, SynReceived, "SYN-ACK sent from the listener's queue")
	return c
}

// HoldingFIN reports whether a FIN of the peer has arrived but is not
// acknowledged yet (held by HoldFINWhileUnread, or beyond a gap).
func (c *Conn) HoldingFIN() bool { return c.hasRcvFin && !c.finRcvd }

// QueueACK makes the next NextSegment an ACK even though nothing new needs
// acknowledging: the duplicate ACK Stratus VOS 17.1 sends when accept()
// takes a connection off the backlog (profile.Profile.DupACKAtAccept).
func (c *Conn) QueueACK() {
	if c.state.synchronized() && c.state != TimeWait {
		c.ackNow = true
	}
}

// Accepted tells the Conn that the application took it off the listen
// backlog. Under profile.Profile.DupACKAtAccept a connection whose FIN is
// held unacknowledged then sends a duplicate ACK (Stratus VOS 17.1:
// "acknowledging the data but not the FIN"). It reports whether the Conn
// has a segment to send.
func (c *Conn) Accepted() bool {
	if !c.cfg.Profile.DupACKAtAccept || !c.HoldingFIN() {
		return false
	}
	c.QueueACK()
	return true
}
