// Package link moves IP packets between a host and a network.
//
// An Endpoint is a host's network interface: it carries whole IPv4 or IPv6
// packets (no link-layer header) in both directions. Implementations: the
// in-process pipe (package link/pipe), the simulator's hosts (package
// netsim), a Linux TUN device (package link/tun) and DCCP-over-UDP
// (package link/udp). Middleware such as the pcap tap (package link/pcap)
// wraps any Endpoint and is itself one.
//
// Packets cross the interface in batches so that a real device can move
// many per system call. Buffers are lent, never given: a callee must not
// keep a packet slice after the call returns, and must copy what it needs.
package link

import "errors"

// Receiver takes packets that arrived at an Endpoint.
type Receiver interface {
	// DeliverPackets hands over a batch of IP packets received from the
	// network. The slices are valid only during the call.
	DeliverPackets(pkts [][]byte)
}

// VerifiedReceiver is a Receiver that a link may also hand packets whose
// transport checksum it vouches for: a TUN device with offloads, for the
// segments of a local sender that offloaded its checksum to the device
// (or that the device verified); an in-process pipe, which cannot damage
// a packet, when asked to (pipe.VouchChecksums). The checksum field is
// correct, but the receiver need not spend a pass over the payload to
// verify it. A middlebox (the pcap tap) that is only a Receiver gets every
// packet by DeliverPackets.
type VerifiedReceiver interface {
	Receiver
	// DeliverVerifiedPackets is DeliverPackets for such packets.
	DeliverVerifiedPackets(pkts [][]byte)
}

// ReceiverFunc adapts a function to the Receiver interface.
type ReceiverFunc func(pkts [][]byte)

// DeliverPackets calls f(pkts).
func (f ReceiverFunc) DeliverPackets(pkts [][]byte) { f(pkts) }

// Endpoint is a host's side of a network link.
type Endpoint interface {
	// MTU is the largest IP packet, in bytes, that the link carries.
	MTU() int
	// WritePackets sends a batch of IP packets and reports how many were
	// accepted. The endpoint copies what it keeps; the caller may reuse
	// the buffers as soon as the call returns.
	WritePackets(pkts [][]byte) (int, error)
	// Attach sets the Receiver that incoming packets are delivered to.
	// Packets that arrive before Attach, or after Attach(nil), are dropped.
	Attach(r Receiver)
	// Close releases the endpoint; later writes fail with ErrClosed.
	Close() error
}

// ErrClosed is returned by WritePackets on an endpoint that was closed.
var ErrClosed = errors.New("link: endpoint closed")

// ErrTooBig is returned by WritePackets for a packet larger than the MTU.
var ErrTooBig = errors.New("link: packet larger than the MTU")

// BufferHinter is an Endpoint that suggests the receive buffer TCP
// connections over it start with, where the stack's configuration leaves
// it unset (stack.TCPOptions.ReceiveBuffer). The buffer still grows with
// the path as without a hint.
type BufferHinter interface {
	Endpoint
	// ReceiveBufferHint is the suggested size in bytes, or 0 for none.
	ReceiveBufferHint() int
}

// GSOEndpoint is an Endpoint that also takes TCP super-segments: one IP
// packet, larger than the MTU, that stands for a run of segments of one
// flow, each but the last carrying exactly gso payload bytes. The link
// (or the kernel behind it) cuts it into those segments, as a NIC does
// with TCP segmentation offload: the first segment's headers are copied to
// every piece, sequence numbers advance, PSH goes only on the last piece.
// A super-segment's IP header is complete (its length covers the whole
// packet, the IPv4 checksum is right); its TCP checksum field holds only
// the sum of the pseudo-header over the whole TCP length, folded and not
// complemented, for the cutter to complete per segment. Only plain ACK
// segments may form one (ACK|PSH on the last), never SYN, FIN, RST, URG,
// CWR or ECE.
type GSOEndpoint interface {
	Endpoint
	// GSOMaxSize is the largest super-segment, IP header included, or 0
	// when the endpoint takes none now (a TUN device without offloads).
	GSOMaxSize() int
	// WritePacketsGSO is WritePackets where gso[i] > 0 marks pkts[i] as a
	// super-segment of gso[i]-byte segments; gso[i] == 0 is an ordinary
	// packet. len(gso) == len(pkts).
	WritePacketsGSO(pkts [][]byte, gso []uint16) (int, error)
}
