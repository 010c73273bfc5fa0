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

	// The sender's state now, in segments of MSS bytes, as Linux's
	// tcpi_unacked, tcpi_sacked, tcpi_lost and tcpi_retrans count
	// packets: sent and not cumulatively acknowledged (SACKed included);
	// SACKed; deemed lost (after a timeout, all not SACKed);
	// retransmitted and not yet acknowledged.
	Unacked, SACKed, Lost, Retrans int
	// CAState is the congestion state, numbered as Linux's tcpi_ca_state:
	// 0 open, 1 disorder (duplicate ACKs or SACKs), 3 recovery (fast
	// retransmit), 4 loss (after a retransmission timeout).
	CAState uint8
	// LinuxState is the state numbered as Linux's tcpi_state
	// (1 ESTABLISHED ... 11 CLOSING).
	LinuxState uint8
	// Unread is the received bytes waiting to be read (TCP_INQ, SIOCINQ).
	Unread int
}

// linuxStates numbers the states as Linux's include/net/tcp_states.h.
var linuxStates = map[string]uint8{
	"ESTABLISHED": 1, "SYN-SENT": 2, "SYN-RECEIVED": 3, "FIN-WAIT-1": 4, "FIN-WAIT-2": 5,
	"TIME-WAIT": 6, "CLOSED": 7, "CLOSE-WAIT": 8, "LAST-ACK": 9, "LISTEN": 10, "CLOSING": 11,
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
		Unacked: in.Unacked, SACKed: in.SACKed, Lost: in.Lost, Retrans: in.Retrans,
		CAState:    uint8(in.CAState),
		LinuxState: linuxStates[in.State.String()],
		Unread:     c.core.Readable(),
	}
}
