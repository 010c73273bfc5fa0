package wire

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// TestDCCPOptionsEncodeDecode builds one of every option with the
// encoders and reads each back with its decoder.
func TestDCCPOptionsEncodeDecode(t *testing.T) {
	payload := []byte("checksummed data")
	var b []byte
	must := func(nb []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b = nb
	}
	b = AppendDCCPSlowReceiver(b)
	must(AppendDCCPFeature(b, DCCPOptChangeL, DCCPFeatCCID, []byte{3, 2}))
	must(AppendDCCPFeature(b, DCCPOptConfirmR, DCCPFeatCCID, []byte{2, 3, 2}))
	b = AppendDCCPMandatory(b)
	must(AppendDCCPFeatureNN(b, DCCPOptChangeL, DCCPFeatSequenceWindow, 100))
	must(AppendDCCPFeatureNN(b, DCCPOptConfirmL, DCCPFeatAckRatio, 2))
	must(AppendDCCPFeature(b, DCCPOptConfirmL, 200, nil)) // empty Confirm
	must(AppendDCCPOption(b, DCCPOptInitCookie, []byte("cookie")))
	must(AppendDCCPNDPCount(b, 0x010203))
	b = AppendDCCPAckVector(b, 1, []byte{0x02, 0xc0})
	must(AppendDCCPOption(b, DCCPOptDataDropped, []byte{0x81}))
	b = AppendDCCPTimestamp(b, 0xcafef00d)
	must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 7}))
	must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 8, Elapsed: 300, ElapsedLen: 2}))
	must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 9, Elapsed: 70000, ElapsedLen: 4}))
	b = AppendDCCPElapsedTime(b, 65535)
	b = AppendDCCPElapsedTime(b, 65536)
	b = AppendDCCPDataChecksum(b, payload)
	must(AppendDCCPOption(b, 193, []byte{1, 2, 3}))
	b = PadDCCPOptions(b)
	if len(b)%4 != 0 {
		t.Fatalf("padded to %d bytes", len(b))
	}

	var got []string
	it := NewDCCPOptionIter(b)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		got = append(got, describeDCCPOption(t, o))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Slow Receiver",
		"Change L CCID [3 2]",
		"Confirm R CCID [2 3 2]",
		"mandatory Change L Sequence Window nn=100",
		"Confirm L Ack Ratio nn=2",
		"Confirm L CCID-specific(200) empty",
		"Init Cookie cookie",
		"NDP Count 66051",
		"Ack Vector [Nonce 1] nonce=1 cells=2",
		"Data Dropped drop=true state=0 run=1",
		"Timestamp 3405705229",
		"Timestamp Echo {7 0 0}",
		"Timestamp Echo {8 300 2}",
		"Timestamp Echo {9 70000 4}",
		"Elapsed Time 65535",
		"Elapsed Time 65536",
		fmt.Sprintf("Data Checksum %#x", DCCPDataChecksum(payload)),
		"CCID-specific(193) [1 2 3]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded\n%q\nwant\n%q", got, want)
	}
}

// describeDCCPOption decodes o with the decoder its type calls for.
func describeDCCPOption(t *testing.T, o DCCPOption) string {
	t.Helper()
	pre := ""
	if o.Mandatory {
		pre = "mandatory "
	}
	var s string
	var err error
	switch {
	case o.Type.IsChange() || o.Type.IsConfirm():
		var f DCCPFeatureOption
		if f, err = o.Feature(); err == nil {
			switch {
			case f.Empty():
				s = fmt.Sprintf("%v %v empty", f.Type, f.Feature)
			case f.Feature.Kind() == DCCPNonNegotiable:
				v, _ := f.NN()
				s = fmt.Sprintf("%v %v nn=%d", f.Type, f.Feature, v)
			default:
				s = fmt.Sprintf("%v %v %v", f.Type, f.Feature, f.Values)
			}
		}
	case o.Type == DCCPOptInitCookie:
		var c []byte
		c, err = o.InitCookie()
		s = fmt.Sprintf("%v %s", o.Type, c)
	case o.Type == DCCPOptNDPCount:
		var n uint64
		n, err = o.NDPCount()
		s = fmt.Sprintf("%v %d", o.Type, n)
	case o.Type.IsAckVector():
		v, nonce, e := o.AckVector()
		s, err = fmt.Sprintf("%v nonce=%d cells=%d", o.Type, nonce, v.Len()), e
	case o.Type == DCCPOptDataDropped:
		var dd DCCPDataDropped
		dd, err = o.DataDropped()
		drop, st, run := dd.Block(0)
		s = fmt.Sprintf("%v drop=%v state=%d run=%d", o.Type, drop, st, run)
	case o.Type == DCCPOptTimestamp:
		var v uint32
		v, err = o.Timestamp()
		s = fmt.Sprintf("%v %d", o.Type, v)
	case o.Type == DCCPOptTimestampEcho:
		var e DCCPTimestampEcho
		e, err = o.TimestampEcho()
		s = fmt.Sprintf("%v %v", o.Type, e)
	case o.Type == DCCPOptElapsedTime:
		var v uint32
		v, err = o.ElapsedTime()
		s = fmt.Sprintf("%v %d", o.Type, v)
	case o.Type == DCCPOptDataChecksum:
		var v uint32
		v, err = o.DataChecksum()
		s = fmt.Sprintf("%v %#x", o.Type, v)
	case o.Type.SingleByte():
		s = o.Type.String()
	default:
		s = fmt.Sprintf("%v %v", o.Type, o.Data)
	}
	if err != nil {
		t.Fatalf("decode %v: %v", o.Type, err)
	}
	return pre + s
}

