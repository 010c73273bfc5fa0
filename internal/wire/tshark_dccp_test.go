package wire

import (
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
)

// Agreement with tshark, an independent DCCP decoder: every packet type,
// both sequence-number lengths, every option we encode, every reset code
// and partial checksum coverage, over IPv4 and IPv6. tshark must read the
// same fields we wrote and find every checksum correct.

// dccpTsharkCase is one packet for tshark and the family it travels in.
type dccpTsharkCase struct {
	name     string
	src, dst netip.Addr
	h        DCCPHeader
	payload  []byte
	// corrupt flips a checksum bit after building: tshark must then say
	// the checksum is bad (a check that the comparison is live).
	corrupt bool
}

// dccpTsharkOptions returns options suited to packets of type t: feature
// negotiation on the handshake, acknowledgement options where there is an
// acknowledgement, timing options everywhere. Every encoder appears on
// some type.
func dccpTsharkOptions(t *testing.T, typ DCCPType, payload []byte) []byte {
	var b []byte
	must := func(nb []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		b = nb
	}
	switch typ {
	case DCCPRequest:
		must(AppendDCCPFeature(b, DCCPOptChangeL, DCCPFeatCCID, []byte{2, 3}))
		must(AppendDCCPFeature(b, DCCPOptChangeR, DCCPFeatCCID, []byte{3, 2}))
		b = AppendDCCPMandatory(b)
		must(AppendDCCPFeature(b, DCCPOptChangeL, DCCPFeatAllowShortSeqnos, []byte{0}))
		b = AppendDCCPTimestamp(b, 0x01020304)
	case DCCPResponse:
		must(AppendDCCPFeature(b, DCCPOptConfirmL, DCCPFeatCCID, []byte{2, 2, 3}))
		must(AppendDCCPFeature(b, DCCPOptConfirmR, DCCPFeatCCID, []byte{3, 3, 2}))
		b = AppendDCCPMandatory(b)
		must(AppendDCCPFeature(b, DCCPOptChangeL, DCCPFeatSendAckVector, []byte{1}))
		must(AppendDCCPFeatureNN(b, DCCPOptChangeR, DCCPFeatSequenceWindow, 100))
		must(AppendDCCPOption(b, DCCPOptInitCookie, []byte("opaque-cookie")))
		must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 0x01020304, Elapsed: 250, ElapsedLen: 2}))
	case DCCPData:
		must(AppendDCCPNDPCount(b, 3))
		b = AppendDCCPTimestamp(b, 777)
		b = AppendDCCPDataChecksum(b, payload)
		b = AppendDCCPSlowReceiver(b)
	case DCCPAck, DCCPDataAck:
		b = AppendDCCPAckVector(b, 0, AppendDCCPAckRun(AppendDCCPAckRun(nil, DCCPAckReceived, 5), DCCPAckNotReceived, 2))
		b = AppendDCCPAckVector(b, 1, []byte{0x41})
		must(AppendDCCPOption(b, DCCPOptDataDropped, []byte{0x03, 0x93}))
		b = AppendDCCPElapsedTime(b, 1234)
		b = AppendDCCPElapsedTime(b, 123456)
		must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 99, Elapsed: 100000, ElapsedLen: 4}))
		must(AppendDCCPFeatureNN(b, DCCPOptConfirmL, DCCPFeatAckRatio, 2))
		must(AppendDCCPOption(b, 130, []byte{0xab, 0xcd}))
	case DCCPCloseReq, DCCPClose:
		must(AppendDCCPTimestampEcho(b, DCCPTimestampEcho{Echo: 42}))
		must(AppendDCCPNDPCount(b, 0x0102030405))
	case DCCPSync, DCCPSyncAck:
		b = AppendDCCPElapsedTime(b, 7)
		must(AppendDCCPFeature(b, DCCPOptConfirmR, 200, nil)) // empty Confirm
	}
	return PadDCCPOptions(b)
}

