package gvlink

import (
	"fmt"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	gvstack "gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// StackOptions configure NewStack.
type StackOptions struct {
	// Addr is the stack's IPv4 address.
	Addr netip.Addr
	// SendBuffer and ReceiveBuffer set TCP's default buffer sizes in
	// bytes (zero keeps gVisor's defaults). Receive-buffer moderation
	// (auto-tuning) is turned off when ReceiveBuffer is set, so that the
	// size stays what was asked, as in our stack.
	SendBuffer, ReceiveBuffer int
	// NoSACK leaves SACK off (gVisor's default is off; ours is on, so
	// NewStack turns it on unless told otherwise).
	NoSACK bool
	// Tailscale configures TCP as tailscale's wgengine/netstack does (read
	// from its source, 2026-08): SACK on, RACK off (TCPRecovery 0, for the
	// spurious retransmissions of tailscale issue 9707), Reno, and buffer
	// ranges 4 KiB / 1 MiB / 8 MiB (receive) and 4 KiB / 1 MiB / 6 MiB
	// (send) with gVisor's receive-buffer moderation left on. SendBuffer,
	// ReceiveBuffer and NoSACK are ignored.
	Tailscale bool
}

// NICID is the id of the one NIC NewStack creates.
const NICID tcpip.NICID = 1

// NewStack returns a gVisor stack with IPv4 and TCP, one NIC on ep with
// opts.Addr, and a default route through it.
func NewStack(ep gvstack.LinkEndpoint, opts StackOptions) (*gvstack.Stack, error) {
	if !opts.Addr.Is4() {
		return nil, fmt.Errorf("gvlink: address %v is not IPv4", opts.Addr)
	}
	s := gvstack.New(gvstack.Options{
		NetworkProtocols:   []gvstack.NetworkProtocolFactory{ipv4.NewProtocol},
		TransportProtocols: []gvstack.TransportProtocolFactory{tcp.NewProtocol},
	})
	if err := s.CreateNIC(NICID, ep); err != nil {
		return nil, fmt.Errorf("gvlink: CreateNIC: %v", err)
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          ipv4.ProtocolNumber,
		AddressWithPrefix: tcpip.AddrFrom4(opts.Addr.As4()).WithPrefix(),
	}
	if err := s.AddProtocolAddress(NICID, pa, gvstack.AddressProperties{}); err != nil {
		return nil, fmt.Errorf("gvlink: AddProtocolAddress: %v", err)
	}
	s.SetRouteTable([]tcpip.Route{{Destination: header.IPv4EmptySubnet, NIC: NICID}})
	if opts.Tailscale {
		return s, tailscaleTCP(s)
	}
	sack := tcpip.TCPSACKEnabled(!opts.NoSACK)
	if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &sack); err != nil {
		return nil, fmt.Errorf("gvlink: SACK: %v", err)
	}
	if opts.SendBuffer > 0 {
		o := tcpip.TCPSendBufferSizeRangeOption{Min: 4096, Default: opts.SendBuffer, Max: max(opts.SendBuffer, 4<<20)}
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &o); err != nil {
			return nil, fmt.Errorf("gvlink: send buffer: %v", err)
		}
	}
	if opts.ReceiveBuffer > 0 {
		o := tcpip.TCPReceiveBufferSizeRangeOption{Min: 4096, Default: opts.ReceiveBuffer, Max: max(opts.ReceiveBuffer, 4<<20)}
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &o); err != nil {
			return nil, fmt.Errorf("gvlink: receive buffer: %v", err)
		}
		mod := tcpip.TCPModerateReceiveBufferOption(false)
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, &mod); err != nil {
			return nil, fmt.Errorf("gvlink: moderation: %v", err)
		}
	}
	return s, nil
}

// FullAddr converts an address and port to gVisor's form on NICID.
func FullAddr(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{NIC: NICID, Addr: tcpip.AddrFrom4(ap.Addr().As4()), Port: ap.Port()}
}

// tailscaleTCP applies StackOptions.Tailscale's settings.
func tailscaleTCP(s *gvstack.Stack) error {
	sack := tcpip.TCPSACKEnabled(true)
	rack := tcpip.TCPRecovery(0)
	reno := tcpip.CongestionControlOption("reno")
	rcv := tcpip.TCPReceiveBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcp.DefaultReceiveBufferSize, Max: 8 << 20}
	snd := tcpip.TCPSendBufferSizeRangeOption{Min: tcp.MinBufferSize, Default: tcp.DefaultSendBufferSize, Max: 6 << 20}
	mod := tcpip.TCPModerateReceiveBufferOption(true) // gVisor's default, stated
	for _, o := range []tcpip.SettableTransportProtocolOption{&sack, &rack, &reno, &rcv, &snd, &mod} {
		if err := s.SetTransportProtocolOption(tcp.ProtocolNumber, o); err != nil {
			return fmt.Errorf("gvlink: tailscale option %T: %v", o, err)
		}
	}
	return nil
}