func TestDCCPOptionsInvalid(t *testing.T) {
	cases := []struct {
		name string
		b    []byte
		want error
	}{
		{"length byte missing", []byte{41}, ErrBadOptionLen},
		{"length 0", []byte{36, 0}, ErrBadOptionLen},
		{"length 1", []byte{36, 1, 0, 0}, ErrBadOptionLen},
		{"length past end", []byte{36, 5, 0, 0}, ErrBadOptionLen},
		{"Timestamp of 3 bytes", []byte{41, 5, 0, 0, 0}, ErrBadOptionLen},
		{"Timestamp of 5 bytes", []byte{41, 7, 0, 0, 0, 0, 0}, ErrBadOptionLen},
		{"Timestamp Echo of 5 bytes", []byte{42, 7, 0, 0, 0, 0, 0}, ErrBadOptionLen},
		{"Elapsed Time of 3 bytes", []byte{43, 5, 0, 0, 0}, ErrBadOptionLen},
		{"Data Checksum of 2 bytes", []byte{44, 4, 0, 0}, ErrBadOptionLen},
		{"NDP Count of 0 bytes", []byte{37, 2}, ErrBadOptionLen},
		{"NDP Count of 7 bytes", []byte{37, 9, 1, 2, 3, 4, 5, 6, 7}, ErrBadOptionLen},
		{"Change without value", []byte{32, 3, 1}, ErrBadOptionLen},
		{"Confirm without feature", []byte{35, 2}, ErrBadOptionLen},
		{"Mandatory last", []byte{41, 6, 0, 0, 0, 0, 1}, ErrBadOption},
		{"Mandatory then only Padding", []byte{1, 0, 0, 0}, ErrBadOption},
		{"Mandatory Mandatory", []byte{1, 1, 2, 0}, ErrBadOption},
	}
	for _, c := range cases {
		if err := ValidateDCCPOptions(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s %v: err %v, want %v", c.name, c.b, err, c.want)
		}
	}
	// Options after a malformed one are not returned.
	it := NewDCCPOptionIter([]byte{2, 36, 1, 2})
	if o, ok := it.Next(); !ok || o.Type != DCCPOptSlowReceiver {
		t.Fatalf("first option %v %v", o, ok)
	}
	if _, ok := it.Next(); ok || it.Err() == nil {
		t.Error("iteration went on past a length-1 option")
	}
}

