package wire

import (
	"encoding/binary"
	"fmt"
)

// Option encoders. Each appends one option to b, append-style: pass a
// slice of a caller-owned array (buf[:0]) with room to spare and nothing
// allocates. Finish the list with PadDCCPOptions, or let
// DCCPHeader.Encode pad it.

// AppendDCCPOption appends a multi-byte option of type t (32-255) with the
// given data. It returns ErrBadOptionLen if the data is longer than 253
// bytes or has a length the type forbids, ErrBadOption for a single-byte
// type.
func AppendDCCPOption(b []byte, t DCCPOptionType, data []byte) ([]byte, error) {
	if t.SingleByte() {
		return b, fmt.Errorf("%w: %v is a single-byte option", ErrBadOption, t)
	}
	if len(data) > DCCPMaxOptionData {
		return b, fmt.Errorf("%w: %v with %d data bytes", ErrBadOptionLen, t, len(data))
	}
	if err := checkDCCPOptionLen(t, len(data)); err != nil {
		return b, err
	}
	b = append(b, byte(t), byte(len(data)+2))
	return append(b, data...), nil
}

// AppendDCCPMandatory appends a Mandatory option; the next option appended
// is the one it makes mandatory (§5.8.2).
func AppendDCCPMandatory(b []byte) []byte { return append(b, byte(DCCPOptMandatory)) }

// AppendDCCPSlowReceiver appends a Slow Receiver option (§11.6).
func AppendDCCPSlowReceiver(b []byte) []byte { return append(b, byte(DCCPOptSlowReceiver)) }

// AppendDCCPFeature appends a Change or Confirm option (t is one of
// DCCPOptChangeL, DCCPOptConfirmL, DCCPOptChangeR, DCCPOptConfirmR) for
// feature f with raw values: for server-priority features one byte per
// value, preference order; for a Confirm of an SP feature the chosen value
// first (§6.1, §6.2). A Confirm with no values is the empty Confirm
// (§6.6.7).
func AppendDCCPFeature(b []byte, t DCCPOptionType, f DCCPFeature, values []byte) ([]byte, error) {
	if !t.IsChange() && !t.IsConfirm() {
		return b, fmt.Errorf("%w: %v is not a feature option", ErrBadOption, t)
	}
	if len(values)+1 > DCCPMaxOptionData {
		return b, fmt.Errorf("%w: %v(%v) with %d values", ErrBadOptionLen, t, f, len(values))
	}
	if err := checkDCCPOptionLen(t, len(values)+1); err != nil {
		return b, err
	}
	b = append(b, byte(t), byte(len(values)+3), byte(f))
	return append(b, values...), nil
}

// AppendDCCPFeatureNN appends a Change or Confirm option for a
// non-negotiable feature with integer value v, big-endian in the
// feature's width (6 bytes for Sequence Window, 2 for Ack Ratio) or, for
// an NN feature this package does not know, in as few bytes as v needs.
// It returns ErrBadOption if v does not fit the width.
func AppendDCCPFeatureNN(b []byte, t DCCPOptionType, f DCCPFeature, v uint64) ([]byte, error) {
	w := f.NNWidth()
	if w == 0 {
		w = minBytes(v)
	}
	if w < 8 && v>>(8*w) != 0 || w > 6 {
		return b, fmt.Errorf("%w: %v value %d does not fit %d bytes", ErrBadOption, f, v, w)
	}
	var buf [8]byte
	binary.BigEndian.PutUint64(buf[:], v)
	return AppendDCCPFeature(b, t, f, buf[8-w:])
}

// minBytes returns the number of bytes v needs, at least 1.
func minBytes(v uint64) int {
	n := 1
	for v >>= 8; v != 0; v >>= 8 {
		n++
	}
	return n
}

