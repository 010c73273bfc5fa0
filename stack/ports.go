package stack

import "net/netip"

// Ephemeral ports are drawn from Linux's default range
// (net.ipv4.ip_local_port_range = 32768 60999).
const (
	ephemeralFirst = 32768
	ephemeralLast  = 60999
)

// pickPort returns a free local port for a connection from local to
// remote: one that no listener uses and that makes a 4-tuple not in use.
// The caller holds s.mu.
func (s *Stack) pickPort(local netip.Addr, remote netip.AddrPort) (uint16, bool) {
	n := ephemeralLast - ephemeralFirst + 1
	start := s.rng.IntN(n)
	for i := range n {
		p := uint16(ephemeralFirst + (start+i)%n)
		if _, ok := s.listeners[p]; ok {
			continue
		}
		if _, ok := s.conns[fourTuple{netip.AddrPortFrom(local, p), remote}]; ok {
			continue
		}
		return p, true
	}
	return 0, false
}
