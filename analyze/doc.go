// Package analyze reads a packet capture (pcap or pcapng, written by
// teardown, tcpdump or Wireshark) and explains how each TCP and DCCP
// connection in it was set up and how it ended, with the findings a person
// debugging a production teardown wants: an RST that discarded the peer's
// unread data (RFC 2525 §2.17), data after FIN, a FIN never acknowledged,
// DCCP Close ping-pong, and so on, each with the packet numbers involved.
//
// It sits above link/pcap (which reads the file), analyze/decap (which
// strips link-layer headers, opens tunnels and reassembles fragments) and
// internal/wire (which decodes every packet); it keeps no state but the
// capture's own, reads the capture as a stream, and never touches the
// network. Bad input is counted in Report.Counts and never
// panics. Captures of the kernel's own traffic on lo or veth carry
// unfinished checksums (checksum offload), so a bad checksum is counted,
// not dropped, unless Options.DropBadChecksums is set.
//
// Packet numbers are the 1-based record numbers of the file (what
// Wireshark calls frame numbers); times are nanoseconds since the first
// packet of the capture.
package analyze
