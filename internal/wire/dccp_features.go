package wire

import (
	"fmt"
	"strconv"
)

// DCCPFeature is a feature number carried by Change and Confirm options
// (RFC 4340 §6, Table 4).
type DCCPFeature uint8

// Feature numbers of RFC 4340 §6.4, Table 4. 128-255 are CCID-specific.
const (
	DCCPFeatCCID              DCCPFeature = 1 // SP, §10
	DCCPFeatAllowShortSeqnos  DCCPFeature = 2 // SP, §7.6.1
	DCCPFeatSequenceWindow    DCCPFeature = 3 // NN, 48-bit, §7.5.2
	DCCPFeatECNIncapable      DCCPFeature = 4 // SP, §12.1
	DCCPFeatAckRatio          DCCPFeature = 5 // NN, 16-bit, §11.3
	DCCPFeatSendAckVector     DCCPFeature = 6 // SP, §11.5
	DCCPFeatSendNDPCount      DCCPFeature = 7 // SP, §7.7.2
	DCCPFeatMinChecksumCov    DCCPFeature = 8 // SP, §9.2.1
	DCCPFeatCheckDataChecksum DCCPFeature = 9 // SP, §9.3.1
)

var dccpFeatNames = [...]string{
	"Reserved(0)", "CCID", "Allow Short Seqnos", "Sequence Window",
	"ECN Incapable", "Ack Ratio", "Send Ack Vector", "Send NDP Count",
	"Minimum Checksum Coverage", "Check Data Checksum",
}

// String returns the feature's name from RFC 4340 Table 4.
func (f DCCPFeature) String() string {
	switch {
	case int(f) < len(dccpFeatNames):
		return dccpFeatNames[f]
	case f >= 128:
		return "CCID-specific(" + strconv.Itoa(int(f)) + ")"
	}
	return "Reserved(" + strconv.Itoa(int(f)) + ")"
}

// DCCPFeatureKind is a feature's reconciliation rule (RFC 4340 §6.3).
type DCCPFeatureKind uint8

const (
	// DCCPFeatureUnknown: a feature this package does not know (reserved
	// or CCID-specific); its values are opaque bytes.
	DCCPFeatureUnknown DCCPFeatureKind = iota
	// DCCPServerPriority: values are one byte each, a preference list;
	// the server's first acceptable choice wins (§6.3.1).
	DCCPServerPriority
	// DCCPNonNegotiable: a single unsigned big-endian integer the feature
	// location sets and the other end must accept (§6.3.2).
	DCCPNonNegotiable
)

// Kind returns the feature's reconciliation rule per RFC 4340 Table 4.
func (f DCCPFeature) Kind() DCCPFeatureKind {
	switch f {
	case DCCPFeatSequenceWindow, DCCPFeatAckRatio:
		return DCCPNonNegotiable
	case DCCPFeatCCID, DCCPFeatAllowShortSeqnos, DCCPFeatECNIncapable,
		DCCPFeatSendAckVector, DCCPFeatSendNDPCount, DCCPFeatMinChecksumCov,
		DCCPFeatCheckDataChecksum:
		return DCCPServerPriority
	}
	return DCCPFeatureUnknown
}

// NNWidth returns the value size in bytes of a known non-negotiable
// feature: 6 for Sequence Window (48-bit), 2 for Ack Ratio (16-bit);
// 0 for any other feature.
func (f DCCPFeature) NNWidth() int {
	switch f {
	case DCCPFeatSequenceWindow:
		return 6
	case DCCPFeatAckRatio:
		return 2
	}
	return 0
}

// DecodeDCCPNN decodes a big-endian unsigned value of 1 to 6 bytes, the
// form of NN feature values and of NDP Count (§6.3.2, §7.7).
func DecodeDCCPNN(b []byte) (uint64, error) {
	if len(b) < 1 || len(b) > 6 {
		return 0, fmt.Errorf("%w: %d-byte integer, want 1-6", ErrBadOption, len(b))
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

// DCCPFeatureOption is a decoded Change L/R or Confirm L/R option (§6.1,
// §6.2).
type DCCPFeatureOption struct {
	// Type is Change L, Confirm L, Change R or Confirm R.
	Type DCCPOptionType
	// Feature is the feature number.
	Feature DCCPFeature
	// Values are the raw value bytes (aliasing the packet). For a
	// server-priority Change they are a preference list; for an SP
	// Confirm, the chosen value then the preference list; for NN, one
	// big-endian integer. An empty Confirm has none (§6.6.7).
	Values []byte
	// Mandatory is copied from the option.
	Mandatory bool
}

// Feature decodes a Change or Confirm option. It returns ErrBadOption for
// another option type, ErrBadOptionLen for a Change without a value or a
// Confirm without a feature number, and ErrBadOption for a known NN
// feature whose value has the wrong width or a known SP feature whose
// Confirm has no chosen value.
func (o DCCPOption) Feature() (DCCPFeatureOption, error) {
	if !o.Type.IsChange() && !o.Type.IsConfirm() {
		return DCCPFeatureOption{}, fmt.Errorf("%w: %v is not a feature option", ErrBadOption, o.Type)
	}
	if err := checkDCCPOptionLen(o.Type, len(o.Data)); err != nil {
		return DCCPFeatureOption{}, err
	}
	f := DCCPFeatureOption{Type: o.Type, Feature: DCCPFeature(o.Data[0]), Values: o.Data[1:], Mandatory: o.Mandatory}
	if w := f.Feature.NNWidth(); w != 0 && len(f.Values) != 0 && len(f.Values) != w {
		return DCCPFeatureOption{}, fmt.Errorf("%w: %v value of %d bytes, want %d", ErrBadOption, f.Feature, len(f.Values), w)
	}
	return f, nil
}

// NN returns the value of a non-negotiable feature option as an integer
// (1-6 bytes, §6.3.2).
func (f DCCPFeatureOption) NN() (uint64, error) { return DecodeDCCPNN(f.Values) }

// Empty reports whether the option has no values: an empty Confirm,
// which answers a Change for a feature the sender does not know (§6.6.7).
func (f DCCPFeatureOption) Empty() bool { return len(f.Values) == 0 }
