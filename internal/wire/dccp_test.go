package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

var (
	dccpSrc4 = netip.MustParseAddr("192.0.2.1")
	dccpDst4 = netip.MustParseAddr("192.0.2.2")
	dccpSrc6 = netip.MustParseAddr("2001:db8::1")
	dccpDst6 = netip.MustParseAddr("2001:db8::2")
)

var allDCCPTypes = []DCCPType{
	DCCPRequest, DCCPResponse, DCCPData, DCCPAck, DCCPDataAck,
	DCCPCloseReq, DCCPClose, DCCPReset, DCCPSync, DCCPSyncAck,
}

// sampleDCCPHeader returns a header of type t with every field the type
// carries set to a distinctive value, and some options.
func sampleDCCPHeader(t DCCPType, x bool) DCCPHeader {
	opts := AppendDCCPTimestamp(nil, 0xdeadbeef)
	opts, _ = AppendDCCPNDPCount(opts, 7)
	h := DCCPHeader{
		SrcPort: 5001, DstPort: 5002, CCVal: 9, CsCov: 0, Type: t, X: x,
		Seq: 0x123456789abc, Ack: 0x0badc0ffee01, Options: opts,
	}
	if !x {
		h.Seq &= 1<<24 - 1
		h.Ack &= 1<<24 - 1
	}
	if !t.HasAck() {
		h.Ack = 0
	}
	switch t {
	case DCCPRequest, DCCPResponse:
		h.ServiceCode = 0x4e504d50
	case DCCPReset:
		h.ResetCode = DCCPResetTooBusy
		h.ResetData = [3]byte{1, 2, 3}
	}
	return h
}

func TestDCCPRoundTripAllTypes(t *testing.T) {
	for _, typ := range allDCCPTypes {
		for _, x := range []bool{true, false} {
			if !x && !typ.AllowsShortSeq() {
				continue
			}
			t.Run(fmt.Sprintf("%v/X=%v", typ, x), func(t *testing.T) {
				h := sampleDCCPHeader(typ, x)
				payload := []byte("datagram")
				buf := make([]byte, 256)
				n, err := BuildDCCP(buf, &h, payload, dccpSrc4, dccpDst4)
				if err != nil {
					t.Fatal(err)
				}
				d, err := ParseDCCP(buf[:n])
				if err != nil {
					t.Fatalf("parse of built packet: %v", err)
				}
				got := DCCPHeaderOf(d)
				if !bytes.Equal(got.Options, PadDCCPOptions(append([]byte(nil), h.Options...))) {
					t.Errorf("options %x, want %x", got.Options, h.Options)
				}
				got.Options, h.Options = nil, nil
				if !reflect.DeepEqual(got, h) {
					t.Errorf("decoded %+v\nwant    %+v", got, h)
				}
				if !bytes.Equal(d.Payload(), payload) {
					t.Errorf("payload %q", d.Payload())
				}
				if err := d.VerifyChecksum(dccpSrc4, dccpDst4); err != nil {
					t.Errorf("checksum: %v", err)
				}
				if d.HasAck() != (typ != DCCPRequest && typ != DCCPData) {
					t.Errorf("HasAck %v for %v (§5.2: all but Request and Data)", d.HasAck(), typ)
				}
			})
		}
	}
}

// TestDCCPMinHeaderLen pins each type's fixed size to RFC 4340 §5.1-§5.6.
func TestDCCPMinHeaderLen(t *testing.T) {
	want := map[DCCPType][2]int{ // {X=1, X=0}
		DCCPRequest: {20, 0}, DCCPResponse: {28, 0}, DCCPData: {16, 12},
		DCCPAck: {24, 16}, DCCPDataAck: {24, 16}, DCCPCloseReq: {24, 0},
		DCCPClose: {24, 0}, DCCPReset: {28, 0}, DCCPSync: {24, 0}, DCCPSyncAck: {24, 0},
	}
	for typ, w := range want {
		if got := typ.MinHeaderLen(true); got != w[0] {
			t.Errorf("%v X=1: %d bytes, want %d", typ, got, w[0])
		}
		if got := typ.MinHeaderLen(false); got != w[1] {
			t.Errorf("%v X=0: %d bytes, want %d", typ, got, w[1])
		}
	}
	if DCCPType(10).MinHeaderLen(true) != 0 {
		t.Error("reserved type 10 has a header size")
	}
}

