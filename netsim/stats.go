package netsim

import "github.com/teardown-lab/teardown/clock"

// DropReason says why the network discarded a packet.
type DropReason uint8

// The reasons a packet is dropped.
const (
	// NotDropped is the reason of an event that is not a drop.
	NotDropped DropReason = iota
	// DropLoss: the link's random loss fault fired (LinkConfig.Loss).
	DropLoss
	// DropQueue: the packets waiting to be serialized already filled the
	// link's queue (LinkConfig.QueuePackets / QueueBytes): tail drop.
	DropQueue
	// DropPartition: the direction was partitioned or set down when the
	// packet was offered to it.
	DropPartition
	// DropMTU: the packet was larger than the link's MTU.
	DropMTU
	// DropNoRoute: no host reachable from the sender owns the destination
	// address.
	DropNoRoute
	// DropNoReceiver: the destination host had no Receiver attached or
	// was closed.
	DropNoReceiver
	// DropMalformed: the packet was too short to carry an IPv4 or IPv6
	// destination address, or its version was neither 4 nor 6.
	DropMalformed
	numDropReasons
)

var dropNames = [numDropReasons]string{
	"not-dropped", "loss", "queue", "partition", "mtu", "no-route", "no-receiver", "malformed",
}

// String returns a short lower-case name such as "loss" or "no-route".
func (r DropReason) String() string {
	if r < numDropReasons {
		return dropNames[r]
	}
	return "drop-reason(?)"
}

// EventKind is what happened to a packet in a PacketEvent.
type EventKind uint8

// The kinds of packet event.
const (
	// Sent: a host or switch offered the packet to a link direction.
	Sent EventKind = iota + 1
	// Delivered: the packet reached its destination host's interface.
	Delivered
	// Dropped: the network discarded the packet (see PacketEvent.Reason).
	Dropped
	// Duplicated: the link will deliver a second copy of the packet.
	Duplicated
	// Corrupted: the link flipped one bit of the packet; the event carries
	// the packet as it will arrive.
	Corrupted
	// Reordered: the link delayed the packet by ReorderDelay so that later
	// packets overtake it.
	Reordered
)

var kindNames = [...]string{"?", "sent", "delivered", "dropped", "duplicated", "corrupted", "reordered"}

// String returns a short lower-case name such as "sent".
func (k EventKind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "?"
}

// PacketEvent describes one thing that happened to a packet, for the
// observer set with Sim.Observe (the lab draws sequence diagrams from
// these).
type PacketEvent struct {
	Time clock.Instant
	Kind EventKind
	// Reason is set when Kind is Dropped.
	Reason DropReason
	// From and To name the nodes at the two ends of the hop the event
	// happened on. For DropNoRoute and DropMalformed at a sender, To is "".
	From, To string
	// Packet is the IP packet. It is lent: valid only during the call.
	Packet []byte
}

// LinkStats counts what happened on one direction of a link.
type LinkStats struct {
	Sent       uint64 // packets offered to the direction
	Delivered  uint64 // packets (copies included) that reached the far end
	Bytes      uint64 // bytes of the packets that reached the far end
	Lost       uint64 // dropped by the loss fault
	QueueDrops uint64 // tail drops at a full queue
	Partition  uint64 // dropped while partitioned or down
	TooBig     uint64 // dropped for exceeding the link MTU
	Duplicated uint64 // extra copies made
	Corrupted  uint64 // packets with one bit flipped
	Reordered  uint64 // packets held back by the reorder fault
}

// Dropped returns the number of packets the direction discarded.
func (st LinkStats) Dropped() uint64 {
	return st.Lost + st.QueueDrops + st.Partition + st.TooBig
}

// HostStats counts what happened at one host's interface.
type HostStats struct {
	Sent       uint64 // packets accepted by WritePackets
	Received   uint64 // packets handed to the Receiver
	NoRoute    uint64 // sent packets whose destination nobody reachable owns
	Malformed  uint64 // sent packets without a readable IP destination
	NoReceiver uint64 // arrived while no Receiver was attached, or closed
}

// SwitchStats counts what one switch did.
type SwitchStats struct {
	Forwarded uint64 // packets passed on to an output link
	NoRoute   uint64 // packets whose destination no attached host owns
	Malformed uint64 // packets without a readable IP destination
}
