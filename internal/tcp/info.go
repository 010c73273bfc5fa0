package tcp

import "time"

// Info is a snapshot of what a connection negotiated and measured, in the
// spirit of Linux's TCP_INFO: enough to check from outside that the
// options of RFC 7323 and RFC 2018 were agreed and are in use.
type Info struct {
	State State
	// Options agreed in the handshake.
	WindowScaling, SACK, Timestamps bool
	// SndShift and RcvShift are the window scale shifts (RFC 7323 §2.3):
	// the peer's, applied to windows it advertises, and ours.
	SndShift, RcvShift uint8
	// SendMSS is the payload bytes per segment we send.
	SendMSS int
	// SRTT and RTO are the RTT estimator's state (RFC 6298).
	SRTT, RTO time.Duration
	// SndWnd is the peer's latest window in bytes, MaxSndWnd the largest
	// it advertised: above 65535 only with window scaling in use.
	SndWnd, MaxSndWnd uint32
	// TSRecent is the last timestamp value taken from the peer (RFC 7323
	// §4.3); nonzero once timestamps are in use.
	TSRecent uint32
	// CWnd is the congestion window in bytes.
	CWnd int
	// Segment counts of the sender, in SendMSS units as Linux counts its
	// packets: Unacked sent and not cumulatively acknowledged (SACKed ones
	// included), SACKed, Lost (deemed lost: all not SACKed after a
	// timeout; RACK's and the retransmitted ones in SACK recovery),
	// Retrans (retransmitted and not yet acknowledged).
	Unacked, SACKed, Lost, Retrans int
	// CAState is the sender's congestion state, numbered as Linux's
	// tcpi_ca_state.
	CAState CAState
}

// CAState is the sender's loss-recovery state in Linux's terms.
type CAState uint8

const (
	CAOpen     CAState = 0 // nothing outstanding is in doubt
	CADisorder CAState = 1 // duplicate ACKs or SACKs, no recovery yet
	CARecovery CAState = 3 // fast recovery (RFC 6675, RFC 6582)
	CALoss     CAState = 4 // after a retransmission timeout
)

// Info returns the connection's snapshot.
func (c *Conn) Info() Info {
	return Info{
		State:         c.state,
		WindowScaling: c.wsOK, SACK: c.sackOK, Timestamps: c.tsOK,
		SndShift: c.sndShift, RcvShift: c.rcvShift,
		SendMSS: c.sndMSS,
		SRTT:    c.rto.srtt, RTO: c.rto.backedOff(c.backoff),
		SndWnd: c.sndWnd, MaxSndWnd: c.maxSndWnd,
		TSRecent: c.tsRecent,
		CWnd:     c.cc.CWnd(),
	}.withSegments(c)
}

// withSegments fills the segment counts and the congestion state.
func (in Info) withSegments(c *Conn) Info {
	mss := max(c.sndMSS, 1)
	segs := func(b int) int { return (max(b, 0) + mss - 1) / mss }
	in.Unacked = segs(int(c.sndMax.Sub(c.sndUna)))
	timedOut := c.backoff > 0 && c.sndUna.LessThan(c.sndMax)
	switch {
	case c.lr != nil:
		sb := &c.lr.sb
		in.SACKed = segs(sb.SACKedBytes())
		in.Retrans = c.lr.rack.nRtx
		if c.tlpActive && c.tlpRtx && in.Retrans > 0 {
			in.Retrans-- // a loss probe is not counted (Linux: retrans_out)
		}
		switch {
		case sb.Recovering() && !sb.InRecovery() || timedOut:
			in.CAState = CALoss
			in.Lost = in.Unacked - in.SACKed
		case sb.InRecovery():
			in.CAState = CARecovery
			in.Lost = c.lr.rack.nLost + c.lr.rack.nRtx
		case in.SACKed > 0 || c.dupAcks > 0:
			in.CAState = CADisorder
		}
	case timedOut:
		in.CAState, in.Lost = CALoss, in.Unacked
		in.Retrans = segs(int(c.sndNxt.Sub(c.sndUna)))
	case c.inRecovery:
		in.CAState, in.Lost, in.Retrans = CARecovery, 1, 1
	case c.dupAcks > 0:
		in.CAState = CADisorder
	}
	return in
}