// goldenRequest is a DCCP-Request written out by hand (RFC 4340 §5.1,
// §5.4, §5.8, §6.1, §13.1), from 192.0.2.1 to 192.0.2.2. Its checksum was
// computed separately, summing the pseudo-header and the 36 bytes as
// 16-bit words.
var goldenRequest = []byte{
	0x13, 0x89, // source port 5001
	0x13, 0x8a, // destination port 5002
	0x09,       // Data Offset: 9 words = 36 bytes
	0x00,       // CCVal 0 (high nibble), CsCov 0 (low nibble): whole packet
	0xd0, 0x56, // checksum
	0x01,                               // Res 000, Type 0000 (Request), X=1
	0x00,                               // reserved
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, // sequence number 0x010203040506
	0x00, 0x00, 0x00, 0x2a, // Service Code 42
	0x20, 0x05, 0x01, 0x02, 0x03, // Change L, length 5, feature 1 (CCID), values 2 3
	0x01,                   // Mandatory: the next option must be understood
	0x20, 0x04, 0x02, 0x00, // Change L, length 4, feature 2 (Allow Short Seqnos), 0
	0x29, 0x06, 0x00, 0x01, 0x02, 0x03, // Timestamp, length 6, value 0x00010203
}

func TestDCCPGoldenRequest(t *testing.T) {
	d, err := ParseDCCP(goldenRequest)
	if err != nil {
		t.Fatal(err)
	}
	if d.SrcPort() != 5001 || d.DstPort() != 5002 || d.HeaderLen() != 36 || d.Type() != DCCPRequest ||
		!d.X() || d.Seq() != 0x010203040506 || d.ServiceCode() != 42 || d.HasAck() || len(d.Payload()) != 0 {
		t.Errorf("fields: %+v", DCCPHeaderOf(d))
	}
	if err := d.VerifyChecksum(dccpSrc4, dccpDst4); err != nil {
		t.Errorf("hand-computed checksum does not verify: %v", err)
	}
	it := d.OptionIter()
	var got []string
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		switch {
		case o.Type.IsChange():
			f, err := o.Feature()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%v(%v %v m=%v)", f.Type, f.Feature, f.Values, f.Mandatory))
		case o.Type == DCCPOptTimestamp:
			ts, _ := o.Timestamp()
			got = append(got, fmt.Sprintf("Timestamp %#x m=%v", ts, o.Mandatory))
		}
	}
	if it.Err() != nil {
		t.Fatal(it.Err())
	}
	want := []string{"Change L(CCID [2 3] m=false)", "Change L(Allow Short Seqnos [0] m=true)", "Timestamp 0x10203 m=false"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("options %q, want %q", got, want)
	}

	// The builder produces the same bytes from the decoded meaning.
	opts := []byte{}
	opts, _ = AppendDCCPFeature(opts, DCCPOptChangeL, DCCPFeatCCID, []byte{2, 3})
	opts = AppendDCCPMandatory(opts)
	opts, _ = AppendDCCPFeature(opts, DCCPOptChangeL, DCCPFeatAllowShortSeqnos, []byte{0})
	opts = AppendDCCPTimestamp(opts, 0x00010203)
	h := DCCPHeader{SrcPort: 5001, DstPort: 5002, Type: DCCPRequest, X: true, Seq: 0x010203040506, ServiceCode: 42, Options: opts}
	buf := make([]byte, 64)
	n, err := BuildDCCP(buf, &h, nil, dccpSrc4, dccpDst4)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf[:n], goldenRequest) {
		t.Errorf("built\n%x\nwant\n%x", buf[:n], goldenRequest)
	}
}

