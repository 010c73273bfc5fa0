package dccp

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// TestAckVecEncode: received 10, 11, 12, (13, 14 missing), 15, 16: from
// head 16 backwards the cells are Received x2, Not Received x2,
// Received x3 (§11.4).
func TestAckVecEncode(t *testing.T) {
	var a ackVecRx
	for _, s := range []seqnum.V48{10, 11, 12, 15, 16} {
		a.record(s)
	}
	got, _ := a.encode(nil, 16)
	// A cell is the state in the top two bits and the run length less
	// one below.
	cell := func(st wire.DCCPAckState, more byte) byte { return byte(st)<<6 | more }
	rcvd, lost := wire.DCCPAckReceived, wire.DCCPAckNotReceived
	want := []byte{cell(rcvd, 1), cell(lost, 1), cell(rcvd, 2)}
	if !slices.Equal(got, want) {
		t.Fatalf("cells %08b, want %08b", got, want)
	}
	a.record(14) // a late arrival fills part of the gap
	want = []byte{cell(rcvd, 2), cell(lost, 0), cell(rcvd, 2)}
	if got, _ := a.encode(nil, 16); !slices.Equal(got, want) {
		t.Errorf("after 14: cells %08b, want %08b", got, want)
	}
	a.trim(12) // peer acknowledged a vector reaching 12
	want = []byte{cell(rcvd, 2), cell(lost, 0)}
	if got, _ := a.encode(nil, 16); !slices.Equal(got, want) {
		t.Errorf("after trim: cells %08b, want %08b", got, want)
	}
	if st, ok := wire.DCCPAckVector(want).Lookup(16, 13); !ok || st != wire.DCCPAckNotReceived {
		t.Errorf("wire decoder reads 13 as %v/%v, want Not Received", st, ok)
	}
}

func TestAckVecLongRun(t *testing.T) {
	var a ackVecRx
	for s := range seqnum.V48(100) {
		a.record(s)
	}
	// 100 received packets: a run of 64 (run length 63) then 36 (35).
	if got, _ := a.encode(nil, 16); !slices.Equal(got, []byte{63, 35}) {
		t.Errorf("cells %v, want [63 35]", got)
	}
}

// TestServerPriority: §6.3.1, the first value of the server's list that
// the client also lists.
func TestServerPriority(t *testing.T) {
	cases := []struct {
		server, client []byte
		want           byte
		ok             bool
	}{
		{[]byte{3, 2}, []byte{2, 3}, 3, true},
		{[]byte{2, 3}, []byte{3, 2}, 2, true},
		{[]byte{4, 3}, []byte{3}, 3, true},
		{[]byte{2}, []byte{3}, 0, false},
	}
	for _, c := range cases {
		v, ok := serverPriority(c.server, c.client)
		if v != c.want || ok != c.ok {
			t.Errorf("serverPriority(%v, %v) = %d,%v want %d,%v", c.server, c.client, v, ok, c.want, c.ok)
		}
	}
}

// linuxRequest is the Request of a Linux 6.1 client (docs/peer-facts.md).
func linuxRequest() Packet {
	p := Packet{Type: wire.DCCPRequest, X: true, Seq: 777, ServiceCode: 42}
	o := &p.Options
	o.HasTimestamp, o.Timestamp = true, 1234
	o.AddFeature(wire.DCCPOptChangeL, wire.DCCPFeatCCID, false, []byte{2, 3})
	o.AddFeature(wire.DCCPOptChangeR, wire.DCCPFeatCCID, false, []byte{2, 3})
	o.AddFeature(wire.DCCPOptChangeL, wire.DCCPFeatAllowShortSeqnos, true, []byte{0})
	o.AddFeature(wire.DCCPOptChangeL, wire.DCCPFeatECNIncapable, true, []byte{1})
	return p
}

// TestRespond_LinuxRequest: our Response acknowledges the Request's own
// sequence number and confirms every Change (docs/peer-facts.md: ack = seq+1
// draws Reset 4, a missing Confirm draws Reset 2).
func TestRespond_LinuxRequest(t *testing.T) {
	l := &Listener{ServiceCodes: []uint32{42}, Config: Config{Profile: profile.Linux, NewCCID: NoCCID}}
	req := linuxRequest()
	c, _, reply := l.HandlePacket(t0, &req, 9000, 0)
	if c == nil || reply {
		t.Fatal("Request refused")
	}
	var p Packet
	if !c.NextPacket(t0, &p) || p.Type != wire.DCCPResponse {
		t.Fatalf("want a Response, got %v", p.Type)
	}
	if p.Ack != 777 || p.Seq != 9000 || p.ServiceCode != 42 {
		t.Errorf("Response seq %d ack %d sc %d, want 9000, 777 (the Request's seq), 42", p.Seq, p.Ack, p.ServiceCode)
	}
	type key struct {
		t wire.DCCPOptionType
		f wire.DCCPFeature
	}
	got := map[key]byte{}
	for _, f := range p.Options.Features[:p.Options.NFeatures] {
		got[key{f.Type, f.Feature}] = f.Values[0]
	}
	want := map[key]byte{
		{wire.DCCPOptConfirmR, wire.DCCPFeatCCID}:             2,
		{wire.DCCPOptConfirmL, wire.DCCPFeatCCID}:             2,
		{wire.DCCPOptConfirmR, wire.DCCPFeatAllowShortSeqnos}: 0,
		{wire.DCCPOptConfirmR, wire.DCCPFeatECNIncapable}:     1,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%v(%v) = %v present %v, want value %d", k.t, k.f, g, ok, v)
		}
	}
	if !p.Options.HasEcho || p.Options.Echo.Echo != 1234 {
		t.Error("the Request's Timestamp is not echoed (§13.3)")
	}
	if c.NextPacket(t0, &p) {
		t.Errorf("then nothing: got %v", p.Type)
	}
}

