// Package pcap writes and reads packet captures.
//
// Writer writes the classic pcap format with nanosecond timestamps (magic
// 0xa1b23c4d) and link type LINKTYPE_RAW (101), whose records are bare IPv4
// or IPv6 packets: Wireshark, tshark and tcpdump open it. A Tap records
// everything that crosses a link.Endpoint.
//
// Reader reads classic pcap (either byte order, micro- or nanosecond
// timestamps) and pcapng, from us or from tcpdump and Wireshark, and
// strips the link-layer header of the common link types so that every
// Packet is an IP packet.
package pcap
