package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Option layout on the wire. The builder lays options out as Linux does
// (its tcp_options_write order, seen in every Linux capture), so that our
// segments look familiar next to the kernel's and every option stays
// 4-byte aligned with no trailing padding:
//
//	MSS                  02 04 mss mss
//	SACK-Permitted + TS  04 02 08 0a tsval tsecr     (TS alone: 01 01 08 0a ...)
//	SACK-Permitted alone 01 01 04 02
//	Window Scale         01 03 03 shift
//	SACK blocks          01 01 05 len left right ...
const (
	tcpOptAlignedMSS  = 4
	tcpOptAlignedTS   = 12 // NOP NOP or SACK-Permitted, then the 10-byte option
	tcpOptAlignedSOK  = 4
	tcpOptAlignedWS   = 4
	tcpOptAlignedSACK = 4 // NOP NOP kind len; then 8 per block
)

// TCPTimestampRoom is what the Timestamps option takes of every segment
// once negotiated: its 10 bytes padded to 12 (RFC 7323 §3.2).
const TCPTimestampRoom = tcpOptAlignedTS

// TCPSACKRoom returns what a SACK option of n blocks takes, its padding
// included: two NOPs, kind, length and 8 bytes a block (RFC 2018 §3).
func TCPSACKRoom(n int) int { return tcpOptAlignedSACK + 8*n }

// EncodedLen returns the number of bytes the builder writes for o: the
// Linux layout above, a multiple of 4, at most TCPMaxOptionsLen.
func (o *TCPOptions) EncodedLen() int {
	n := o.lenWithoutSACK()
	if k := o.sackFit(n); k > 0 {
		n += TCPSACKRoom(k)
	}
	return n
}

func (o *TCPOptions) lenWithoutSACK() int {
	n := 0
	if o.HasMSS {
		n += tcpOptAlignedMSS
	}
	if o.HasTimestamp {
		n += tcpOptAlignedTS // SACK-Permitted rides in its padding
	} else if o.SACKPermitted {
		n += tcpOptAlignedSOK
	}
	if o.HasWScale {
		n += tcpOptAlignedWS
	}
	return n
}

// sackFit returns how many of o's SACK blocks are written after used bytes
// of other options: NumSACK clamped to 0..4 and to the room left in 40
// bytes. With timestamps that is 3 blocks (RFC 2018 §3); the first blocks
// are kept, as RFC 2018 §4 puts the most recent first.
func (o *TCPOptions) sackFit(used int) int {
	k := min(max(o.NumSACK, 0), MaxSACKBlocks)
	room := TCPMaxOptionsLen - used - tcpOptAlignedSACK
	if room < 8 {
		return 0
	}
	return min(k, room/8)
}

// put writes the options into b, which holds at least EncodedLen bytes,
// and returns the bytes written.
func (o *TCPOptions) put(b []byte) int {
	n := 0
	if o.HasMSS {
		b[0], b[1] = TCPOptMSS, tcpOptLenMSS
		binary.BigEndian.PutUint16(b[2:], o.MSS)
		n += tcpOptAlignedMSS
	}
	if o.HasTimestamp {
		if o.SACKPermitted {
			b[n], b[n+1] = TCPOptSACKPermitted, tcpOptLenSACKOK
		} else {
			b[n], b[n+1] = TCPOptNOP, TCPOptNOP
		}
		b[n+2], b[n+3] = TCPOptTimestamp, tcpOptLenTS
		binary.BigEndian.PutUint32(b[n+4:], o.TSVal)
		binary.BigEndian.PutUint32(b[n+8:], o.TSEcr)
		n += tcpOptAlignedTS
	} else if o.SACKPermitted {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptNOP, TCPOptSACKPermitted, tcpOptLenSACKOK
		n += tcpOptAlignedSOK
	}
	if o.HasWScale {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptWScale, tcpOptLenWScale, o.WScale
		n += tcpOptAlignedWS
	}
	if k := o.sackFit(n); k > 0 {
		b[n], b[n+1], b[n+2], b[n+3] = TCPOptNOP, TCPOptNOP, TCPOptSACK, byte(2+8*k)
		n += tcpOptAlignedSACK
		for _, s := range o.SACK[:k] {
			binary.BigEndian.PutUint32(b[n:], uint32(s.Left))
			binary.BigEndian.PutUint32(b[n+4:], uint32(s.Right))
			n += 8
		}
	}
	return n
}

// TCPHeader is the decoded meaning of a TCP header, for building segments.
type TCPHeader struct {
	SrcPort, DstPort uint16
	Seq, Ack         seqnum.V32
	Flags            TCPFlags
	Window           uint16 // as sent, already scaled down by the sender
	Urgent           uint16
	Options          TCPOptions // laid out as described at EncodedLen
}