func TestDCCPFeatureDecodeErrors(t *testing.T) {
	// Sequence Window is a 48-bit NN feature (Table 4): 4 bytes is wrong.
	o := DCCPOption{Type: DCCPOptChangeL, Data: []byte{byte(DCCPFeatSequenceWindow), 0, 0, 0, 100}}
	if _, err := o.Feature(); !errors.Is(err, ErrBadOption) {
		t.Errorf("4-byte Sequence Window: %v", err)
	}
	o = DCCPOption{Type: DCCPOptChangeR, Data: []byte{byte(DCCPFeatAckRatio), 0, 0, 2}}
	if _, err := o.Feature(); !errors.Is(err, ErrBadOption) {
		t.Errorf("3-byte Ack Ratio: %v", err)
	}
	if _, err := (DCCPOption{Type: DCCPOptTimestamp, Data: []byte{1, 2, 3, 4}}).Feature(); !errors.Is(err, ErrBadOption) {
		t.Errorf("Timestamp as feature: %v", err)
	}
	if _, err := (DCCPOption{Type: DCCPOptElapsedTime, Data: []byte{1, 2, 3, 4}}).Timestamp(); !errors.Is(err, ErrBadOption) {
		t.Errorf("Elapsed Time as Timestamp: %v", err)
	}
	if _, err := DecodeDCCPNN(make([]byte, 7)); !errors.Is(err, ErrBadOption) {
		t.Errorf("7-byte NN: %v", err)
	}
	if v, err := DecodeDCCPNN([]byte{1, 0, 0, 0, 0, 0}); err != nil || v != 1<<40 {
		t.Errorf("6-byte NN = %d, %v", v, err)
	}
	if _, err := AppendDCCPFeatureNN(nil, DCCPOptChangeL, DCCPFeatAckRatio, 1<<16); !errors.Is(err, ErrBadOption) {
		t.Errorf("Ack Ratio 65536 encoded: %v", err)
	}
	if _, err := AppendDCCPNDPCount(nil, 1<<48); !errors.Is(err, ErrBadOption) {
		t.Errorf("NDP Count 2^48 encoded: %v", err)
	}
}

func TestDCCPFeatureKinds(t *testing.T) {
	// RFC 4340 Table 4: Sequence Window and Ack Ratio are NN, the rest SP.
	for f := DCCPFeature(1); f <= 9; f++ {
		want := DCCPServerPriority
		if f == DCCPFeatSequenceWindow || f == DCCPFeatAckRatio {
			want = DCCPNonNegotiable
		}
		if f.Kind() != want {
			t.Errorf("%v: kind %d, want %d", f, f.Kind(), want)
		}
	}
	if DCCPFeature(0).Kind() != DCCPFeatureUnknown || DCCPFeature(192).Kind() != DCCPFeatureUnknown {
		t.Error("reserved or CCID-specific feature has a known kind")
	}
}

// TestDCCPAckVectorHandWorked decodes a vector worked out by hand. Sent
// with Acknowledgement Number 100, the cells say:
//
//	0x02 = 00|000010: Received, run 2  -> 100, 99, 98
//	0xc0 = 11|000000: Not Yet Received -> 97
//	0x41 = 01|000001: ECN marked, run 1 -> 96, 95
//	0x3f = 00|111111: Received, run 63 -> 94 down to 31
//	0x00 = 00|000000: Received, run 0  -> 30 (merges with the run above)
func TestDCCPAckVectorHandWorked(t *testing.T) {
	v := DCCPAckVector{0x02, 0xc0, 0x41, 0x3f, 0x00}
	if v.Packets() != 3+1+2+64+1 {
		t.Errorf("Packets() = %d, want 71", v.Packets())
	}
	got := v.Ranges(100, nil)
	want := []DCCPAckRange{
		{98, 100, DCCPAckReceived},
		{97, 97, DCCPAckNotReceived},
		{95, 96, DCCPAckReceivedECN},
		{30, 94, DCCPAckReceived},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranges %v\nwant %v", got, want)
	}
	lookups := []struct {
		seq   seqnum.V48
		state DCCPAckState
		ok    bool
	}{
		{101, 0, false}, {100, DCCPAckReceived, true}, {98, DCCPAckReceived, true},
		{97, DCCPAckNotReceived, true}, {96, DCCPAckReceivedECN, true}, {95, DCCPAckReceivedECN, true},
		{94, DCCPAckReceived, true}, {30, DCCPAckReceived, true}, {29, 0, false},
	}
	for _, l := range lookups {
		s, ok := v.Lookup(100, l.seq)
		if s != l.state || ok != l.ok {
			t.Errorf("Lookup(%d) = %v %v, want %v %v", l.seq, s, ok, l.state, l.ok)
		}
	}

	// The encoder produces the same cells from the runs, newest first; a
	// run of 65 takes two cells.
	var cells []byte
	cells = AppendDCCPAckRun(cells, DCCPAckReceived, 3)
	cells = AppendDCCPAckRun(cells, DCCPAckNotReceived, 1)
	cells = AppendDCCPAckRun(cells, DCCPAckReceivedECN, 2)
	cells = AppendDCCPAckRun(cells, DCCPAckReceived, 65)
	if !bytes.Equal(cells, v) {
		t.Errorf("encoded cells %x, want %x", cells, []byte(v))
	}
}

