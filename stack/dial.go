package stack

import (
	"context"
	"net"
	"net/netip"
	"strconv"
)

// DialContext connects to address on the named network, with the
// signature of net.Dialer.DialContext, so that a Stack can stand in where
// a program dials (http.Transport.DialContext, say). The networks are
// "tcp", "tcp4", "tcp6" (DialTCP) and "dccp" (DialDCCP with the default
// DCCPOptions); address is "host:port" with host an IP literal — the
// stack resolves no names — and a numeric port ("10.0.0.2:80",
// "[fd00::2]:443"). "tcp4" and "tcp6" take only addresses of their
// family. Errors are *net.OpError values, as net.Dial's are; the errors of
// the connection attempt unwrap to their errnos (ECONNREFUSED, ETIMEDOUT).
func (s *Stack) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	fail := func(err error) error { return &net.OpError{Op: "dial", Net: network, Err: err} }
	switch network {
	case "tcp", "tcp4", "tcp6", "dccp":
	default:
		return nil, fail(net.UnknownNetworkError(network))
	}
	remote, err := parseDialAddr(network, address)
	if err != nil {
		return nil, fail(err)
	}
	if network == "dccp" {
		c, err := s.DialDCCP(ctx, remote, DCCPOptions{})
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	c, err := s.DialTCP(ctx, remote)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseDialAddr parses DialContext's "host:port" for network.
func parseDialAddr(network, address string) (netip.AddrPort, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil || port == 0 {
		return netip.AddrPort{}, &net.AddrError{Err: "port must be a number from 1 to 65535", Addr: address}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		if host == "" {
			return netip.AddrPort{}, &net.AddrError{Err: "missing host: the stack has no local address to default to", Addr: address}
		}
		return netip.AddrPort{}, &net.DNSError{Err: "not an IP address, and the stack resolves no names", Name: host, IsNotFound: true}
	}
	ip = ip.Unmap()
	if network == "tcp4" && !ip.Is4() || network == "tcp6" && !ip.Is6() {
		return netip.AddrPort{}, &net.AddrError{Err: "address of the wrong family for " + network, Addr: host}
	}
	return netip.AddrPortFrom(ip, uint16(port)), nil
}
