package analyze

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
)

// The repro conversations of defects_test.go and the basic endings, each
// on its own client port, as one capture of IP packets.
func reproConversations(t *testing.T) [][]byte {
	s := newSynth(t)
	port := func(p uint16) { s.cli = netipMust("10.0.0.1:" + itoa(int(p))) }
	port(40001)
	graceful(s)
	port(40002)
	s.handshake()
	s.tcp(true, PA, 1001, 5001, 65535, "0123456789")
	s.tcp(false, RA, 5001, 1001, 0, "")
	port(40003)
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, RA, 0, 1001, 0, "")
	port(40004) // an injected RST the client ignores, then the real answer
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, RA, 0, 777, 0, "")
	graceful2 := func() {
		s.tcp(false, wire.SYN|wire.ACK, 5000, 1001, 65535, "")
		s.tcp(true, A, 1001, 5001, 65535, "")
		s.tcp(true, FA, 1001, 5001, 65535, "")
		s.tcp(false, FA, 5001, 1002, 65535, "")
		s.tcp(true, A, 1002, 5002, 65535, "")
	}
	graceful2()
	port(40005) // a stale ACK, reset by the client, then the retry
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(false, A, 90000, 424242, 65535, "")
	s.tcp(true, wire.RST, 424242, 0, 0, "")
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	graceful2()
	port(40006) // unanswered, then given up
	s.tcp(true, wire.SYN, 1000, 0, 65535, "")
	s.tcp(true, wire.RST, 1001, 0, 0, "")
	return ipPackets(t, s)
}

func itoa(n int) string { return strconv.Itoa(n) }

// Encapsulations as the link types and tunnels tshark also reads: each
// wraps one IP packet.
var encapsulations = []struct {
	name     string
	linkType uint32
	wrap     func(ip []byte) []byte
}{
	{"raw", 101, func(ip []byte) []byte { return ip }},
	{"vlan", 1, func(ip []byte) []byte { return ethFrame(0x8100, append([]byte{0, 5, 8, 0}, ip...)) }},
	{"vxlan", 1, vxlanFrame},
	{"gre", 101, func(ip []byte) []byte { return outer4(47, append([]byte{0, 0, 8, 0}, ip...)) }},
	{"mpls", 1, func(ip []byte) []byte { return ethFrame(0x8847, append([]byte{0, 1, 1, 64}, ip...)) }},
	{"pppoe", 1, func(ip []byte) []byte {
		h := []byte{0x11, 0, 0, 1, 0, 0, 0, 0x21}
		binary.BigEndian.PutUint16(h[4:], uint16(2+len(ip)))
		return ethFrame(0x8864, append(h, ip...))
	}},
	{"ip4in4", 101, func(ip []byte) []byte { return outer4(4, ip) }},
	{"sll2", 276, func(ip []byte) []byte {
		h := append([]byte{8, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6}, make([]byte, 8)...)
		return append(h, ip...)
	}},
	{"ppp", 9, func(ip []byte) []byte { return append([]byte{0xff, 3, 0, 0x21}, ip...) }},
	{"cisco-hdlc", 104, func(ip []byte) []byte { return append([]byte{0x0f, 0, 8, 0}, ip...) }},
	{"802.11", 105, func(ip []byte) []byte {
		h := make([]byte, 24)
		h[0], h[1] = 0x08, 0x01
		return append(append(h, 0xaa, 0xaa, 3, 0, 0, 0, 8, 0), ip...)
	}},
}

func ethFrame(et uint16, pay []byte) []byte {
	h := []byte{2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}
	return append(binary.BigEndian.AppendUint16(h, et), pay...)
}

func outer4(proto byte, pay []byte) []byte {
	h := []byte{0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2}
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(pay)))
	binary.BigEndian.PutUint16(h[10:], wire.Checksum(h))
	return append(h, pay...)
}

// The repro conversations, bare and inside each encapsulation, agree with
// tshark (which opens them too): the same streams, and the same
// completeness on each; bare, tcptrace agrees as well.
func TestCrossCheck_ReprosAndEncapsulations(t *testing.T) {
	toolPath(t, "tshark", "tshark")
	dir := t.TempDir()
	pkts := reproConversations(t)
	for _, e := range encapsulations {
		var frames [][]byte
		for _, p := range pkts {
			frames = append(frames, e.wrap(p))
		}
		data := classicPcap(e.linkType, frames...)
		file := filepath.Join(dir, e.name+".pcap")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		rep, err := File(file, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Connections) != 6 || rep.Counts.NotIP != 0 {
			t.Errorf("%s: %d connections, counts %+v", e.name, len(rep.Connections), rep.Counts)
		}
		var checked int
		var diffs []string
		if e.name == "raw" {
			toolPath(t, "tcptrace", "tcptrace")
			checked, diffs = crossCheck(t, file, rep)
		} else {
			checked, diffs = tsharkCheck(t, file, rep)
		}
		if streams := tsharkStreams(t, file); len(streams) != len(rep.Connections) {
			t.Errorf("%s: tshark sees %d TCP streams, analyze %d connections", e.name, len(streams), len(rep.Connections))
		}
		for _, d := range diffs {
			// tcptrace ends a connection at the RSTs RFC 9293 says to
			// ignore (40004) or that answer a stale ACK (40005): a class
			// of docs/analyze.md.
			if strings.Contains(d, "tcptrace splits at an RST") &&
				(strings.HasPrefix(d, "10.0.0.1:40004 ") || strings.HasPrefix(d, "10.0.0.1:40005 ")) {
				continue
			}
			t.Errorf("%s: %s", e.name, d)
		}
		if checked != len(rep.Connections) {
			t.Errorf("%s: %d of %d connections compared", e.name, checked, len(rep.Connections))
		}
	}
}
