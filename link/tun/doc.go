// Package tun is a link.Endpoint over a Linux TUN device: the kernel on one
// side, a teardown stack on the other, IP packets in between.
//
// Open creates the device (or attaches to an existing one of that name),
// configures it through netlink (address, MTU, up) and starts one reader
// goroutine that drains the device in batches: every wake-up reads packets
// until the device is empty and hands them to the Receiver in one call.
// Writing needs no goroutine.
//
// Creating a TUN device needs CAP_NET_ADMIN (root). Tests create their
// devices inside a network namespace of their own (internal/netns).
//
// With Config.Offload the device also speaks the kernel's offloads
// (virtio_net_hdr before each packet, TUN_F_CSUM, TUN_F_TSO4/6): TCP
// data crosses the device as GSO super-packets of up to 64 KiB, the
// kernel hands us its TCP data in such super-packets too, and checksums
// are left to whoever reads the packet last. A stack that builds its
// super-segments itself hands them over through WritePacketsGSO
// (link.GSOEndpoint; gso_super.go); runs of separate segments of one flow
// written in one batch are coalesced into one (gso_coalesce.go). See
// offload_linux.go; the vnet header itself is package vnethdr.
package tun
