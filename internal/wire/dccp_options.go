package wire

import (
	"fmt"
	"strconv"
)

// DCCPOptionType is the first byte of a DCCP option (RFC 4340 §5.8).
// Types 0-31 are single bytes; types 32-255 carry a length byte that
// counts the type and length bytes themselves.
type DCCPOptionType uint8

// Option types of RFC 4340 §5.8, Table 3. Types 128-255 belong to the
// half-connection's CCID (§10.3) and are passed through undecoded.
const (
	DCCPOptPadding        DCCPOptionType = 0  // §5.8.1
	DCCPOptMandatory      DCCPOptionType = 1  // §5.8.2
	DCCPOptSlowReceiver   DCCPOptionType = 2  // §11.6
	DCCPOptChangeL        DCCPOptionType = 32 // §6.1
	DCCPOptConfirmL       DCCPOptionType = 33 // §6.2
	DCCPOptChangeR        DCCPOptionType = 34 // §6.1
	DCCPOptConfirmR       DCCPOptionType = 35 // §6.2
	DCCPOptInitCookie     DCCPOptionType = 36 // §8.1.4
	DCCPOptNDPCount       DCCPOptionType = 37 // §7.7
	DCCPOptAckVector0     DCCPOptionType = 38 // §11.4, ECN Nonce 0
	DCCPOptAckVector1     DCCPOptionType = 39 // §11.4, ECN Nonce 1
	DCCPOptDataDropped    DCCPOptionType = 40 // §11.7
	DCCPOptTimestamp      DCCPOptionType = 41 // §13.1
	DCCPOptTimestampEcho  DCCPOptionType = 42 // §13.3
	DCCPOptElapsedTime    DCCPOptionType = 43 // §13.2
	DCCPOptDataChecksum   DCCPOptionType = 44 // §9.3
	DCCPOptCCIDSpecificLo DCCPOptionType = 128
)

var dccpOptNames = map[DCCPOptionType]string{
	DCCPOptPadding: "Padding", DCCPOptMandatory: "Mandatory",
	DCCPOptSlowReceiver: "Slow Receiver", DCCPOptChangeL: "Change L",
	DCCPOptConfirmL: "Confirm L", DCCPOptChangeR: "Change R",
	DCCPOptConfirmR: "Confirm R", DCCPOptInitCookie: "Init Cookie",
	DCCPOptNDPCount: "NDP Count", DCCPOptAckVector0: "Ack Vector [Nonce 0]",
	DCCPOptAckVector1: "Ack Vector [Nonce 1]", DCCPOptDataDropped: "Data Dropped",
	DCCPOptTimestamp: "Timestamp", DCCPOptTimestampEcho: "Timestamp Echo",
	DCCPOptElapsedTime: "Elapsed Time", DCCPOptDataChecksum: "Data Checksum",
}

// String returns the option's name as RFC 4340 Table 3 writes it.
func (t DCCPOptionType) String() string {
	if s, ok := dccpOptNames[t]; ok {
		return s
	}
	if t >= DCCPOptCCIDSpecificLo {
		return "CCID-specific(" + strconv.Itoa(int(t)) + ")"
	}
	return "Reserved(" + strconv.Itoa(int(t)) + ")"
}

// SingleByte reports whether the option is one byte long (types 0-31).
func (t DCCPOptionType) SingleByte() bool { return t < 32 }

// IsChange reports whether t is Change L or Change R.
func (t DCCPOptionType) IsChange() bool { return t == DCCPOptChangeL || t == DCCPOptChangeR }

// IsConfirm reports whether t is Confirm L or Confirm R.
func (t DCCPOptionType) IsConfirm() bool { return t == DCCPOptConfirmL || t == DCCPOptConfirmR }

// IsAckVector reports whether t is Ack Vector [Nonce 0] or [Nonce 1].
func (t DCCPOptionType) IsAckVector() bool { return t == DCCPOptAckVector0 || t == DCCPOptAckVector1 }

// DCCPMaxOptionData is the most data one multi-byte option can carry: the
// length byte counts at most 255 bytes, two of them type and length.
const DCCPMaxOptionData = 253