// TestDCCPAckVectorWraps: a vector reaching below sequence number 0 goes
// on at 2^48-1.
func TestDCCPAckVectorWraps(t *testing.T) {
	got := DCCPAckVector{0x05}.Ranges(1, nil)
	want := []DCCPAckRange{{seqnum.Mask48 - 3, 1, DCCPAckReceived}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ranges %v, want %v", got, want)
	}
	if s, ok := (DCCPAckVector{0x05}).Lookup(1, seqnum.Mask48); !ok || s != DCCPAckReceived {
		t.Errorf("2^48-1 not covered: %v %v", s, ok)
	}
}

// TestDCCPAckVectorSplit: more than 253 cells continue in a second option.
func TestDCCPAckVectorSplit(t *testing.T) {
	cells := bytes.Repeat([]byte{0xc0}, 300)
	b := AppendDCCPAckVector(nil, 0, cells)
	it := NewDCCPOptionIter(b)
	var lens []int
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Type != DCCPOptAckVector0 {
			t.Fatalf("type %v", o.Type)
		}
		lens = append(lens, len(o.Data))
	}
	if it.Err() != nil || !reflect.DeepEqual(lens, []int{253, 47}) {
		t.Errorf("split into %v (%v), want [253 47]", lens, it.Err())
	}
}

func TestDCCPDataDroppedBlocks(t *testing.T) {
	// §11.7: a normal block is 0|run(7); a drop block 1|state(3)|run(4).
	cases := []struct {
		b     byte
		drop  bool
		state DCCPDropState
		run   int
	}{
		{0x7f, false, 0, 127}, {0x00, false, 0, 0},
		{0x80 | 3<<4 | 5, true, DCCPDropCorrupt, 5}, {0xff, true, DCCPDropDeliveredCorrupt, 15},
	}
	for _, c := range cases {
		drop, st, run := DCCPDataDropped{c.b}.Block(0)
		if drop != c.drop || st != c.state || run != c.run {
			t.Errorf("%#x: %v %d %d", c.b, drop, st, run)
		}
		enc, err := DCCPDropBlock(c.drop, c.state, c.run)
		if err != nil || enc != c.b {
			t.Errorf("encode %v %d %d = %#x %v, want %#x", c.drop, c.state, c.run, enc, err, c.b)
		}
	}
	if _, err := DCCPDropBlock(true, 2, 16); !errors.Is(err, ErrBadOption) {
		t.Error("drop block run 16 accepted")
	}
}

// TestDCCPDataChecksumCRC32c checks the CRC-32c against the standard check
// value of the Castagnoli polynomial for "123456789", 0xe3069283.
func TestDCCPDataChecksumCRC32c(t *testing.T) {
	if got := DCCPDataChecksum([]byte("123456789")); got != 0xe3069283 {
		t.Errorf("CRC-32c = %#x, want 0xe3069283", got)
	}
}

// TestDCCPRFCFeatureExamples decodes the byte examples of RFC 4340 §10:
// Change R(CCID, 2 3 4) and Confirm L(CCID, 2, 2 3 4). The RFC's text
// spells the first with type byte 35, but Table 3 (§5.8) gives Change R
// type 34 and 35 is Confirm R; the table decides here.
func TestDCCPRFCFeatureExamples(t *testing.T) {
	cases := []struct {
		bytes  []byte
		typ    DCCPOptionType
		values []byte
	}{
		{[]byte{34, 6, 1, 2, 3, 4}, DCCPOptChangeR, []byte{2, 3, 4}},
		{[]byte{33, 7, 1, 2, 2, 3, 4}, DCCPOptConfirmL, []byte{2, 2, 3, 4}},
	}
	for _, c := range cases {
		it := NewDCCPOptionIter(c.bytes)
		o, ok := it.Next()
		if !ok {
			t.Fatalf("%v: %v", c.bytes, it.Err())
		}
		f, err := o.Feature()
		if err != nil || f.Type != c.typ || f.Feature != DCCPFeatCCID || !bytes.Equal(f.Values, c.values) {
			t.Errorf("%v decoded as %+v, %v", c.bytes, f, err)
		}
		enc, err := AppendDCCPFeature(nil, c.typ, DCCPFeatCCID, c.values)
		if err != nil || !bytes.Equal(enc, c.bytes) {
			t.Errorf("encoded %v, want %v (%v)", enc, c.bytes, err)
		}
	}
}
