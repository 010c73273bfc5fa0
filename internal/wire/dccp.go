package wire

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// DCCP header sizes (RFC 4340 §5.1-§5.6).
const (
	// DCCPGenericLen is the generic header with 48-bit sequence numbers
	// (X=1).
	DCCPGenericLen = 16
	// DCCPGenericShortLen is the generic header with 24-bit sequence
	// numbers (X=0).
	DCCPGenericShortLen = 12
	// DCCPMaxHeaderLen is the largest header the 8-bit Data Offset can
	// describe: 255 32-bit words.
	DCCPMaxHeaderLen = 255 * 4
	// IPProtoDCCP is DCCP's IP protocol number (assigned by IANA), used in
	// the IP header and the checksum's pseudo-header.
	IPProtoDCCP = 33
)

// DCCPType is the 4-bit packet Type of the generic header (RFC 4340 §5.1).
type DCCPType uint8

// The ten packet types of RFC 4340 §5.1; values 10-15 are reserved and
// rejected by ParseDCCP.
const (
	DCCPRequest  DCCPType = 0
	DCCPResponse DCCPType = 1
	DCCPData     DCCPType = 2
	DCCPAck      DCCPType = 3
	DCCPDataAck  DCCPType = 4
	DCCPCloseReq DCCPType = 5
	DCCPClose    DCCPType = 6
	DCCPReset    DCCPType = 7
	DCCPSync     DCCPType = 8
	DCCPSyncAck  DCCPType = 9
)

var dccpTypeNames = [...]string{
	"Request", "Response", "Data", "Ack", "DataAck",
	"CloseReq", "Close", "Reset", "Sync", "SyncAck",
}

// String returns the type's name without the "DCCP-" prefix ("Request",
// "DataAck", "SyncAck"); the lab's JSON uses these spellings. A reserved
// value reads "Reserved(n)".
func (t DCCPType) String() string {
	if int(t) < len(dccpTypeNames) {
		return dccpTypeNames[t]
	}
	return "Reserved(" + strconv.Itoa(int(t)) + ")"
}

// Valid reports whether t is one of the ten defined types.
func (t DCCPType) Valid() bool { return t <= DCCPSyncAck }

// HasAck reports whether packets of type t carry an Acknowledgement Number
// subheader: every type except Request and Data (RFC 4340 §5.2, §5.3).
func (t DCCPType) HasAck() bool { return t.Valid() && t != DCCPRequest && t != DCCPData }

// AllowsShortSeq reports whether packets of type t may use 24-bit sequence
// numbers (X=0): only Data, Ack and DataAck may (RFC 4340 §5.1).
func (t DCCPType) AllowsShortSeq() bool { return t == DCCPData || t == DCCPAck || t == DCCPDataAck }

// MinHeaderLen returns the size of the generic header and the subheaders
// that packets of type t need, options excluded (RFC 4340 §5.1-§5.6), or
// 0 for a reserved type or a forbidden X=0.
func (t DCCPType) MinHeaderLen(x bool) int {
	if !t.Valid() || (!x && !t.AllowsShortSeq()) {
		return 0
	}
	n, ackLen := DCCPGenericLen, 8
	if !x {
		n, ackLen = DCCPGenericShortLen, 4
	}
	if t.HasAck() {
		n += ackLen
	}
	switch t {
	case DCCPRequest, DCCPResponse: // Service Code, §5.4, §5.5
		n += 4
	case DCCPReset: // Reset Code, Data 1-3, §5.6
		n += 4
	}
	return n
}

// DCCPResetCode is the Reset Code of a DCCP-Reset (RFC 4340 §5.6).
type DCCPResetCode uint8

// Reset codes of RFC 4340 §5.6; 12-127 are reserved, 128-255 CCID-specific.
const (
	DCCPResetUnspecified       DCCPResetCode = 0
	DCCPResetClosed            DCCPResetCode = 1
	DCCPResetAborted           DCCPResetCode = 2
	DCCPResetNoConnection      DCCPResetCode = 3
	DCCPResetPacketError       DCCPResetCode = 4
	DCCPResetOptionError       DCCPResetCode = 5
	DCCPResetMandatoryError    DCCPResetCode = 6
	DCCPResetConnectionRefused DCCPResetCode = 7
	DCCPResetBadServiceCode    DCCPResetCode = 8
	DCCPResetTooBusy           DCCPResetCode = 9
	DCCPResetBadInitCookie     DCCPResetCode = 10
	DCCPResetAggressionPenalty DCCPResetCode = 11
)

