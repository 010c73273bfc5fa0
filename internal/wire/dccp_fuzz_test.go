package wire

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// decodeDCCPOptionAny runs the decoder o's type calls for and reports
// whether it accepted the option. Options the iterator returned must
// decode: the iterator already checked their lengths.
func decodeDCCPOptionAny(o DCCPOption) error {
	var err error
	switch {
	case o.Type.IsChange() || o.Type.IsConfirm():
		var f DCCPFeatureOption
		if f, err = o.Feature(); err == nil && f.Feature.Kind() == DCCPNonNegotiable && !f.Empty() {
			_, err = f.NN()
		}
		if errors.Is(err, ErrBadOption) {
			err = nil // a wrong-width NN value is the core's to reject
		}
	case o.Type == DCCPOptInitCookie:
		_, err = o.InitCookie()
	case o.Type == DCCPOptNDPCount:
		_, err = o.NDPCount()
	case o.Type.IsAckVector():
		var v DCCPAckVector
		v, _, err = o.AckVector()
		var r [8]DCCPAckRange
		_ = v.Ranges(1000, r[:0])
	case o.Type == DCCPOptDataDropped:
		var d DCCPDataDropped
		d, err = o.DataDropped()
		for i := range d.Len() {
			d.Block(i)
		}
	case o.Type == DCCPOptTimestamp:
		_, err = o.Timestamp()
	case o.Type == DCCPOptTimestampEcho:
		_, err = o.TimestampEcho()
	case o.Type == DCCPOptElapsedTime:
		_, err = o.ElapsedTime()
	case o.Type == DCCPOptDataChecksum:
		_, err = o.DataChecksum()
	}
	return err
}

// maskDCCPHeader clears the fields a re-encoding does not reproduce: the
// checksum and the reserved bits (§5.1-§5.3 say to ignore them).
func maskDCCPHeader(b []byte) []byte {
	b = bytes.Clone(b)
	b[6], b[7] = 0, 0
	b[8] &= 0x1f
	o := DCCPGenericShortLen
	if b[8]&1 == 1 {
		b[9] = 0
		o = DCCPGenericLen
	}
	if DCCP(b).HasAck() {
		b[o] = 0
		if b[8]&1 == 1 {
			b[o+1] = 0
		}
	}
	return b
}

func FuzzDCCP(f *testing.F) {
	f.Add(goldenRequest)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDCCP(data)
		if err != nil {
			return
		}
		_ = d.Payload()
		_ = d.VerifyChecksum(dccpSrc4, dccpDst4)
		it := d.OptionIter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if err := decodeDCCPOptionAny(o); err != nil {
				t.Fatalf("iterator returned %v but its decoder says %v", o.Type, err)
			}
		}

		// The decoded fields re-encode to the same header bytes.
		h := DCCPHeaderOf(d)
		buf := make([]byte, len(data))
		n, err := h.Encode(buf, len(d.Payload()))
		if err != nil {
			if _, cerr := d.ChecksumCoverage(); errors.Is(err, ErrBadCsCov) && cerr != nil {
				return // CsCov beyond the packet: both sides refuse it
			}
			t.Fatalf("re-encode of a parsed header: %v", err)
		}
		if n != d.HeaderLen() {
			t.Fatalf("re-encoded %d header bytes, parsed %d", n, d.HeaderLen())
		}
		if got, want := maskDCCPHeader(buf[:n]), maskDCCPHeader(data[:n]); !bytes.Equal(got, want) {
			t.Fatalf("re-encoded header\n%x\nwant\n%x", got, want)
		}
	})
}

func FuzzDCCPOptions(f *testing.F) {
	f.Add(goldenRequest[20:])
	f.Fuzz(func(t *testing.T, data []byte) {
		it := NewDCCPOptionIter(data)
		var re []byte
		var opts []DCCPOption
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if err := decodeDCCPOptionAny(o); err != nil {
				t.Fatalf("iterator returned %v but its decoder says %v", o.Type, err)
			}
			opts = append(opts, o)
			if o.Mandatory {
				re = AppendDCCPMandatory(re)
			}
			if o.Type.SingleByte() {
				re = append(re, byte(o.Type))
				continue
			}
			var err error
			if re, err = AppendDCCPOption(re, o.Type, o.Data); err != nil {
				t.Fatalf("re-encode %v: %v", o.Type, err)
			}
		}
		if it.Err() != nil {
			return
		}
		// Re-encoding drops only Padding, and reads back the same options.
		if len(re) > len(data) {
			t.Fatalf("re-encoded %d bytes from %d", len(re), len(data))
		}
		it2 := NewDCCPOptionIter(re)
		for i := 0; ; i++ {
			o, ok := it2.Next()
			if !ok {
				if it2.Err() != nil || i != len(opts) {
					t.Fatalf("re-read %d options of %d: %v", i, len(opts), it2.Err())
				}
				break
			}
			if o.Type != opts[i].Type || o.Mandatory != opts[i].Mandatory || !bytes.Equal(o.Data, opts[i].Data) {
				t.Fatalf("option %d re-read as %+v, was %+v", i, o, opts[i])
			}
		}
	})
}

func FuzzAckVector(f *testing.F) {
	f.Add(uint64(100), []byte{0x02, 0xc0, 0x41, 0x3f, 0x00}, uint64(97))
	f.Fuzz(func(t *testing.T, ack uint64, cells []byte, seq uint64) {
		ackno, s := seqnum.V48(ack&seqnum.Mask48), seqnum.V48(seq&seqnum.Mask48)
		v := DCCPAckVector(cells)
		rs := v.Ranges(ackno, nil)
		// The ranges tile Packets() numbers downwards from ackno, and
		// neighbours differ in state.
		next, total := ackno, 0
		for i, r := range rs {
			if r.High != next {
				t.Fatalf("range %d starts at %d, want %d", i, r.High, next)
			}
			if i > 0 && rs[i-1].State == r.State {
				t.Fatalf("ranges %d and %d share state %v", i-1, i, r.State)
			}
			total += int(r.High.Sub(r.Low)) + 1
			next = r.Low.Add(-1)
		}
		if total != v.Packets() {
			t.Fatalf("ranges cover %d numbers, Packets() = %d", total, v.Packets())
		}
		// Lookup agrees with the ranges.
		st, ok := v.Lookup(ackno, s)
		in := false
		for _, r := range rs {
			if s.InRange(r.Low, r.High) {
				in = true
				if !ok || st != r.State {
					t.Fatalf("Lookup(%d) = %v %v, range %+v", s, st, ok, r)
				}
			}
		}
		if ok != in {
			t.Fatalf("Lookup(%d) = %v %v, but ranges say held=%v", s, st, ok, in)
		}
		// Re-encoding the ranges gives cells that decode to them.
		var re []byte
		for _, r := range rs {
			re = AppendDCCPAckRun(re, r.State, int(r.High.Sub(r.Low))+1)
		}
		if got := DCCPAckVector(re).Ranges(ackno, nil); !reflect.DeepEqual(got, rs) {
			t.Fatalf("re-encoded ranges %v, want %v", got, rs)
		}
	})
}