// Len returns the header length in bytes, options included (20 plus a
// multiple of 4, at most 60).
func (h *TCPHeader) Len() int { return TCPMinLen + h.Options.EncodedLen() }

// Encode writes the header into b[:h.Len()] and returns h.Len(). The
// checksum field is left zero: copy the payloadLen payload bytes after the
// header, then call TCP.SetChecksum on the whole segment (or use
// EncodeTCPPacket, which does all of it). It returns ErrNoSpace when b is
// too short for the header and ErrBadTotalLen when the segment would not
// fit the 16-bit IP length.
func (h *TCPHeader) Encode(b []byte, payloadLen int) (int, error) {
	hl := h.Len()
	if len(b) < hl {
		return 0, ErrNoSpace
	}
	if payloadLen < 0 || payloadLen > ipv6MaxPayLen-hl {
		return 0, fmt.Errorf("%w: TCP payload of %d bytes", ErrBadTotalLen, payloadLen)
	}
	binary.BigEndian.PutUint16(b[0:], h.SrcPort)
	binary.BigEndian.PutUint16(b[2:], h.DstPort)
	binary.BigEndian.PutUint32(b[4:], uint32(h.Seq))
	binary.BigEndian.PutUint32(b[8:], uint32(h.Ack))
	b[12] = byte(hl/4) << 4
	b[13] = byte(h.Flags)
	binary.BigEndian.PutUint16(b[14:], h.Window)
	b[16], b[17] = 0, 0
	binary.BigEndian.PutUint16(b[18:], h.Urgent)
	h.Options.put(b[TCPMinLen:hl])
	return hl, nil
}

// DefaultTTL is the IPv4 TTL and IPv6 Hop Limit EncodeTCPPacket writes:
// 64, Linux's default (RFC 1700 recommended it).
const DefaultTTL = 64

// TCPPacketLen returns the bytes EncodeTCPPacket needs for header h and
// payloadLen payload bytes sent from src (its family picks IPv4 or IPv6).
func TCPPacketLen(src netip.Addr, h *TCPHeader, payloadLen int) int {
	ipLen := IPv6HeaderLen
	if src.Unmap().Is4() {
		ipLen = IPv4MinLen
	}
	return ipLen + h.Len() + payloadLen
}

// EncodeTCPPacket writes a complete IP packet carrying the TCP segment h
// + payload from src to dst into b and returns its length. The address
// family picks the IP version (IPv4-mapped IPv6 addresses count as IPv4);
// the IP header has TTL/Hop Limit DefaultTTL, no options, and for IPv4 DF
// set with ID 0 (an atomic datagram, RFC 6864 §4.1). Both checksums are
// filled in, the TCP checksum as the payload is copied. payload may overlap b (copy moves it; a payload already in
// place after the headers is not moved). It returns ErrNoSpace when b is
// shorter than TCPPacketLen and ErrBadVersion when src and dst differ in
// family or are invalid. It does not allocate.
func EncodeTCPPacket(b []byte, src, dst netip.Addr, h *TCPHeader, payload []byte) (int, error) {
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() != dst.Is4() || !src.IsValid() || !dst.IsValid() {
		return 0, fmt.Errorf("%w: TCP packet from %v to %v", ErrBadVersion, src, dst)
	}
	need := TCPPacketLen(src, h, len(payload))
	if len(b) < need {
		return 0, ErrNoSpace
	}
	segLen := need - IPv6HeaderLen
	var ipLen int
	var err error
	if src.Is4() {
		segLen = need - IPv4MinLen
		ip := IPv4Header{Src: src, Dst: dst, Protocol: IPProtoTCP, TTL: DefaultTTL, DontFragment: true}
		ipLen, err = ip.Encode(b, segLen)
	} else {
		ip := IPv6Header{Src: src, Dst: dst, NextHeader: IPProtoTCP, HopLimit: DefaultTTL}
		ipLen, err = ip.Encode(b, segLen)
	}
	if err != nil {
		return 0, err
	}
	seg := TCP(b[ipLen:need])
	hl, err := h.Encode(seg, len(payload))
	if err != nil {
		return 0, err
	}
	// One pass over the payload: copied and summed together (CopySum),
	// unless it overlaps where it goes.
	acc := Sum(PseudoHeaderSum(src, dst, IPProtoTCP, len(seg)), seg[:hl])
	if overlap(seg[hl:], payload) {
		copy(seg[hl:], payload)
		acc = Sum(acc, seg[hl:])
	} else {
		acc = CopySum(acc, seg[hl:], payload)
	}
	binary.BigEndian.PutUint16(seg[16:], Fold(acc))
	return need, nil
}