// TestDCCPTruncatedPrefixes: every proper prefix of a header-only packet
// is rejected, for every type and both sequence-number lengths.
func TestDCCPTruncatedPrefixes(t *testing.T) {
	for _, typ := range allDCCPTypes {
		for _, x := range []bool{true, false} {
			if !x && !typ.AllowsShortSeq() {
				continue
			}
			h := sampleDCCPHeader(typ, x)
			buf := make([]byte, 128)
			n, err := BuildDCCP(buf, &h, nil, dccpSrc4, dccpDst4)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				_, err := ParseDCCP(buf[:i])
				if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrBadHeaderLen) {
					t.Errorf("%v X=%v prefix %d/%d: err %v, want truncated or bad header length", typ, x, i, n, err)
				}
			}
		}
	}
}

func TestDCCPParseInvalid(t *testing.T) {
	valid := func(typ DCCPType, x bool) []byte {
		h := DCCPHeader{Type: typ, X: x}
		b := make([]byte, 64)
		n, err := h.Encode(b, 0)
		if err != nil {
			t.Fatal(err)
		}
		return b[:n]
	}
	cases := []struct {
		name   string
		b      []byte
		want   error
		reason string
	}{
		{"Request X=0", func() []byte { b := valid(DCCPRequest, true); b[8] &^= 1; return b }(),
			ErrBadPacketType, "§5.1: Request must use 48-bit sequence numbers"},
		{"Reset X=0", func() []byte { b := valid(DCCPReset, true); b[8] &^= 1; return b }(),
			ErrBadPacketType, "§5.1: Reset must use 48-bit sequence numbers"},
		{"reserved type 10", func() []byte { b := valid(DCCPData, true); b[8] = 10<<1 | 1; return b }(),
			ErrBadPacketType, "§5.1: types 10-15 are reserved"},
		{"reserved type 15", func() []byte { b := valid(DCCPData, true); b[8] = 15<<1 | 1; return b }(),
			ErrBadPacketType, "§5.1: types 10-15 are reserved"},
		{"data offset below Ack's subheader", func() []byte { b := valid(DCCPAck, true); b[4] = 4; return b }(),
			ErrBadHeaderLen, "§5.1: Data Offset smaller than the type's header"},
		{"data offset zero", func() []byte { b := valid(DCCPData, false); b[4] = 0; return b }(),
			ErrBadHeaderLen, "§5.1: Data Offset smaller than the generic header"},
		{"data offset past packet", func() []byte { b := valid(DCCPData, true); b[4] = 5; return b }(),
			ErrBadHeaderLen, "§5.1: Data Offset larger than the packet"},
		{"short Ack missing ack subheader", valid(DCCPAck, false)[:12],
			ErrTruncated, "§5.3: X=0 Ack needs its 4-byte acknowledgement subheader"},
	}
	for _, c := range cases {
		if _, err := ParseDCCP(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v (%s)", c.name, err, c.want, c.reason)
		}
	}
}

func TestDCCPEncodeInvalid(t *testing.T) {
	buf := make([]byte, 2048)
	cases := []struct {
		name string
		h    DCCPHeader
		pay  int
		want error
	}{
		{"Request X=0", DCCPHeader{Type: DCCPRequest}, 0, ErrBadPacketType},
		{"Sync X=0", DCCPHeader{Type: DCCPSync}, 0, ErrBadPacketType},
		{"reserved type", DCCPHeader{Type: 12, X: true}, 0, ErrBadPacketType},
		{"CsCov 16", DCCPHeader{Type: DCCPData, X: true, CsCov: 16}, 100, ErrBadCsCov},
		{"CsCov past payload", DCCPHeader{Type: DCCPData, X: true, CsCov: 3}, 7, ErrBadCsCov},
		{"options too long", DCCPHeader{Type: DCCPData, X: true, Options: make([]byte, 1008)}, 0, ErrBadHeaderLen},
		{"buffer too small", DCCPHeader{Type: DCCPData, X: true}, 2040, ErrNoSpace},
	}
	for _, c := range cases {
		if _, err := c.h.Encode(buf, c.pay); !errors.Is(err, c.want) {
			t.Errorf("%s: err %v, want %v", c.name, err, c.want)
		}
	}
	// CsCov exactly covering the payload is fine: 2 covers 4 bytes.
	h := DCCPHeader{Type: DCCPData, X: true, CsCov: 2}
	if _, err := h.Encode(buf, 4); err != nil {
		t.Errorf("CsCov 2 with 4 payload bytes: %v", err)
	}
}

