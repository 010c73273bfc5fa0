package testnet_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/testnet"
)

// seg is one TCP segment of a capture.
type seg struct {
	at       time.Duration // since netsim.Epoch (virtual runs)
	src, dst netip.AddrPort
	flags    wire.TCPFlags
	seq, ack uint32
	n        int // payload bytes
}

func (s seg) String() string {
	return fmt.Sprintf("%v %v>%v %v seq=%d ack=%d len=%d", s.at, s.src, s.dst, s.flags, s.seq, s.ack, s.n)
}

// segments reads every TCP segment of a pcap capture.
func segments(t *testing.T, capture []byte) []seg {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	var out []seg
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ip, err := wire.ParseIP(p.IP)
		if err != nil || ip.Protocol != wire.IPProtoTCP {
			continue
		}
		tcp, err := wire.ParseTCP(ip.Payload)
		if err != nil {
			continue
		}
		out = append(out, seg{
			at:  time.Duration(p.Time - netsim.Epoch),
			src: netip.AddrPortFrom(ip.Src, tcp.SrcPort()), dst: netip.AddrPortFrom(ip.Dst, tcp.DstPort()),
			flags: tcp.Flags(), seq: uint32(tcp.Seq()), ack: uint32(tcp.Ack()), n: len(tcp.Payload()),
		})
	}
}

// from keeps the segments sent from addr (any port) matching keep.
func from(segs []seg, addr netip.Addr, keep func(seg) bool) []seg {
	var out []seg
	for _, s := range segs {
		if s.src.Addr() == addr && (keep == nil || keep(s)) {
			out = append(out, s)
		}
	}
	return out
}

// has reports whether flags has every flag of m.
func has(m wire.TCPFlags) func(seg) bool { return func(s seg) bool { return s.flags.Has(m) } }

// retransmitted counts data segments that repeat a sequence number
// already sent with data by the same sender.
func retransmitted(segs []seg, addr netip.Addr) int {
	seen := map[[2]uint32]bool{}
	n := 0
	for _, s := range from(segs, addr, func(s seg) bool { return s.n > 0 }) {
		k := [2]uint32{uint32(s.src.Port()), s.seq}
		if seen[k] {
			n++
		}
		seen[k] = true
	}
	return n
}

// capturedPair runs body in a synctest bubble on a network of two hosts,
// "client" and "server", whose wire is captured, and returns the
// captured segments and the hosts.
func capturedPair(t *testing.T, body func(t *testing.T, n *testnet.Network, client, server *testnet.Host)) (segs []seg, client, server *testnet.Host) {
	t.Helper()
	var buf syncbuf.Buffer
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t, testnet.Capture(&buf))
		client, server = n.Host("client"), n.Host("server")
		body(t, n, client, server)
	})
	return segments(t, buf.Bytes()), client, server
}

// dialEcho has client dial an echo of one connection on server:9.
func dialEcho(t *testing.T, client, server *testnet.Host) net.Conn {
	t.Helper()
	ln, _ := server.Listen("tcp", ":9")
	go echoOnce(ln)
	c, err := client.Dial("tcp", "server:9")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dialAccept has client dial a listener on server:9 and returns both ends.
func dialAccept(t *testing.T, client, server *testnet.Host) (c, s net.Conn) {
	t.Helper()
	ln, _ := server.Listen("tcp", ":9")
	c, err := client.Dial("tcp", "server:9")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	s, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}
