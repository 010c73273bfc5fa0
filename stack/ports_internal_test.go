package stack

import (
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/link/pipe"
)

// The port pickPort chooses lies in the ephemeral range whatever the
// destination's offset and counter add up to: their sum modulo the range
// (RFC 6056 §3.3.4), taken in 64 bits so that a 32-bit int cannot turn it
// negative (GOARCH=386 gave port 32767, below the range, here).
func TestPickPort_CounterWrapStaysInRange(t *testing.T) {
	a, _ := pipe.New(1500)
	s, err := New(Config{Addrs: []netip.Addr{netip.MustParseAddr("10.8.0.1")}, Link: a, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	local, remote := netip.MustParseAddr("10.8.0.1"), netip.MustParseAddrPort("10.8.0.2:80")
	offset, slot := s.portHash(local, remote)
	n := uint32(ephemeralLast - ephemeralFirst + 1)
	for _, sum := range []uint32{1<<32 - 1, 1 << 31, 1<<31 + 12345} {
		s.mu.Lock()
		s.portCounters[slot].Store(sum - offset) // offset + counter ≡ sum (mod 2^32)
		p, ok := s.pickPort(local, remote)
		s.mu.Unlock()
		want := ephemeralFirst + uint16((uint64(offset)+uint64(sum-offset))%uint64(n))
		if !ok || p != want {
			t.Errorf("offset+counter %#x: port %d (%v), want %d", sum, p, ok, want)
		}
	}
}
