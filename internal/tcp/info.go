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
}

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
	}
}