var dccpResetNames = [...]string{
	"Unspecified", "Closed", "Aborted", "No Connection", "Packet Error",
	"Option Error", "Mandatory Error", "Connection Refused",
	"Bad Service Code", "Too Busy", "Bad Init Cookie", "Aggression Penalty",
}

// String returns the RFC 4340 §5.6 name ("Closed", "Too Busy"); codes
// without a name read "Reserved(n)" or "CCID-specific(n)".
func (c DCCPResetCode) String() string {
	switch {
	case int(c) < len(dccpResetNames):
		return dccpResetNames[c]
	case c >= 128:
		return "CCID-specific(" + strconv.Itoa(int(c)) + ")"
	}
	return "Reserved(" + strconv.Itoa(int(c)) + ")"
}

// DCCP is a view of a DCCP packet: header, options and application data
// (RFC 4340 §5). Obtain one from ParseDCCP; its accessors then never panic.
type DCCP []byte

// ParseDCCP checks that b holds a well-formed DCCP header and returns a
// view of it. It rejects reserved types and X=0 on types that must use
// 48-bit sequence numbers (ErrBadPacketType, §5.1), a buffer shorter than
// the type's subheaders (ErrTruncated) and a Data Offset below the type's
// minimum or beyond the packet (ErrBadHeaderLen). It does not verify the
// checksum or walk the options: see VerifyChecksum and Options.
func ParseDCCP(b []byte) (DCCP, error) {
	if len(b) < DCCPGenericShortLen {
		return nil, fmt.Errorf("%w: DCCP header needs %d bytes, have %d", ErrTruncated, DCCPGenericShortLen, len(b))
	}
	d := DCCP(b)
	t, x := d.Type(), d.X()
	if !t.Valid() {
		return nil, fmt.Errorf("%w: reserved DCCP type %d", ErrBadPacketType, t)
	}
	if !x && !t.AllowsShortSeq() {
		// §5.1: endpoints MUST ignore such packets with X set to zero.
		return nil, fmt.Errorf("%w: DCCP-%v with 24-bit sequence numbers", ErrBadPacketType, t)
	}
	minLen := t.MinHeaderLen(x)
	if len(b) < minLen {
		return nil, fmt.Errorf("%w: DCCP-%v header needs %d bytes, have %d", ErrTruncated, t, minLen, len(b))
	}
	if n := d.HeaderLen(); n < minLen || n > len(b) {
		return nil, fmt.Errorf("%w: data offset %d bytes, DCCP-%v needs %d, packet %d", ErrBadHeaderLen, n, t, minLen, len(b))
	}
	return d, nil
}

// SrcPort returns the source port.
func (d DCCP) SrcPort() uint16 { return binary.BigEndian.Uint16(d[0:]) }

// DstPort returns the destination port.
func (d DCCP) DstPort() uint16 { return binary.BigEndian.Uint16(d[2:]) }

// DataOffset returns the Data Offset field: the header length in 32-bit
// words, options included.
func (d DCCP) DataOffset() int { return int(d[4]) }

// HeaderLen returns the header length in bytes, options included.
func (d DCCP) HeaderLen() int { return int(d[4]) * 4 }

// CCVal returns the 4-bit field reserved for the sender's CCID (§5.1).
func (d DCCP) CCVal() uint8 { return d[5] >> 4 }

// CsCov returns the 4-bit Checksum Coverage field (§9.2).
func (d DCCP) CsCov() uint8 { return d[5] & 0x0f }

// Checksum returns the Checksum field.
func (d DCCP) Checksum() uint16 { return binary.BigEndian.Uint16(d[6:]) }

// Type returns the packet type.
func (d DCCP) Type() DCCPType { return DCCPType(d[8]>>1) & 0x0f }

// X reports whether the packet uses 48-bit sequence and acknowledgement
// numbers (the Extended Sequence Numbers bit).
func (d DCCP) X() bool { return d[8]&1 == 1 }

