package dccp

import (
	"github.com/teardown-lab/teardown/internal/wire"
)

// Decode fills p from a parsed packet. Options that fail to decode do
// not fail Decode: they set p.Options.Err, which the Conn answers with a
// Reset as §8.5 step 8 says. Slices of p alias d.
func (p *Packet) Decode(d wire.DCCP) {
	*p = Packet{
		Type: d.Type(), X: d.X(), Seq: d.Seq(), Ack: d.Ack(), CCVal: d.CCVal(),
		ServiceCode: d.ServiceCode(), ResetCode: d.ResetCode(), ResetData: d.ResetData(),
		Payload: d.Payload(),
	}
	it := d.OptionIter()
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		p.Options.decodeOne(o)
	}
	if it.Err() != nil && p.Options.Err == 0 {
		p.Options.Err = wire.DCCPResetOptionError
	}
}

// decodeOne stores one option, or records why it cannot.
func (o *Options) decodeOne(opt wire.DCCPOption) {
	fail := func() {
		if o.Err == 0 {
			o.Err = wire.DCCPResetOptionError
		}
	}
	var err error
	switch t := opt.Type; {
	case t.IsChange() || t.IsConfirm():
		var f wire.DCCPFeatureOption
		if f, err = opt.Feature(); err == nil && !o.AddFeature(f.Type, f.Feature, f.Mandatory, f.Values) {
			fail()
		}
	case t == wire.DCCPOptTimestamp:
		o.Timestamp, err = opt.Timestamp()
		o.HasTimestamp = err == nil
	case t == wire.DCCPOptTimestampEcho:
		o.Echo, err = opt.TimestampEcho()
		o.HasEcho = err == nil
	case t == wire.DCCPOptElapsedTime:
		o.Elapsed, err = opt.ElapsedTime()
		o.HasElapsed = err == nil
	case t == wire.DCCPOptNDPCount:
		o.NDPCount, err = opt.NDPCount()
		o.HasNDPCount = err == nil
	case t.IsAckVector():
		var v wire.DCCPAckVector
		v, o.AckVectorNonce, err = opt.AckVector()
		if o.AckVector == nil { // a second vector continues the first (§11.4); keep the first
			o.AckVector = v
		}
	case t == wire.DCCPOptInitCookie:
		o.InitCookie, err = opt.InitCookie()
	case t == wire.DCCPOptSlowReceiver:
		o.SlowReceiver = true
	case t >= wire.DCCPOptCCIDSpecificLo:
		if !o.AddCCID(uint8(t), opt.Data) {
			fail()
		}
	case t == wire.DCCPOptDataDropped:
		o.DataDropped, err = opt.DataDropped()
	case t == wire.DCCPOptDataChecksum:
		// understood and ignored: this core does not use partial checksums.
	default:
		if opt.Mandatory { // §5.8.2
			o.Err = wire.DCCPResetMandatoryError
		}
	}
	if err != nil {
		fail()
	}
}

// Header returns the wire header for p with the given ports; its Options
// field is left for AppendOptions.
func (p *Packet) Header(src, dst uint16) wire.DCCPHeader {
	return wire.DCCPHeader{
		SrcPort: src, DstPort: dst, CCVal: p.CCVal, Type: p.Type, X: p.X,
		Seq: p.Seq, Ack: p.Ack, ServiceCode: p.ServiceCode,
		ResetCode: p.ResetCode, ResetData: p.ResetData,
	}
}

// AppendOptions encodes p's options onto b (unpadded; DCCPHeader.Encode
// pads) and returns the extended slice. Options that cannot be encoded
// are skipped.
func (p *Packet) AppendOptions(b []byte) []byte {
	o := &p.Options
	for i := range o.Features[:o.NFeatures] {
		f := &o.Features[i]
		if f.Mandatory {
			b = wire.AppendDCCPMandatory(b)
		}
		b, _ = wire.AppendDCCPFeature(b, f.Type, f.Feature, f.Vals())
	}
	if o.HasTimestamp {
		b = wire.AppendDCCPTimestamp(b, o.Timestamp)
	}
	if o.HasEcho {
		b, _ = wire.AppendDCCPTimestampEcho(b, o.Echo)
	}
	if o.HasElapsed {
		b = wire.AppendDCCPElapsedTime(b, o.Elapsed)
	}
	if o.HasNDPCount {
		b, _ = wire.AppendDCCPNDPCount(b, o.NDPCount)
	}
	if len(o.AckVector) > 0 {
		b = wire.AppendDCCPAckVector(b, o.AckVectorNonce, o.AckVector)
	}
	if len(o.DataDropped) > 0 {
		b, _ = wire.AppendDCCPOption(b, wire.DCCPOptDataDropped, o.DataDropped)
	}
	if len(o.InitCookie) > 0 {
		b, _ = wire.AppendDCCPOption(b, wire.DCCPOptInitCookie, o.InitCookie)
	}
	if o.SlowReceiver {
		b = wire.AppendDCCPSlowReceiver(b)
	}
	for _, c := range o.CCID[:o.NCCID] {
		b, _ = wire.AppendDCCPOption(b, wire.DCCPOptionType(c.Type), c.Data)
	}
	return b
}