func dccpTsharkCases(t *testing.T) []dccpTsharkCase {
	fams := []struct {
		name     string
		src, dst netip.Addr
	}{{"v4", dccpSrc4, dccpDst4}, {"v6", dccpSrc6, dccpDst6}}
	var cs []dccpTsharkCase
	for fi, fam := range fams {
		add := func(name string, h DCCPHeader, payload []byte) {
			h.SrcPort, h.DstPort = uint16(40000+len(cs)), 5001
			cs = append(cs, dccpTsharkCase{name: fam.name + "/" + name, src: fam.src, dst: fam.dst, h: h, payload: payload})
		}
		for ti, typ := range allDCCPTypes {
			for _, x := range []bool{true, false} {
				if !x && !typ.AllowsShortSeq() {
					continue
				}
				var payload []byte
				if typ == DCCPData || typ == DCCPDataAck || typ == DCCPRequest {
					payload = []byte("datagram payload, odd length")
				}
				seq := seqnum.V48(0xa1b2c3d4e5f0 + uint64(ti*2+fi))
				ack := seqnum.V48(0x0f1e2d3c4b5a + uint64(ti))
				if !x {
					seq, ack = seq&0xffffff, ack&0xffffff
				}
				h := DCCPHeader{Type: typ, X: x, Seq: seq, Ack: ack, CCVal: uint8(ti),
					Options: dccpTsharkOptions(t, typ, payload)}
				switch typ {
				case DCCPRequest, DCCPResponse:
					h.ServiceCode = 0x50455246 // "PERF"
				case DCCPReset:
					h.ResetCode, h.ResetData = DCCPResetAborted, [3]byte{7, 8, 9}
				}
				add(fmt.Sprintf("%v/X=%v", typ, x), h, payload)
			}
		}
		for code := range DCCPResetAggressionPenalty + 1 {
			add(fmt.Sprintf("Reset/%v", code), DCCPHeader{Type: DCCPReset, X: true, Seq: 1000, Ack: 999,
				ResetCode: code, ResetData: [3]byte{byte(code), 1, 2}}, nil)
		}
		add("Reset/CCID-specific", DCCPHeader{Type: DCCPReset, X: true, Seq: 1, Ack: 2, ResetCode: 200}, nil)
		for _, cov := range []uint8{1, 2, 5} {
			add(fmt.Sprintf("DataAck/CsCov=%d", cov), DCCPHeader{Type: DCCPDataAck, X: false, Seq: 55, Ack: 44,
				CsCov: cov, Options: AppendDCCPTimestamp(nil, 1)}, []byte("partially covered payload!"))
		}
		cs = append(cs, dccpTsharkCase{name: fam.name + "/corrupt checksum", src: fam.src, dst: fam.dst,
			h: DCCPHeader{SrcPort: 1, DstPort: 2, Type: DCCPData, X: true, Seq: 9}, payload: []byte("x"), corrupt: true})
	}
	return cs
}

func TestTsharkDCCP(t *testing.T) {
	tsharkPath(t) // skips loudly when tshark is missing
	cases := dccpTsharkCases(t)
	pkts := make([][]byte, len(cases))
	for i, c := range cases {
		b := make([]byte, DCCPPacketLen(c.src, &c.h, len(c.payload)))
		n, err := EncodeDCCPPacket(b, c.src, c.dst, &c.h, c.payload)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.corrupt {
			b[n-len(c.payload)-DCCPGenericLen+7] ^= 0x10 // low byte of the DCCP checksum
		}
		pkts[i] = b[:n]
	}
	layers := tsharkLayers(t, tsharkWritePcap(t, pkts),
		"dccp.check_checksum:TRUE", "dccp.relative_sequence_numbers:FALSE")
	if len(layers) != len(cases) {
		t.Fatalf("tshark decoded %d packets, wrote %d", len(layers), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dccp, ok := layers[i]["dccp"].(map[string]any)
			if !ok {
				t.Fatalf("tshark found no DCCP layer; layers %v", tsharkKeys(layers[i]))
			}
			checkDCCPTshark(t, c, dccp)
		})
	}
}

// checkDCCPTshark compares tshark's view of one packet with what we built.
func checkDCCPTshark(t *testing.T, c dccpTsharkCase, dccp map[string]any) {
	h := c.h
	want := map[string]string{
		"dccp.srcport": fmt.Sprint(h.SrcPort), "dccp.dstport": fmt.Sprint(h.DstPort),
		"dccp.type": fmt.Sprint(uint8(h.Type)), "dccp.x": map[bool]string{true: "1", false: "0"}[h.X],
		"dccp.ccval": fmt.Sprint(h.CCVal), "dccp.cscov": fmt.Sprint(h.CsCov),
		"dccp.data_offset": fmt.Sprint(h.Len() / 4),
		// Status 1 is "Good", 0 "Bad" (Wireshark's PROTO_CHECKSUM_E_*).
		"dccp.checksum.status": map[bool]string{false: "1", true: "0"}[c.corrupt],
	}
	if h.Type.HasAck() {
		want["dccp.ack_raw"] = fmt.Sprint(uint64(h.Ack))
	}
	switch h.Type {
	case DCCPRequest, DCCPResponse:
		want["dccp.service_code"] = fmt.Sprint(h.ServiceCode)
	case DCCPReset:
		want["dccp.reset_code"] = fmt.Sprint(uint8(h.ResetCode))
		for j, k := range []string{"dccp.data1", "dccp.data2", "dccp.data3"} {
			want[k] = fmt.Sprint(h.ResetData[j])
		}
	}
	for k, w := range want {
		if got, ok := tsharkField(t, dccp, k); got != w {
			t.Errorf("%s: tshark %q (present %v), we wrote %q", k, got, ok, w)
		}
	}
	// tshark 4.0 names the sequence number dccp.seq_raw when X=1 and
	// dccp.seq when X=0.
	seq, ok := tsharkField(t, dccp, "dccp.seq_raw")
	if !ok {
		seq, _ = tsharkField(t, dccp, "dccp.seq")
	}
	if seq != fmt.Sprint(uint64(h.Seq)) {
		t.Errorf("sequence number: tshark %q, we wrote %d", seq, h.Seq)
	}
	got := tsharkDCCPOptions(t, dccp)
	wantOpts := ourDCCPOptions(t, h.Options)
	if strings.Join(got, "\n") != strings.Join(wantOpts, "\n") {
		t.Errorf("options:\ntshark %q\nours   %q", got, wantOpts)
	}
}

