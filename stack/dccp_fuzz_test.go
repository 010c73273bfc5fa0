package stack_test

import (
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// FuzzDCCPDeliver feeds arbitrary DCCP packets (with a valid checksum, so
// that they reach the demultiplexer and the core) to a stack with a DCCP
// listener: nothing may panic, and whatever the stack answers must be a
// well-formed DCCP packet.
func FuzzDCCPDeliver(f *testing.F) {
	req := wire.DCCPHeader{SrcPort: 40000, DstPort: dccpPort, Type: wire.DCCPRequest, X: true, Seq: 1, ServiceCode: 42}
	for _, h := range []wire.DCCPHeader{req,
		{SrcPort: 40000, DstPort: dccpPort, Type: wire.DCCPData, X: true, Seq: 2},
		{SrcPort: 40000, DstPort: dccpPort, Type: wire.DCCPReset, X: true, Seq: 3, Ack: 9, ResetCode: wire.DCCPResetClosed},
		{SrcPort: 40000, DstPort: 9, Type: wire.DCCPAck, X: true, Seq: 3, Ack: 9}} {
		b := make([]byte, 100)
		n, err := wire.BuildDCCP(b, &h, []byte("x"), clientAddr, serverAddr)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:n])
	}
	f.Fuzz(func(t *testing.T, d []byte) {
		ea, eb := pipe.New(1500)
		var answers [][]byte
		ea.Attach(recvFunc(func(pkts [][]byte) {
			for _, p := range pkts {
				answers = append(answers, append([]byte(nil), p...))
			}
		}))
		s, err := stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{serverAddr}, Link: eb, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.ListenDCCP(dccpPort, stack.DCCPListenOptions{Services: []uint32{42}}); err != nil {
			t.Fatal(err)
		}
		if p, err := wire.ParseDCCP(d); err == nil {
			p.SetChecksum(clientAddr, serverAddr) //nolint:errcheck // a bad coverage stays bad
		}
		pkt := make([]byte, 20+len(d))
		h := wire.IPv4Header{Src: clientAddr, Dst: serverAddr, Protocol: wire.IPProtoDCCP, TTL: 64}
		if _, err := h.Encode(pkt, len(d)); err != nil {
			return
		}
		copy(pkt[20:], d)
		ea.WritePackets([][]byte{pkt})
		for _, a := range answers {
			ip, err := wire.ParseIP(a)
			if err != nil {
				t.Fatalf("answer is not IP: %v", err)
			}
			p, err := wire.ParseDCCP(ip.Payload)
			if err != nil || p.VerifyChecksum(ip.Src, ip.Dst) != nil {
				t.Fatalf("answer is not a valid DCCP packet: %v", err)
			}
		}
	})
}

type recvFunc func([][]byte)

func (f recvFunc) DeliverPackets(p [][]byte) { f(p) }
