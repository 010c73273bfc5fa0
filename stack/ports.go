package stack

import (
	"crypto/sha256"
	"encoding/binary"
	"net/netip"
)

// The default range of ephemeral ports is Linux's
// (net.ipv4.ip_local_port_range = 32768 60999); Config.EphemeralPorts
// changes it.
const (
	ephemeralFirst = 32768
	ephemeralLast  = 60999
)

// portTableLen is the size of the table of per-destination counters of
// RFC 6056 §3.3.4 (Algorithm 4): destinations that hash to one slot share
// a counter, which only makes their sequences skip.
const portTableLen = 256

// ephemeralStart draws where a search of the ephemeral range begins. The
// caller holds s.mu (the stack's random source).
func (s *Stack) ephemeralStart() int {
	return s.rng.IntN(int(s.ephemeral[1]) - int(s.ephemeral[0]) + 1)
}

// searchEphemeral returns the first port of the ephemeral range, from the
// start-th on and wrapping around, that taken does not claim.
func (s *Stack) searchEphemeral(start int, taken func(p uint16) bool) (uint16, bool) {
	p, _, ok := s.searchFrom(start, taken)
	return p, ok
}

// searchFrom is searchEphemeral that also says how many ports it tried.
func (s *Stack) searchFrom(start int, taken func(p uint16) bool) (uint16, int, bool) {
	first := int(s.ephemeral[0])
	n := int(s.ephemeral[1]) - first + 1
	for i := range n {
		if p := uint16(first + (start+i)%n); !taken(p) {
			return p, i + 1, true
		}
	}
	return 0, n, false
}

// pickPort returns a free local port for a connection from local to
// remote: one that no listener uses and that makes a 4-tuple not in use.
// The caller holds s.mu; Dial uses claimPort, which also registers the
// connection.
//
// The choice is RFC 6056 §3.3.4's double hash (Algorithm 4, as Linux's
// __inet_hash_connect): a keyed hash of the destination places it in the
// range, and a counter of its own, bumped by every port tried, walks on
// from there. Successive connections to one server take successive ports
// and come back to a port only after the whole range, so a new SYN rarely
// meets the server's TIME-WAIT of an earlier connection on the same
// 4-tuple; to outsiders the ports still look random (the key is secret).
func (s *Stack) pickPort(local netip.Addr, remote netip.AddrPort) (uint16, bool) {
	offset, slot := s.portHash(local, remote)
	return s.pickPortAt(offset, slot, func(p uint16) bool {
		if _, ok := s.listeners[p]; ok {
			return true
		}
		return s.conns.get(fourTuple{netip.AddrPortFrom(local, p), remote}) != nil
	})
}

// claimPort is pickPort for Dial: it registers c (reserveConn) under the
// 4-tuple of the port it picks, so that no other dial or accept can take
// that 4-tuple between the choice and the registration. offset and slot
// are the destination's portHash, taken by the caller without any lock.
// The caller holds s.mu for reading. Dials to one destination at the same
// moment may start from the same counter: the registration decides, the
// loser walks on to the next port, and the counter moves on by the ports
// both tried (RFC 6056 §3.3.4 only asks that it move on); one dial at a
// time takes exactly the ports it took before.
func (s *Stack) claimPort(offset uint32, slot int, local netip.Addr, remote netip.AddrPort, c *TCPConn) (uint16, bool) {
	return s.pickPortAt(offset, slot, func(p uint16) bool {
		if _, ok := s.listeners[p]; ok {
			return true
		}
		return !s.reserveConn(fourTuple{netip.AddrPortFrom(local, p), remote}, c)
	})
}

// pickPortAt walks the range from the destination's offset plus its
// counter to the first port that taken does not claim, and moves the
// counter on by the ports it tried.
func (s *Stack) pickPortAt(offset uint32, slot int, taken func(p uint16) bool) (uint16, bool) {
	ctr := &s.portCounters[slot]
	// In 64 bits: on a 32-bit int, offset plus counter overflowed to a
	// negative start and a port below the range.
	n := uint64(s.ephemeral[1]) - uint64(s.ephemeral[0]) + 1
	start := int((uint64(offset) + uint64(ctr.Load())) % n)
	p, tried, ok := s.searchFrom(start, taken)
	ctr.Add(uint32(tried))
	return p, ok
}

// portHash is Algorithm 4's F (the offset into the range) and G (the slot
// of the counter) for a destination, keyed with the stack's secret.
func (s *Stack) portHash(local netip.Addr, remote netip.AddrPort) (offset uint32, slot int) {
	var buf [len(s.portKey) + 1 + 16 + 16 + 2]byte
	n := copy(buf[:], s.portKey[:])
	buf[n] = 'p'
	n++
	l, r := local.As16(), remote.Addr().As16()
	n += copy(buf[n:], l[:])
	n += copy(buf[n:], r[:])
	binary.BigEndian.PutUint16(buf[n:], remote.Port())
	sum := sha256.Sum256(buf[:n+2])
	return binary.BigEndian.Uint32(sum[:4]), int(binary.BigEndian.Uint32(sum[4:8]) % portTableLen)
}
