package wire

import (
	"fmt"
	"net/netip"
)

// IPProtoTCP is TCP's IP protocol number (RFC 9293 §3.1).
const IPProtoTCP = 6

// IPPacket is the version-agnostic summary of an IP packet that the
// stack's demultiplexer needs. Its slices point into the buffer given to
// ParseIP; nothing is copied.
type IPPacket struct {
	Version  uint8      // 4 or 6
	Src, Dst netip.Addr // source and destination
	// Protocol is the upper-layer protocol: IPv4's Protocol field, or the
	// Next Header after IPv6's extension headers (IPProtoNoNext if none).
	Protocol uint8
	// TTL is IPv4's Time to Live or IPv6's Hop Limit.
	TTL uint8
	// TOS is IPv4's Type of Service or IPv6's Traffic Class (ECN in the
	// low two bits in both).
	TOS uint8
	// Header is the IP header through the last extension header; Payload
	// the upper-layer bytes that follow, up to the IP length.
	Header, Payload []byte
}

// ParseIP parses an IPv4 or IPv6 packet chosen by its version nibble and
// returns its summary. Errors are those of ParseIPv4 and ParseIPv6, plus
// ErrTruncated for an empty buffer and ErrBadVersion for a version that is
// neither 4 nor 6. It does not allocate when the packet is good.
func ParseIP(b []byte) (IPPacket, error) {
	if len(b) == 0 {
		return IPPacket{}, fmt.Errorf("%w: empty IP packet", ErrTruncated)
	}
	switch b[0] >> 4 {
	case 4:
		v, err := ParseIPv4(b)
		if err != nil {
			return IPPacket{}, err
		}
		hl := v.HeaderLen()
		return IPPacket{
			Version: 4, Src: v.Src(), Dst: v.Dst(), Protocol: v.Protocol(),
			TTL: v.TTL(), TOS: v.TOS(), Header: v[:hl:hl], Payload: v[hl:],
		}, nil
	case 6:
		v, err := ParseIPv6(b)
		if err != nil {
			return IPPacket{}, err
		}
		proto, off, _ := v.walk() // cannot fail: ParseIPv6 walked it
		pay := v[off:]
		if proto == IPProtoNoNext {
			pay = v[len(v):] // RFC 8200 §4.7: what follows is ignored
		}
		return IPPacket{
			Version: 6, Src: v.Src(), Dst: v.Dst(), Protocol: proto,
			TTL: v.HopLimit(), TOS: v.TrafficClass(), Header: v[:off:off], Payload: pay,
		}, nil
	default:
		return IPPacket{}, fmt.Errorf("%w: version %d", ErrBadVersion, b[0]>>4)
	}
}
