package wire

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// DCCPHeader is the decoded meaning of a DCCP header, the input of the
// builder. Fields a type does not carry are ignored: Ack for Request and
// Data, ServiceCode outside Request and Response, ResetCode and ResetData
// outside Reset.
type DCCPHeader struct {
	SrcPort, DstPort uint16
	// CCVal is the CCID's 4-bit value; only its low 4 bits are sent.
	CCVal uint8
	// CsCov is the checksum coverage, 0-15 (§9.2).
	CsCov uint8
	Type  DCCPType
	// X selects 48-bit sequence numbers. X=false (24-bit) is allowed only
	// for Data, Ack and DataAck (§5.1).
	X bool
	// Seq and Ack are sent whole when X is set, else their low 24 bits.
	Seq, Ack    seqnum.V48
	ServiceCode uint32
	ResetCode   DCCPResetCode
	ResetData   [3]byte
	// Options are encoded options (see the AppendDCCP* helpers); Encode
	// pads them with Padding to a multiple of 4 bytes.
	Options []byte
}

// DCCPHeaderOf decodes a parsed packet's header into a DCCPHeader; the
// Options field aliases the packet.
func DCCPHeaderOf(d DCCP) DCCPHeader {
	return DCCPHeader{
		SrcPort: d.SrcPort(), DstPort: d.DstPort(), CCVal: d.CCVal(), CsCov: d.CsCov(),
		Type: d.Type(), X: d.X(), Seq: d.Seq(), Ack: d.Ack(), ServiceCode: d.ServiceCode(),
		ResetCode: d.ResetCode(), ResetData: d.ResetData(), Options: d.Options(),
	}
}

// Len returns the encoded header length: the type's fixed part plus the
// options rounded up to a multiple of 4. It is 0 for a header Encode
// would reject for its type or X.
func (h *DCCPHeader) Len() int {
	n := h.Type.MinHeaderLen(h.X)
	if n == 0 {
		return 0
	}
	return n + (len(h.Options)+3)&^3
}

// Encode writes the header, with options and padding, to the start of b
// and returns its length. payloadLen is the size of the application data
// the caller will place right after the header; b must have room for it
// too. The Checksum field is left zero: copy the payload in, then call
// SetChecksum on the whole packet (or use BuildDCCP).
//
// Errors: ErrBadPacketType for a reserved type or X=false on a type that
// needs 48-bit numbers, ErrBadHeaderLen for a header over 1020 bytes,
// ErrBadCsCov for CsCov over 15 or covering more than payloadLen, and
// ErrNoSpace if b is too small.
func (h *DCCPHeader) Encode(b []byte, payloadLen int) (int, error) {
	fixed := h.Type.MinHeaderLen(h.X)
	if fixed == 0 {
		return 0, fmt.Errorf("%w: DCCP-%v with X=%v", ErrBadPacketType, h.Type, h.X)
	}
	n := h.Len()
	if n > DCCPMaxHeaderLen {
		return 0, fmt.Errorf("%w: DCCP header of %d bytes", ErrBadHeaderLen, n)
	}
	if h.CsCov > 15 {
		return 0, fmt.Errorf("%w: CsCov %d does not fit 4 bits", ErrBadCsCov, h.CsCov)
	}
	if _, err := dccpCoverage(n, n+payloadLen, h.CsCov); err != nil {
		return 0, err
	}
	if payloadLen < 0 || len(b) < n+payloadLen {
		return 0, fmt.Errorf("%w: DCCP packet needs %d bytes, have %d", ErrNoSpace, n+payloadLen, len(b))
	}
	binary.BigEndian.PutUint16(b[0:], h.SrcPort)
	binary.BigEndian.PutUint16(b[2:], h.DstPort)
	b[4] = byte(n / 4)
	b[5] = h.CCVal<<4 | h.CsCov
	b[6], b[7] = 0, 0
	b[8] = byte(h.Type) << 1 // Res = 0
	o := DCCPGenericShortLen
	if h.X {
		b[8] |= 1
		b[9] = 0 // Reserved
		putUint48(b[10:], uint64(h.Seq))
		o = DCCPGenericLen
	} else {
		putUint24(b[9:], uint32(h.Seq))
	}
	if h.Type.HasAck() {
		if h.X { // §5.2
			b[o], b[o+1] = 0, 0
			putUint48(b[o+2:], uint64(h.Ack))
			o += 8
		} else { // §5.3
			b[o] = 0
			putUint24(b[o+1:], uint32(h.Ack))
			o += 4
		}
	}
	switch h.Type {
	case DCCPRequest, DCCPResponse:
		binary.BigEndian.PutUint32(b[o:], h.ServiceCode)
		o += 4
	case DCCPReset:
		b[o] = byte(h.ResetCode)
		copy(b[o+1:o+4], h.ResetData[:])
		o += 4
	}
	o += copy(b[o:], h.Options)
	clear(b[o:n]) // Padding options are zero bytes (§5.8.1)
	return n, nil
}

func putUint48(b []byte, v uint64) {
	binary.BigEndian.PutUint16(b, uint16(v>>32))
	binary.BigEndian.PutUint32(b[2:], uint32(v))
}

func putUint24(b []byte, v uint32) {
	b[0] = byte(v >> 16)
	binary.BigEndian.PutUint16(b[1:], uint16(v))
}

// BuildDCCP writes a complete DCCP packet, header then payload, into b
// and fills in its checksum for the addresses src and dst. It returns
// the packet's length. Errors are those of Encode.
func BuildDCCP(b []byte, h *DCCPHeader, payload []byte, src, dst netip.Addr) (int, error) {
	n, err := h.Encode(b, len(payload))
	if err != nil {
		return 0, err
	}
	n += copy(b[n:], payload)
	if err := DCCP(b[:n]).SetChecksum(src, dst); err != nil {
		return 0, err
	}
	return n, nil
}
