package netsim

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Addresses used by the tests.
var (
	addrA = netip.MustParseAddr("10.0.0.1")
	addrB = netip.MustParseAddr("10.0.0.2")
	addrC = netip.MustParseAddr("10.0.0.3")
	addr6 = netip.MustParseAddr("fd00::2")
)

// udpLen is the length of the IPv4 and UDP headers that precede the
// packet number in a test packet.
const udpLen = 28

// udp4 builds an IPv4/UDP packet of size bytes (at least 32) from src to
// dst whose payload starts with the packet number n (RFC 791 §3.1,
// RFC 768). The UDP checksum is left zero ("not computed").
func udp4(src, dst netip.Addr, n uint32, size int) []byte {
	p := make([]byte, size)
	fillUDP4(p, src, dst, n)
	return p
}

// fillUDP4 writes the headers and packet number into p in place.
func fillUDP4(p []byte, src, dst netip.Addr, n uint32) {
	p[0] = 0x45 // version 4, IHL 5
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	binary.BigEndian.PutUint16(p[4:], uint16(n)) // identification
	p[8] = 64                                    // TTL
	p[9] = 17                                    // UDP
	p[10], p[11] = 0, 0
	s4, d4 := src.As4(), dst.As4()
	copy(p[12:16], s4[:])
	copy(p[16:20], d4[:])
	binary.BigEndian.PutUint16(p[10:], wire.Checksum(p[:20]))
	binary.BigEndian.PutUint16(p[20:], 40000)
	binary.BigEndian.PutUint16(p[22:], 9)
	binary.BigEndian.PutUint16(p[24:], uint16(len(p)-20))
	binary.BigEndian.PutUint32(p[udpLen:], n)
}

// numOf returns the packet number carried by a test packet.
func numOf(p []byte) uint32 { return binary.BigEndian.Uint32(p[udpLen:]) }

// arrival is one packet as a recorder saw it.
type arrival struct {
	at   clock.Instant
	num  uint32
	data []byte
}

// recorder is a Receiver that keeps a copy of everything it is given.
type recorder struct {
	sim *Sim
	got []arrival
}

func (r *recorder) DeliverPackets(pkts [][]byte) {
	for _, p := range pkts {
		r.got = append(r.got, arrival{at: r.sim.Now(), num: numOf(p), data: append([]byte(nil), p...)})
	}
}

// pair builds a Sim with hosts a (10.0.0.1) and b (10.0.0.2) joined by one
// link, and a recorder attached to b.
func pair(t testing.TB, seed uint64, ab, ba LinkConfig) (*Sim, *Host, *Host, *Link, *recorder) {
	t.Helper()
	s := New(seed)
	a := s.AddHost("a", addrA)
	b := s.AddHost("b", addrB)
	l := s.ConnectAsym(a, b, ab, ba)
	r := &recorder{sim: s}
	b.Attach(r)
	return s, a, b, l, r
}

// send writes one packet and fails the test on error.
func send(t testing.TB, h *Host, p []byte) {
	t.Helper()
	if n, err := h.WritePackets([][]byte{p}); n != 1 || err != nil {
		t.Fatalf("WritePackets = %d, %v; want 1, nil", n, err)
	}
}

// run runs the simulation to the end and fails the test on error.
func run(t testing.TB, s *Sim) {
	t.Helper()
	s.SetMaxEvents(10_000_000)
	if err := s.Run(); err != nil {
		t.Fatal(err)
	}
}

// at returns the Instant d after the epoch.
func at(d time.Duration) clock.Instant { return Epoch.Add(d) }