// checkDCCPOptionLen checks the data length n of an option of type t
// against the lengths RFC 4340 Table 3 (§5.8) and §6 allow.
func checkDCCPOptionLen(t DCCPOptionType, n int) error {
	ok := true
	switch t {
	case DCCPOptChangeL, DCCPOptChangeR:
		ok = n >= 2 // feature number and at least one value (§6.1)
	case DCCPOptConfirmL, DCCPOptConfirmR:
		ok = n >= 1 // feature number; no value is an empty Confirm (§6.6.7)
	case DCCPOptNDPCount:
		ok = n >= 1 && n <= 6 // §7.7: length 3-8
	case DCCPOptTimestamp, DCCPOptDataChecksum:
		ok = n == 4 // §13.1, §9.3
	case DCCPOptTimestampEcho:
		ok = n == 4 || n == 6 || n == 8 // §13.3
	case DCCPOptElapsedTime:
		ok = n == 2 || n == 4 // §13.2
	}
	if !ok {
		return fmt.Errorf("%w: %v with %d data bytes", ErrBadOptionLen, t, n)
	}
	return nil
}

// DCCPOption is one option as found in a packet.
type DCCPOption struct {
	// Type is the option type.
	Type DCCPOptionType
	// Data is the option's value, after the type and length bytes; it
	// aliases the packet. Empty for single-byte options.
	Data []byte
	// Mandatory reports that a Mandatory option preceded this one: a
	// receiver that does not understand it must reset the connection
	// with code Mandatory Error (§5.8.2).
	Mandatory bool
}

// DCCPOptionIter walks an options area. Its zero value is an empty walk.
//
//	it := pkt.OptionIter()
//	for opt, ok := it.Next(); ok; opt, ok = it.Next() { ... }
//	if err := it.Err(); err != nil { ... }
//
// Padding options are skipped; a Mandatory option is not returned itself
// but sets the Mandatory flag of the next option that is not Padding.
type DCCPOptionIter struct {
	b   []byte
	off int
	err error
}

// NewDCCPOptionIter returns an iterator over the options in b.
func NewDCCPOptionIter(b []byte) DCCPOptionIter { return DCCPOptionIter{b: b} }

// Err returns the error that stopped the walk, or nil if it reached the
// end of the options area.
func (it *DCCPOptionIter) Err() error { return it.err }

// Next returns the next option. It returns false at the end of the area
// or at the first malformed option, after which Err says what was wrong:
// ErrBadOptionLen for a length byte below 2, beyond the area or wrong for
// the option's type; ErrBadOption for a Mandatory option that is last or
// followed by another Mandatory (§5.8.2).
func (it *DCCPOptionIter) Next() (DCCPOption, bool) {
	mandatory := false
	for it.err == nil && it.off < len(it.b) {
		start := it.off
		t := DCCPOptionType(it.b[start])
		if t.SingleByte() {
			it.off++
			switch {
			case t == DCCPOptMandatory && mandatory:
				it.err = fmt.Errorf("%w: Mandatory followed by Mandatory at offset %d", ErrBadOption, start)
				return DCCPOption{}, false
			case t == DCCPOptMandatory:
				mandatory = true
				continue
			case t == DCCPOptPadding:
				// §5.8.1: Padding only aligns; it is transparent, so a
				// Mandatory before it binds the next real option, and a
				// Mandatory followed only by Padding is "last".
				continue
			}
			return DCCPOption{Type: t, Mandatory: mandatory}, true
		}
		if start+1 >= len(it.b) {
			it.err = fmt.Errorf("%w: %v at offset %d has no length byte", ErrBadOptionLen, t, start)
			return DCCPOption{}, false
		}
		n := int(it.b[start+1])
		if n < 2 || start+n > len(it.b) {
			it.err = fmt.Errorf("%w: %v at offset %d says %d bytes, area has %d", ErrBadOptionLen, t, start, n, len(it.b)-start)
			return DCCPOption{}, false
		}
		if err := checkDCCPOptionLen(t, n-2); err != nil {
			it.err = err
			return DCCPOption{}, false
		}
		it.off = start + n
		return DCCPOption{Type: t, Data: it.b[start+2 : start+n : start+n], Mandatory: mandatory}, true
	}
	if mandatory && it.err == nil {
		it.err = fmt.Errorf("%w: Mandatory is the last option", ErrBadOption)
	}
	return DCCPOption{}, false
}

// ValidateDCCPOptions walks an options area and returns the first error
// the walk meets, or nil.
func ValidateDCCPOptions(b []byte) error {
	it := NewDCCPOptionIter(b)
	for _, ok := it.Next(); ok; _, ok = it.Next() {
	}
	return it.Err()
}
