package dccp

import (
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Packet is the decoded meaning of one DCCP packet, the currency between
// the host layer and a Conn. The host fills it from a wire.DCCP view
// (Decode) and encodes the packets a Conn emits (Header, AppendOptions).
// Byte slices in a Packet are lent: a received Packet's slices alias the
// host's buffer and are copied by the Conn if kept; an emitted Packet's
// slices stay valid until the next call on the Conn.
type Packet struct {
	// Type is the packet type (§5.1).
	Type wire.DCCPType
	// X is set for 48-bit sequence numbers. A received packet with X
	// clear carries the low 24 bits in Seq and Ack; the Conn extends them
	// (§7.6).
	X bool
	// Seq is the sequence number.
	Seq seqnum.V48
	// Ack is the acknowledgement number; meaningful when Type.HasAck().
	Ack seqnum.V48
	// CCVal is the sender CCID's 4-bit value (§5.1).
	CCVal uint8
	// ServiceCode is the Service Code of a Request or Response (§8.1.2).
	ServiceCode uint32
	// ResetCode and ResetData are the fields of a Reset (§5.6).
	ResetCode wire.DCCPResetCode
	ResetData [3]byte
	// Options are the decoded options.
	Options Options
	// Payload is the application data.
	Payload []byte
}

// Limits of the fixed-size option storage.
const (
	// MaxFeatureOptions is how many Change/Confirm options a Packet holds;
	// a received packet with more is answered as an option error.
	MaxFeatureOptions = 16
	// MaxFeatureValues is how many value bytes one feature option holds.
	MaxFeatureValues = 8
	// MaxCCIDOptions is how many CCID-specific options a Packet holds.
	MaxCCIDOptions = 4
)

// FeatureOption is a Change L/R or Confirm L/R option (§6.1, §6.2).
type FeatureOption struct {
	// Type is wire.DCCPOptChangeL, ChangeR, ConfirmL or ConfirmR.
	Type wire.DCCPOptionType
	// Feature is the feature number.
	Feature wire.DCCPFeature
	// Mandatory is set when a Mandatory option preceded this one.
	Mandatory bool
	// N is how many bytes of Values are used.
	N uint8
	// Values are the value bytes as on the wire: a preference list, a
	// Confirm's chosen value then list, or one big-endian NN integer.
	Values [MaxFeatureValues]byte
}

// Vals returns the used value bytes.
func (f *FeatureOption) Vals() []byte { return f.Values[:f.N] }

// nn returns the option's value as a big-endian integer (§6.3.2).
func (f *FeatureOption) nn() uint64 {
	var v uint64
	for _, b := range f.Vals() {
		v = v<<8 | uint64(b)
	}
	return v
}

// CCIDOption is an option of type 128-255, owned by a CCID (§10.3).
type CCIDOption struct {
	Type uint8
	// Data aliases the packet (received) or the Conn (sent).
	Data []byte
}

// Options are the decoded options of a Packet. Has* flags tell which of
// the single-valued options are present.
type Options struct {
	// Features are the Change/Confirm options, NFeatures of them.
	Features  [MaxFeatureOptions]FeatureOption
	NFeatures int

	HasTimestamp bool
	Timestamp    uint32 // §13.1, in units of 10 µs
	HasEcho      bool
	Echo         wire.DCCPTimestampEcho // §13.3
	HasElapsed   bool
	Elapsed      uint32 // §13.2, in units of 10 µs
	HasNDPCount  bool
	NDPCount     uint64 // §7.7

	// AckVector holds the cells of an Ack Vector option (§11.4), lent;
	// AckVectorNonce is 0 or 1 (option 38 or 39).
	AckVector      []byte
	AckVectorNonce uint8
	// DataDropped holds the blocks of a Data Dropped option (§11.7),
	// lent; they are aligned with the Ack Vector from Ack backwards.
	DataDropped []byte
	// InitCookie is the Init Cookie's data (§8.1.4), lent.
	InitCookie   []byte
	SlowReceiver bool // §11.6

	// CCID holds CCID-specific options, NCCID of them.
	CCID  [MaxCCIDOptions]CCIDOption
	NCCID int

	// Err, set by the decoder, is the Reset code that processing the
	// options must draw (§8.5 step 8): Option Error for a malformed or
	// unstorable option, Mandatory Error for a Mandatory option the
	// decoder does not understand (§5.8.2). Zero when the options are
	// fine.
	Err wire.DCCPResetCode
}

// AddFeature appends a feature option; it reports false when full.
func (o *Options) AddFeature(t wire.DCCPOptionType, f wire.DCCPFeature, mandatory bool, vals []byte) bool {
	if o.NFeatures == MaxFeatureOptions || len(vals) > MaxFeatureValues {
		return false
	}
	fo := &o.Features[o.NFeatures]
	*fo = FeatureOption{Type: t, Feature: f, Mandatory: mandatory, N: uint8(len(vals))}
	copy(fo.Values[:], vals)
	o.NFeatures++
	return true
}

// AddCCID appends a CCID-specific option; it reports false when full.
func (o *Options) AddCCID(t uint8, data []byte) bool {
	if o.NCCID == MaxCCIDOptions {
		return false
	}
	o.CCID[o.NCCID] = CCIDOption{Type: t, Data: data}
	o.NCCID++
	return true
}

// Reset clears every option.
func (o *Options) Reset() { *o = Options{} }