// AppendDCCPNDPCount appends an NDP Count option in as few bytes as n
// needs (§7.7: 1-6 bytes). n must be below 2^48.
func AppendDCCPNDPCount(b []byte, n uint64) ([]byte, error) {
	w := minBytes(n)
	if w > 6 {
		return b, fmt.Errorf("%w: NDP Count %d does not fit 6 bytes", ErrBadOption, n)
	}
	b = append(b, byte(DCCPOptNDPCount), byte(w+2))
	for i := w - 1; i >= 0; i-- {
		b = append(b, byte(n>>(8*i)))
	}
	return b, nil
}

// AppendDCCPTimestamp appends a Timestamp option (§13.1).
func AppendDCCPTimestamp(b []byte, ts uint32) []byte {
	b = append(b, byte(DCCPOptTimestamp), 6)
	return binary.BigEndian.AppendUint32(b, ts)
}

// AppendDCCPTimestampEcho appends a Timestamp Echo option (§13.3) with
// e.ElapsedLen 0, 2 or 4 bytes of elapsed time. It returns
// ErrBadOptionLen for another ElapsedLen and ErrBadOption if Elapsed does
// not fit a 2-byte field.
func AppendDCCPTimestampEcho(b []byte, e DCCPTimestampEcho) ([]byte, error) {
	switch e.ElapsedLen {
	case 0:
		b = append(b, byte(DCCPOptTimestampEcho), 6)
		return binary.BigEndian.AppendUint32(b, e.Echo), nil
	case 2:
		if e.Elapsed > 0xffff {
			return b, fmt.Errorf("%w: elapsed time %d in 2 bytes", ErrBadOption, e.Elapsed)
		}
		b = append(b, byte(DCCPOptTimestampEcho), 8)
		b = binary.BigEndian.AppendUint32(b, e.Echo)
		return binary.BigEndian.AppendUint16(b, uint16(e.Elapsed)), nil
	case 4:
		b = append(b, byte(DCCPOptTimestampEcho), 10)
		b = binary.BigEndian.AppendUint32(b, e.Echo)
		return binary.BigEndian.AppendUint32(b, e.Elapsed), nil
	}
	return b, fmt.Errorf("%w: Timestamp Echo elapsed length %d", ErrBadOptionLen, e.ElapsedLen)
}

// AppendDCCPElapsedTime appends an Elapsed Time option (§13.2), in 2
// bytes when the value fits, else 4.
func AppendDCCPElapsedTime(b []byte, elapsed uint32) []byte {
	if elapsed <= 0xffff {
		b = append(b, byte(DCCPOptElapsedTime), 4)
		return binary.BigEndian.AppendUint16(b, uint16(elapsed))
	}
	b = append(b, byte(DCCPOptElapsedTime), 6)
	return binary.BigEndian.AppendUint32(b, elapsed)
}

// AppendDCCPDataChecksum appends a Data Checksum option holding the
// CRC-32c of payload (§9.3).
func AppendDCCPDataChecksum(b []byte, payload []byte) []byte {
	b = append(b, byte(DCCPOptDataChecksum), 6)
	return binary.BigEndian.AppendUint32(b, DCCPDataChecksum(payload))
}

// AppendDCCPAckVector appends Ack Vector options carrying cells (built
// with AppendDCCPAckRun), type 38 for nonce 0 and 39 for nonce 1. Cells
// beyond 253 continue in further options of the same type, as §11.4
// allows.
func AppendDCCPAckVector(b []byte, nonce uint8, cells []byte) []byte {
	t := DCCPOptAckVector0 + DCCPOptionType(nonce&1)
	for {
		k := min(len(cells), DCCPMaxOptionData)
		b = append(b, byte(t), byte(k+2))
		b = append(b, cells[:k]...)
		cells = cells[k:]
		if len(cells) == 0 {
			return b
		}
	}
}

// PadDCCPOptions appends Padding until len(b) is a multiple of 4.
func PadDCCPOptions(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, byte(DCCPOptPadding))
	}
	return b
}