// TestListen_BadServiceCode: §8.1.2, Reset(Bad Service Code) acknowledging
// the Request, sequence number 0 since the Request has no ack (§8.5 step 3).
func TestListen_BadServiceCode(t *testing.T) {
	l := &Listener{ServiceCodes: []uint32{42}}
	req := linuxRequest()
	req.ServiceCode = 7
	c, r, reply := l.HandlePacket(t0, &req, 1, 0)
	if c != nil || !reply || r.ResetCode != wire.DCCPResetBadServiceCode || r.Ack != 777 || r.Seq != 0 {
		t.Errorf("got conn %v reset %+v, want Reset(Bad Service Code) ack 777 seq 0", c, r)
	}
	if _, r, _ := l.HandlePacket(t0, &linuxRequestCopy, 1, 16); r.ResetCode != wire.DCCPResetTooBusy {
		t.Errorf("full backlog: %v, want Too Busy", r.ResetCode)
	}
}

var linuxRequestCopy = linuxRequest()

// TestRequest_LooksLikeLinux: our Request carries what Linux 6.1's does.
func TestRequest_LooksLikeLinux(t *testing.T) {
	c := NewClient(t0, Config{ServiceCode: 42, ISS: 1})
	var p Packet
	if !c.NextPacket(t0, &p) || p.Type != wire.DCCPRequest || !p.X || p.Seq != 1 {
		t.Fatalf("first packet %v seq %d, want Request with ISS", p.Type, p.Seq)
	}
	if !p.Options.HasTimestamp {
		t.Error("no Timestamp")
	}
	var kinds []string
	for _, f := range p.Options.Features[:p.Options.NFeatures] {
		kinds = append(kinds, f.Type.String()+"/"+f.Feature.String()+map[bool]string{true: "/M"}[f.Mandatory])
	}
	want := []string{"Change L/" + wire.DCCPFeatCCID.String(), "Change R/" + wire.DCCPFeatCCID.String(),
		"Change L/" + wire.DCCPFeatAllowShortSeqnos.String() + "/M", "Change L/" + wire.DCCPFeatECNIncapable.String() + "/M"}
	if !slices.Equal(kinds, want) {
		t.Errorf("features %v, want %v", kinds, want)
	}
}

// TestRequest_Retransmit: §8.1.1, first retransmission after about one
// second, then doubling; each with a new sequence number; give up after
// RequestRetries.
func TestRequest_Retransmit(t *testing.T) {
	c := NewClient(t0, Config{RequestRetries: 3, ISS: 10})
	var p Packet
	var seqs []seqnum.V48
	var times []time.Duration
	for c.State() == Request {
		for c.NextPacket(c.timer.rtx, &p) {
			seqs = append(seqs, p.Seq)
		}
		now := c.NextDeadline()
		times = append(times, now.Sub(t0))
		c.HandleTimer(now)
		for c.NextPacket(now, &p) {
			seqs = append(seqs, p.Seq)
		}
	}
	if !slices.Equal(seqs, []seqnum.V48{10, 11, 12, 13}) {
		t.Errorf("Request seqs %v, want 10..13", seqs)
	}
	if !slices.Equal(times, []time.Duration{time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second}) {
		t.Errorf("timer fired at %v, want 1, 3, 7 s and the give-up at 15 s", times)
	}
	if c.Summary().How != GaveUp {
		t.Errorf("ended %v, want gave up", c.Summary().How)
	}
	if _, err := c.Read(t0, nil); !errors.Is(err, ErrTimeout) {
		t.Errorf("read after give-up: %v, want ErrTimeout", err)
	}
}

// TestRespond_LinuxCCID3Request: Linux 6.1 offering only CCID 3 adds
// Mandatory Change L and Change R of Send Loss Event Rate (feature 192,
// RFC 4342 §8.4) = 1, observed in the VM; the server must confirm both
// with 1 instead of answering Reset (Mandatory Error).
func TestRespond_LinuxCCID3Request(t *testing.T) {
	l := &Listener{ServiceCodes: []uint32{42}, Config: Config{Profile: profile.Linux, NewCCID: NoCCID, CCID: 3}}
	req := Packet{Type: wire.DCCPRequest, X: true, Seq: 777, ServiceCode: 42}
	o := &req.Options
	o.AddFeature(wire.DCCPOptChangeL, wire.DCCPFeatCCID, false, []byte{3})
	o.AddFeature(wire.DCCPOptChangeR, wire.DCCPFeatCCID, false, []byte{3})
	o.AddFeature(wire.DCCPOptChangeR, featSendLossEventRate, true, []byte{1})
	o.AddFeature(wire.DCCPOptChangeL, featSendLossEventRate, true, []byte{1})
	c, r, reply := l.HandlePacket(t0, &req, 9000, 0)
	if c == nil || reply {
		t.Fatalf("Request refused with %v", r.ResetCode)
	}
	var p Packet
	if !c.NextPacket(t0, &p) || p.Type != wire.DCCPResponse {
		t.Fatal("no Response")
	}
	confirmed := map[wire.DCCPOptionType]byte{}
	for _, f := range p.Options.Features[:p.Options.NFeatures] {
		if f.Feature == featSendLossEventRate && f.N > 0 {
			confirmed[f.Type] = f.Values[0]
		}
	}
	if confirmed[wire.DCCPOptConfirmL] != 1 || confirmed[wire.DCCPOptConfirmR] != 1 {
		t.Errorf("Send Loss Event Rate confirms %v, want Confirm L and Confirm R of 1", confirmed)
	}
}
