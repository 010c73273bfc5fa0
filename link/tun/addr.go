//go:build linux

package tun

import (
	"net"
	"net/netip"
)

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	a := p.Addr()
	bits := 32
	if a.Is6() && !a.Is4In6() {
		bits = 128
	}
	return &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(p.Bits(), bits)}
}

// HostAddrs returns the first and second host addresses of a prefix: the
// lab gives the first to the kernel and the second to our stack
// ("--net 10.7.0.0/24" → 10.7.0.1 and 10.7.0.2).
func HostAddrs(p netip.Prefix) (kernel, ours netip.Addr, ok bool) {
	p = p.Masked()
	k := p.Addr().Next()
	o := k.Next()
	if !k.IsValid() || !o.IsValid() || !p.Contains(o) {
		return netip.Addr{}, netip.Addr{}, false
	}
	return k, o, true
}
