package wire

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Decoders for the values of fixed-meaning DCCP options. Each checks the
// option's type and length; a wrong length returns ErrBadOptionLen, a
// wrong type ErrBadOption. Times are in the units RFC 4340 §13 fixes: one
// unit of Timestamp is 10 microseconds, one unit of Elapsed Time is a
// hundredth of a millisecond (also 10 microseconds).

func (o DCCPOption) want(t DCCPOptionType) error {
	if o.Type != t {
		return fmt.Errorf("%w: %v is not %v", ErrBadOption, o.Type, t)
	}
	return checkDCCPOptionLen(t, len(o.Data))
}

// NDPCount returns the value of an NDP Count option: how many
// non-data packets preceded this one, 1-6 bytes (§7.7).
func (o DCCPOption) NDPCount() (uint64, error) {
	if err := o.want(DCCPOptNDPCount); err != nil {
		return 0, err
	}
	return DecodeDCCPNN(o.Data)
}

// Timestamp returns the Timestamp Value of a Timestamp option (§13.1).
func (o DCCPOption) Timestamp() (uint32, error) {
	if err := o.want(DCCPOptTimestamp); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(o.Data), nil
}

// DCCPTimestampEcho is a decoded Timestamp Echo option (§13.3).
type DCCPTimestampEcho struct {
	// Echo is the Timestamp Value being echoed.
	Echo uint32
	// Elapsed is the time between receiving the Timestamp and sending
	// the echo, in hundredths of milliseconds; valid when ElapsedLen > 0.
	Elapsed uint32
	// ElapsedLen is the size of the Elapsed Time field: 0, 2 or 4.
	ElapsedLen int
}

// TimestampEcho decodes a Timestamp Echo option: a 4-byte echo and an
// optional 2- or 4-byte Elapsed Time (§13.3).
func (o DCCPOption) TimestampEcho() (DCCPTimestampEcho, error) {
	if err := o.want(DCCPOptTimestampEcho); err != nil {
		return DCCPTimestampEcho{}, err
	}
	e := DCCPTimestampEcho{Echo: binary.BigEndian.Uint32(o.Data), ElapsedLen: len(o.Data) - 4}
	switch e.ElapsedLen {
	case 2:
		e.Elapsed = uint32(binary.BigEndian.Uint16(o.Data[4:]))
	case 4:
		e.Elapsed = binary.BigEndian.Uint32(o.Data[4:])
	}
	return e, nil
}

// ElapsedTime returns the value of an Elapsed Time option, 2 or 4 bytes,
// in hundredths of milliseconds (§13.2).
func (o DCCPOption) ElapsedTime() (uint32, error) {
	if err := o.want(DCCPOptElapsedTime); err != nil {
		return 0, err
	}
	if len(o.Data) == 2 {
		return uint32(binary.BigEndian.Uint16(o.Data)), nil
	}
	return binary.BigEndian.Uint32(o.Data), nil
}

// DataChecksum returns the CRC-32c carried by a Data Checksum option
// (§9.3); compare it with DCCPDataChecksum of the payload.
func (o DCCPOption) DataChecksum() (uint32, error) {
	if err := o.want(DCCPOptDataChecksum); err != nil {
		return 0, err
	}
	return binary.BigEndian.Uint32(o.Data), nil
}

// InitCookie returns the opaque data of an Init Cookie option (§8.1.4).
func (o DCCPOption) InitCookie() ([]byte, error) {
	if err := o.want(DCCPOptInitCookie); err != nil {
		return nil, err
	}
	return o.Data, nil
}

// AckVector returns the cells of an Ack Vector option and its ECN Nonce
// Echo bit: 0 for type 38, 1 for type 39 (§11.4).
func (o DCCPOption) AckVector() (DCCPAckVector, uint8, error) {
	if !o.Type.IsAckVector() {
		return nil, 0, fmt.Errorf("%w: %v is not an Ack Vector", ErrBadOption, o.Type)
	}
	return DCCPAckVector(o.Data), uint8(o.Type - DCCPOptAckVector0), nil
}

// DataDropped returns the blocks of a Data Dropped option (§11.7).
func (o DCCPOption) DataDropped() (DCCPDataDropped, error) {
	if err := o.want(DCCPOptDataDropped); err != nil {
		return nil, err
	}
	return DCCPDataDropped(o.Data), nil
}

// castagnoli is the CRC-32c table of §9.3. crc32 builds it once; with
// SSE4.2 or ARMv8 the hardware path uses no table at all.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// DCCPDataChecksum returns the CRC-32c of an application data area, the
// value a Data Checksum option carries (RFC 4340 §9.3).
func DCCPDataChecksum(payload []byte) uint32 { return crc32.Checksum(payload, castagnoli) }