// tsharkDCCPOptions renders tshark's option list as "type value" strings
// in packet order, Padding left out.
func tsharkDCCPOptions(t *testing.T, dccp map[string]any) []string {
	opts, ok := dccp["dccp.options"].(map[string]any)
	if !ok {
		return nil
	}
	types := tsharkScalars(opts["dccp.option_type"])
	var trees []any
	switch v := opts["dccp.option_type_tree"].(type) {
	case []any:
		trees = v
	case map[string]any:
		trees = []any{v}
	}
	if len(trees) != len(types) {
		t.Fatalf("tshark: %d option types but %d option trees", len(types), len(trees))
	}
	var out []string
	for i, ty := range types {
		tree, _ := trees[i].(map[string]any)
		typ, _ := strconv.Atoi(ty)
		var val string
		switch {
		case typ == 0:
			continue
		case typ >= 32 && typ <= 35:
			// The values are only in the subtree's label, "Name( 2, 3)";
			// the feature number is a field.
			for k, v := range tree {
				if j := strings.LastIndex(k, "("); j >= 0 {
					f, _ := tsharkField(t, v, "dccp.feature_number")
					val = "feature " + f + " " + k[j:]
				}
			}
		default:
			var parts []string
			for _, k := range tsharkKeys(tree) {
				parts = append(parts, strings.TrimPrefix(k, "dccp.")+"="+strings.Join(tsharkScalars(tree[k]), ","))
			}
			val = strings.Join(parts, " ")
		}
		out = append(out, ty+" "+val)
	}
	return out
}

// ourDCCPOptions renders our decoding of an options area the way
// tsharkDCCPOptions renders tshark's, with Wireshark's field names.
func ourDCCPOptions(t *testing.T, b []byte) []string {
	var out []string
	it := NewDCCPOptionIter(b)
	for o, ok := it.Next(); ok; o, ok = it.Next() {
		if o.Mandatory {
			out = append(out, "1 mandatory=01")
		}
		var val string
		colonHex := func(b []byte) string {
			h := hex.EncodeToString(b)
			var parts []string
			for i := 0; i < len(h); i += 2 {
				parts = append(parts, h[i:i+2])
			}
			return strings.Join(parts, ":")
		}
		switch {
		case o.Type.IsChange() || o.Type.IsConfirm():
			f, err := o.Feature()
			if err != nil {
				t.Fatal(err)
			}
			switch f.Feature.Kind() {
			case DCCPServerPriority:
				vs := make([]string, len(f.Values))
				for i, v := range f.Values {
					vs[i] = fmt.Sprint(v)
				}
				val = "( " + strings.Join(vs, ", ") + ")"
			case DCCPNonNegotiable:
				n, _ := f.NN()
				val = fmt.Sprintf("( %d)", n)
			default:
				val = fmt.Sprintf("(%d)", f.Feature)
			}
			val = fmt.Sprintf("feature %d %s", f.Feature, val)
		case o.Type == DCCPOptSlowReceiver:
			val = "slow_receiver=02"
		case o.Type == DCCPOptInitCookie:
			val = "init_cookie=" + colonHex(o.Data)
		case o.Type == DCCPOptNDPCount:
			n, _ := o.NDPCount()
			val = fmt.Sprintf("ndp_count=%d", n)
		case o.Type.IsAckVector():
			v, nonce, _ := o.AckVector()
			val = fmt.Sprintf("ack_vector.nonce_%d=%s", nonce, colonHex(v))
		case o.Type == DCCPOptDataDropped:
			val = "data_dropped=" + colonHex(o.Data)
		case o.Type == DCCPOptTimestamp:
			ts, _ := o.Timestamp()
			val = fmt.Sprintf("timestamp=%d", ts)
		case o.Type == DCCPOptTimestampEcho:
			e, _ := o.TimestampEcho()
			val = fmt.Sprintf("timestamp_echo=%d", e.Echo)
			if e.ElapsedLen > 0 {
				val = fmt.Sprintf("elapsed_time=%d %s", e.Elapsed, val)
			}
		case o.Type == DCCPOptElapsedTime:
			e, _ := o.ElapsedTime()
			val = fmt.Sprintf("elapsed_time=%d", e)
		case o.Type == DCCPOptDataChecksum:
			c, _ := o.DataChecksum()
			val = fmt.Sprintf("checksum_data=%#08x", c)
		case o.Type >= 128:
			val = "ccid_option_data=" + colonHex(o.Data)
		}
		out = append(out, fmt.Sprintf("%d %s", o.Type, val))
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