// TestDCCPShortSeqExtension: 24-bit numbers are widened to the 48-bit
// value nearest the reference (§7.6), across a 2^24 boundary both ways.
func TestDCCPShortSeqExtension(t *testing.T) {
	cases := []struct {
		ref       seqnum.V48
		seq, want seqnum.V48
	}{
		{0x1234fffff0, 0x000005, 0x1235000005}, // forward across the boundary
		{0x1235000002, 0xfffff0, 0x1234fffff0}, // backward across it
		{0x1234100000, 0x100010, 0x1234100010}, // same block
		{0xfffffffffff0, 0x000003, 0x000000000003},
	}
	for _, c := range cases {
		h := DCCPHeader{Type: DCCPAck, Seq: c.seq, Ack: c.seq}
		buf := make([]byte, 32)
		n, err := h.Encode(buf, 0)
		if err != nil {
			t.Fatal(err)
		}
		d, err := ParseDCCP(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if got := d.SeqExtended(c.ref); got != c.want {
			t.Errorf("SeqExtended(gsr=%#x) of %#x = %#x, want %#x", c.ref, c.seq, got, c.want)
		}
		if got := d.AckExtended(c.ref); got != c.want {
			t.Errorf("AckExtended(gss=%#x) of %#x = %#x, want %#x", c.ref, c.seq, got, c.want)
		}
	}
	// X=1 numbers are returned as carried, whatever the reference.
	d, _ := ParseDCCP(goldenRequest)
	if got := d.SeqExtended(0xffff00000000); got != 0x010203040506 {
		t.Errorf("X=1 SeqExtended changed the number: %#x", got)
	}
}

func TestDCCPStrings(t *testing.T) {
	names := []string{"Request", "Response", "Data", "Ack", "DataAck", "CloseReq", "Close", "Reset", "Sync", "SyncAck"}
	for i, typ := range allDCCPTypes {
		if typ.String() != names[i] {
			t.Errorf("type %d: %q, want %q", i, typ, names[i])
		}
	}
	codes := []string{"Unspecified", "Closed", "Aborted", "No Connection", "Packet Error", "Option Error",
		"Mandatory Error", "Connection Refused", "Bad Service Code", "Too Busy", "Bad Init Cookie", "Aggression Penalty"}
	for i, want := range codes {
		if got := DCCPResetCode(i).String(); got != want {
			t.Errorf("reset code %d: %q, want %q", i, got, want)
		}
	}
	if DCCPResetCode(12).String() != "Reserved(12)" || DCCPResetCode(200).String() != "CCID-specific(200)" {
		t.Error("reserved and CCID-specific reset codes misnamed")
	}
}

func TestDCCPNoAllocs(t *testing.T) {
	buf := make([]byte, 256)
	payload := []byte("hello")
	var optBuf [64]byte
	allocs := testing.AllocsPerRun(100, func() {
		opts := AppendDCCPTimestamp(optBuf[:0], 1)
		opts = AppendDCCPAckVector(opts, 0, []byte{0x05, 0xc0})
		h := DCCPHeader{Type: DCCPDataAck, X: true, Seq: 1, Ack: 2, Options: opts}
		n, err := BuildDCCP(buf, &h, payload, dccpSrc6, dccpDst6)
		if err != nil {
			panic(err)
		}
		d, err := ParseDCCP(buf[:n])
		if err != nil {
			panic(err)
		}
		if d.VerifyChecksum(dccpSrc6, dccpDst6) != nil {
			panic("checksum")
		}
		it := d.OptionIter()
		for o, ok := it.Next(); ok; o, ok = it.Next() {
			if o.Type.IsAckVector() {
				v, _, _ := o.AckVector()
				var r [4]DCCPAckRange
				_ = v.Ranges(d.Ack(), r[:0])
			}
		}
	})
	if allocs != 0 {
		t.Errorf("build+parse+verify+options: %v allocs per packet, want 0", allocs)
	}
}
