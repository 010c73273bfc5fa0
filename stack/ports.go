package stack

import "net/netip"

// The default range of ephemeral ports is Linux's
// (net.ipv4.ip_local_port_range = 32768 60999); Config.EphemeralPorts
// changes it.
const (
	ephemeralFirst = 32768
	ephemeralLast  = 60999
)

// ephemeralStart draws where a search of the ephemeral range begins. The
// caller holds s.mu (the stack's random source).
func (s *Stack) ephemeralStart() int {
	return s.rng.IntN(int(s.ephemeral[1]) - int(s.ephemeral[0]) + 1)
}

// searchEphemeral returns the first port of the ephemeral range, from the
// start-th on and wrapping around, that taken does not claim.
func (s *Stack) searchEphemeral(start int, taken func(p uint16) bool) (uint16, bool) {
	first := int(s.ephemeral[0])
	n := int(s.ephemeral[1]) - first + 1
	for i := range n {
		if p := uint16(first + (start+i)%n); !taken(p) {
			return p, true
		}
	}
	return 0, false
}

// pickPort returns a free local port for a connection from local to
// remote: one that no listener uses and that makes a 4-tuple not in use.
// The caller holds s.mu.
func (s *Stack) pickPort(local netip.Addr, remote netip.AddrPort) (uint16, bool) {
	return s.searchEphemeral(s.ephemeralStart(), func(p uint16) bool {
		if _, ok := s.listeners[p]; ok {
			return true
		}
		_, ok := s.conns[fourTuple{netip.AddrPortFrom(local, p), remote}]
		return ok
	})
}