// genericLen returns the size of the generic header: 16 or 12 bytes.
func (d DCCP) genericLen() int {
	if d.X() {
		return DCCPGenericLen
	}
	return DCCPGenericShortLen
}

// Seq returns the sequence number: all 48 bits when X=1, the 24 bits
// carried when X=0 (see SeqExtended).
func (d DCCP) Seq() seqnum.V48 {
	if d.X() {
		return seqnum.V48(uint64(binary.BigEndian.Uint16(d[10:]))<<32 | uint64(binary.BigEndian.Uint32(d[12:])))
	}
	return seqnum.V48(uint32(d[9])<<16 | uint32(binary.BigEndian.Uint16(d[10:])))
}

// SeqExtended returns the full 48-bit sequence number: Seq when X=1, and
// when X=0 the 48-bit number nearest gsr (the greatest sequence number
// received) whose low 24 bits are those carried (RFC 4340 §7.6).
func (d DCCP) SeqExtended(gsr seqnum.V48) seqnum.V48 {
	if d.X() {
		return d.Seq()
	}
	return seqnum.Extend24(gsr, uint32(d.Seq()))
}

// HasAck reports whether the packet carries an Acknowledgement Number.
func (d DCCP) HasAck() bool { return d.Type().HasAck() }

// Ack returns the acknowledgement number (48 bits when X=1, the 24 bits
// carried when X=0), or 0 for Request and Data packets, which have none.
func (d DCCP) Ack() seqnum.V48 {
	if !d.HasAck() {
		return 0
	}
	o := d.genericLen()
	if d.X() { // §5.2: 16 reserved bits, then 48 bits
		return seqnum.V48(uint64(binary.BigEndian.Uint16(d[o+2:]))<<32 | uint64(binary.BigEndian.Uint32(d[o+4:])))
	}
	// §5.3: 8 reserved bits, then 24 bits
	return seqnum.V48(uint32(d[o+1])<<16 | uint32(binary.BigEndian.Uint16(d[o+2:])))
}

// AckExtended returns the full 48-bit acknowledgement number: Ack when
// X=1, and when X=0 the number nearest gss (the greatest sequence number
// sent, which the peer acknowledges) with the carried low 24 bits (§7.6).
func (d DCCP) AckExtended(gss seqnum.V48) seqnum.V48 {
	if d.X() {
		return d.Ack()
	}
	return seqnum.Extend24(gss, uint32(d.Ack()))
}

// typeOffset returns where the type-specific field after the generic and
// acknowledgement headers starts.
func (d DCCP) typeOffset() int {
	o := d.genericLen()
	if d.HasAck() {
		o += 8 // only X=1 packets have Service Codes or Reset Codes
	}
	return o
}

// ServiceCode returns the Service Code of a Request (§5.4) or Response
// (§5.5), or 0 for other types.
func (d DCCP) ServiceCode() uint32 {
	if t := d.Type(); t != DCCPRequest && t != DCCPResponse {
		return 0
	}
	return binary.BigEndian.Uint32(d[d.typeOffset():])
}

// ResetCode returns the Reset Code of a DCCP-Reset (§5.6), or 0
// (Unspecified) for other types.
func (d DCCP) ResetCode() DCCPResetCode {
	if d.Type() != DCCPReset {
		return 0
	}
	return DCCPResetCode(d[d.typeOffset()])
}

// ResetData returns the Data 1, Data 2 and Data 3 bytes of a DCCP-Reset,
// whose meaning depends on the Reset Code (§5.6); zeros for other types.
func (d DCCP) ResetData() [3]byte {
	if d.Type() != DCCPReset {
		return [3]byte{}
	}
	o := d.typeOffset()
	return [3]byte{d[o+1], d[o+2], d[o+3]}
}

// Options returns the options area: from the end of the type's subheaders
// to Data Offset (§5.8). Walk it with NewDCCPOptionIter.
func (d DCCP) Options() []byte {
	return d[d.Type().MinHeaderLen(d.X()):d.HeaderLen()]
}

// Payload returns the application data area.
func (d DCCP) Payload() []byte { return d[d.HeaderLen():] }

// OptionIter returns an iterator over the packet's options.
func (d DCCP) OptionIter() DCCPOptionIter { return NewDCCPOptionIter(d.Options()) }
