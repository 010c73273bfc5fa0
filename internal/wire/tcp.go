package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// TCPMinLen is the length of a TCP header without options (RFC 9293 §3.1).
const TCPMinLen = 20

// TCPMaxHeaderLen is the longest TCP header: data offset 15 words.
const TCPMaxHeaderLen = 60

// TCPMaxOptionsLen is the room for options in the longest header.
const TCPMaxOptionsLen = TCPMaxHeaderLen - TCPMinLen

// TCPMaxWindow is the largest value of the header's 16-bit Window field:
// the largest window without window scaling, and the most a SYN or
// SYN-ACK can offer, since their window is never scaled (RFC 7323 §2.2).
// It is not a port limit, though ports are 16 bits too.
const TCPMaxWindow = 1<<16 - 1

// TCP is a view of a TCP segment (RFC 9293 §3.1): header, options and
// payload, as carried in one IP packet's payload. Obtain one from
// ParseTCP; its accessors then never panic.
type TCP []byte

// ParseTCP checks that b holds a TCP header whose data offset is at least
// 5 words and within b (ErrTruncated, ErrBadHeaderLen) and returns a view
// of the whole segment. It does not verify the checksum (that needs the
// IP addresses: see VerifyChecksum) nor decode the options (see
// ParseTCPOptions).
func ParseTCP(b []byte) (TCP, error) {
	if len(b) < TCPMinLen {
		return nil, fmt.Errorf("%w: TCP header needs %d bytes, have %d", ErrTruncated, TCPMinLen, len(b))
	}
	t := TCP(b)
	if n := t.HeaderLen(); n < TCPMinLen || n > len(b) {
		return nil, fmt.Errorf("%w: TCP data offset %d bytes, segment %d", ErrBadHeaderLen, n, len(b))
	}
	return t, nil
}

// SrcPort returns the source port.
func (t TCP) SrcPort() uint16 { return binary.BigEndian.Uint16(t[0:]) }

// DstPort returns the destination port.
func (t TCP) DstPort() uint16 { return binary.BigEndian.Uint16(t[2:]) }

// Seq returns the sequence number.
func (t TCP) Seq() seqnum.V32 { return seqnum.V32(binary.BigEndian.Uint32(t[4:])) }

// Ack returns the acknowledgment number (meaningful when ACK is set).
func (t TCP) Ack() seqnum.V32 { return seqnum.V32(binary.BigEndian.Uint32(t[8:])) }

// DataOffset returns the Data Offset field: the header length in 32-bit
// words.
func (t TCP) DataOffset() uint8 { return t[12] >> 4 }

// HeaderLen returns the header length in bytes, options included.
func (t TCP) HeaderLen() int { return int(t[12]>>4) * 4 }

// Reserved returns the four reserved bits between the data offset and the
// flags (RFC 9293 §3.1; the lowest was once ECN's NS bit, RFC 3540,
// now historic). A sender sets them to zero.
func (t TCP) Reserved() uint8 { return t[12] & 0x0f }

// Flags returns the control bits (CWR ECE URG ACK PSH RST SYN FIN).
func (t TCP) Flags() TCPFlags { return TCPFlags(t[13]) }

// Window returns the Window field as sent, before any window scaling.
func (t TCP) Window() uint16 { return binary.BigEndian.Uint16(t[14:]) }

// Checksum returns the checksum field as sent.
func (t TCP) Checksum() uint16 { return binary.BigEndian.Uint16(t[16:]) }

// Urgent returns the Urgent Pointer (meaningful when URG is set).
func (t TCP) Urgent() uint16 { return binary.BigEndian.Uint16(t[18:]) }

// Options returns the raw options area (empty when the data offset is 5);
// decode it with ParseTCPOptions or walk it with TCPOptionIter.
func (t TCP) Options() []byte { return t[TCPMinLen:t.HeaderLen()] }

// Payload returns the data after the header.
func (t TCP) Payload() []byte { return t[t.HeaderLen():] }

// SegLen returns the segment's length in sequence space: the payload plus
// one for SYN and one for FIN (RFC 9293 §3.4, SEG.LEN).
func (t TCP) SegLen() seqnum.Size32 {
	n := seqnum.Size32(len(t) - t.HeaderLen())
	if t.Flags()&SYN != 0 {
		n++
	}
	if t.Flags()&FIN != 0 {
		n++
	}
	return n
}

// VerifyChecksum reports whether the checksum is correct for a segment
// sent from src to dst: the one's-complement sum of the pseudo-header
// (RFC 9293 §3.1 for IPv4, RFC 8200 §8.1 for IPv6), the header and the
// payload, the checksum field included, folds to zero. The whole view is
// the segment, so it must end where the IP payload ends.
func (t TCP) VerifyChecksum(src, dst netip.Addr) bool {
	return Fold(Sum(PseudoHeaderSum(src, dst, IPProtoTCP, len(t)), t)) == 0
}

// SetChecksum computes the checksum of the segment t (header and payload,
// contiguous) sent from src to dst and writes it into the header.
func (t TCP) SetChecksum(src, dst netip.Addr) {
	t[16], t[17] = 0, 0
	binary.BigEndian.PutUint16(t[16:], Fold(Sum(PseudoHeaderSum(src, dst, IPProtoTCP, len(t)), t)))
}
