package analyze

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// synth builds a capture with internal/wire's builders and our pcap
// Writer: packets between a client and a server, 1 ms apart.
type synth struct {
	t        testing.TB
	buf      bytes.Buffer
	w        *pcap.Writer
	now      clock.Instant
	cli, srv netip.AddrPort
	n        int
}

func newSynth(t testing.TB) *synth {
	s := &synth{t: t, now: clock.Instant(1_700_000_000e9),
		cli: netip.MustParseAddrPort("10.0.0.1:40000"), srv: netip.MustParseAddrPort("10.0.0.2:80")}
	var err error
	if s.w, err = pcap.NewWriter(&s.buf, 0); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *synth) ends(fromClient bool) (netip.AddrPort, netip.AddrPort) {
	if fromClient {
		return s.cli, s.srv
	}
	return s.srv, s.cli
}

// write records one IP packet and returns its packet number.
func (s *synth) write(b []byte) int {
	s.now = s.now.Add(time.Millisecond)
	if err := s.w.WritePacket(s.now, b); err != nil {
		s.t.Fatal(err)
	}
	s.n++
	return s.n
}

// tcp records a TCP segment.
func (s *synth) tcp(fromClient bool, f wire.TCPFlags, seq, ack uint32, win uint16, payload string) int {
	src, dst := s.ends(fromClient)
	h := wire.TCPHeader{SrcPort: src.Port(), DstPort: dst.Port(), Seq: seqnum.V32(seq), Ack: seqnum.V32(ack), Flags: f, Window: win}
	b := make([]byte, wire.TCPPacketLen(src.Addr(), &h, len(payload)))
	n, err := wire.EncodeTCPPacket(b, src.Addr(), dst.Addr(), &h, []byte(payload))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.write(b[:n])
}

// dccp records a DCCP packet with 48-bit sequence numbers.
func (s *synth) dccp(fromClient bool, typ wire.DCCPType, seq, ack uint64, payload string, edit ...func(*wire.DCCPHeader)) int {
	src, dst := s.ends(fromClient)
	h := wire.DCCPHeader{SrcPort: src.Port(), DstPort: dst.Port(), Type: typ, X: true, Seq: seqnum.V48(seq), Ack: seqnum.V48(ack)}
	for _, e := range edit {
		e(&h)
	}
	b := make([]byte, wire.DCCPPacketLen(src.Addr(), &h, len(payload)))
	n, err := wire.EncodeDCCPPacket(b, src.Addr(), dst.Addr(), &h, []byte(payload))
	if err != nil {
		s.t.Fatal(err)
	}
	return s.write(b[:n])
}

// report analyses what was written.
func (s *synth) report(opts Options) *Report {
	rep, err := Reader(bytes.NewReader(s.buf.Bytes()), opts)
	if err != nil {
		s.t.Fatal(err)
	}
	return rep
}

// only returns the single connection of a report.
func only(t *testing.T, rep *Report) *Connection {
	t.Helper()
	if len(rep.Connections) != 1 {
		t.Fatalf("%d connections, want 1", len(rep.Connections))
	}
	return rep.Connections[0]
}

// wantFinding fails unless c has a finding of kind listing packets.
func wantFinding(t *testing.T, why string, c *Connection, kind string, packets ...int) {
	t.Helper()
	f := hasFinding(c, kind)
	if f == nil {
		t.Errorf("%s: no %s finding in %+v", why, kind, c.Findings)
		return
	}
	if packets != nil && !equalInts(f.Packets, packets) {
		t.Errorf("%s: %s lists packets %v, want %v", why, kind, f.Packets, packets)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// handshake writes SYN (client ISN 1000), SYN-ACK (server ISN 5000), ACK.
func (s *synth) handshake() {
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, wire.SYN|wire.ACK, 5000, 1001, 65535, "")
	s.tcp(true, wire.ACK, 1001, 5001, 65535, "")
}

// dccpHandshake writes Request (client seq 100, service 5), Response
// (server seq 500), Ack.
func (s *synth) dccpHandshake() {
	s.dccp(true, wire.DCCPRequest, 100, 0, "", func(h *wire.DCCPHeader) { h.ServiceCode = 5 })
	s.dccp(false, wire.DCCPResponse, 500, 100, "", func(h *wire.DCCPHeader) { h.ServiceCode = 5 })
	s.dccp(true, wire.DCCPAck, 101, 500, "")
}
