// Package gvtun is a gVisor link endpoint over a Linux TUN device opened
// with the kernel's offloads (IFF_VNET_HDR, TUN_F_CSUM|TSO4|TSO6): gVisor
// as tailscale runs it, for the TUN benchmark to compare against.
//
// Tailscale's netstack link (wgengine/netstack/link_endpoint.go) declares
// host GSO with a 64 KiB limit, so that gVisor's TCP hands it TSO
// super-segments whose checksum is left partial (the pseudo-header sum
// only), and the RX checksum offload capability, so that gVisor verifies
// no checksum of what the link delivers; it runs gVisor's GRO on the
// inbound path. Over a TUN device that is what the device's offloads are
// for, and this endpoint does it directly:
//
//   - outbound, each packet gVisor writes goes to the device in one
//     writev(2) behind a virtio_net_hdr made from its GSO options:
//     NEEDS_CSUM with csum_start at the end of the IP header and
//     csum_offset 16 (TCP's checksum field); a packet longer than one MSS
//     also gets gso_type TCPV4/TCPV6, gso_size = MSS and hdr_len, and the
//     kernel takes it as the segments it stands for;
//   - inbound, one reader goroutine reads until the device is empty, each
//     read a vnet header and one packet (the kernel's TCP super-packets
//     of up to 64 KiB arrive whole), and hands the packets through
//     gVisor's GRO to the stack, flushing after each batch. A packet the
//     kernel marked NEEDS_CSUM or DATA_VALID is not verified again (its
//     sender is the local kernel, whose checksum it offloaded); any other
//     has its IPv4 header and TCP/UDP checksum verified in software before
//     delivery, as tailscale does for what it injects, because the
//     capability tells gVisor to trust every packet.
//
// A super-packet is read into a 64 KiB view of gVisor's buffer pool and
// handed over without a copy; small packets are copied into a view of
// their size so the large one is kept for the next read.
//
// The vnet header's codec and checks and the writev(2) are link/tun's,
// from package vnethdr, so both endpoints speak the device the same way.
package gvtun
