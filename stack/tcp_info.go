package stack

import "time"

// TCPInfo describes a connection's negotiated options and path state, as
// Linux's TCP_INFO does for a kernel socket.
type TCPInfo struct {
	// State in the RFC's spelling ("ESTABLISHED").
	State string
	// Options agreed in the handshake: window scaling (RFC 7323 §2), SACK
	// (RFC 2018) and timestamps (RFC 7323 §3).
	WindowScaling, SACK, Timestamps bool
	// SndWScale and RcvWScale are the window scale shifts: the peer's and
	// ours.
	SndWScale, RcvWScale uint8
	// MSS is the payload bytes per segment we send.
	MSS int
	// SRTT and RTO are the smoothed round-trip time and the current
	// retransmission timeout (RFC 6298).
	SRTT, RTO time.Duration
	// PeerWindow is the peer's latest advertised window in bytes and
	// MaxPeerWindow the largest; above 65535 shows window scaling in use.
	PeerWindow, MaxPeerWindow uint32
	// TSRecent is the last timestamp taken from the peer; nonzero shows
	// timestamps in use.
	TSRecent uint32
	// CWnd is the congestion window in bytes.
	CWnd int
	// Retransmits counts segments retransmitted; SACKACKs counts ACKs
	// received with SACK blocks (nonzero shows SACK in use).
	Retransmits, SACKACKs uint64
}

// Info returns the connection's TCPInfo.
func (c *TCPConn) Info() TCPInfo {
	c.lock()
	defer c.unlock()
	in, st := c.core.Info(), c.core.Counters()
	return TCPInfo{
		State:         in.State.String(),
		WindowScaling: in.WindowScaling, SACK: in.SACK, Timestamps: in.Timestamps,
		SndWScale: in.SndShift, RcvWScale: in.RcvShift,
		MSS:  in.SendMSS,
		SRTT: in.SRTT, RTO: in.RTO,
		PeerWindow: in.SndWnd, MaxPeerWindow: in.MaxSndWnd,
		TSRecent:    in.TSRecent,
		CWnd:        in.CWnd,
		Retransmits: st.Retransmits, SACKACKs: st.SACKACKsIn,
	}
}
