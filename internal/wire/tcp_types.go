package wire

import (
	"strings"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// TCPFlags is the flags byte of a TCP header (RFC 9293 §3.1, RFC 3168 §6.1).
type TCPFlags uint8

// TCP header flags, in their bit positions.
const (
	FIN TCPFlags = 1 << iota
	SYN
	RST
	PSH
	ACK
	URG
	ECE
	CWR
)

// Has reports whether every flag in m is set.
func (f TCPFlags) Has(m TCPFlags) bool { return f&m == m }

// flagOrder is the order in which String spells flags: the order the lab's
// JSON contract fixes (SYN|FIN|RST|PSH|ACK), then the rarer ones.
var flagOrder = [...]struct {
	f    TCPFlags
	name string
}{{SYN, "SYN"}, {FIN, "FIN"}, {RST, "RST"}, {PSH, "PSH"}, {ACK, "ACK"}, {URG, "URG"}, {ECE, "ECE"}, {CWR, "CWR"}}

// String joins the set flags with "|" in the order SYN, FIN, RST, PSH, ACK,
// URG, ECE, CWR ("SYN|ACK", "FIN|ACK", "RST"); no flags is "none".
func (f TCPFlags) String() string {
	if f == 0 {
		return "none"
	}
	var b strings.Builder
	for _, o := range flagOrder {
		if f&o.f != 0 {
			if b.Len() > 0 {
				b.WriteByte('|')
			}
			b.WriteString(o.name)
		}
	}
	return b.String()
}

// SACKBlock is one block of a SACK option (RFC 2018 §3): the bytes
// [Left, Right) were received.
type SACKBlock struct {
	Left, Right seqnum.V32
}

// MaxSACKBlocks is the most SACK blocks an option can carry (4; 3 when
// timestamps are also present, for lack of room).
const MaxSACKBlocks = 4

// TCPOptions holds the decoded options of a TCP segment that the stack
// understands. A zero value means "no options". Unknown options are skipped
// when parsing and never written.
type TCPOptions struct {
	// MSS is the Maximum Segment Size option (kind 2, RFC 9293 §3.7.1);
	// HasMSS says it was present.
	HasMSS bool
	MSS    uint16
	// WScale is the Window Scale shift count (kind 3, RFC 7323 §2);
	// HasWScale says it was present. Parsing keeps the value as sent
	// (a receiver clamps shifts above 14 itself).
	HasWScale bool
	WScale    uint8
	// SACKPermitted is the SACK-Permitted option (kind 4, RFC 2018 §2).
	SACKPermitted bool
	// SACK holds NumSACK blocks of a SACK option (kind 5, RFC 2018 §3).
	NumSACK int
	SACK    [MaxSACKBlocks]SACKBlock
	// TSVal and TSEcr are the Timestamps option (kind 8, RFC 7323 §3);
	// HasTimestamp says it was present.
	HasTimestamp bool
	TSVal, TSEcr uint32
}

// SACKBlocks returns the SACK blocks as a slice of o's array.
func (o *TCPOptions) SACKBlocks() []SACKBlock { return o.SACK[:o.NumSACK] }
