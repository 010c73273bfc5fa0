// Package udp is DCCP over UDP (DCCP-UDP, RFC 6773) as a link.Endpoint:
// the stack's DCCP packets travel inside UDP datagrams over a real UDP
// socket, so that two stacks — in one process or in two — speak DCCP
// without root, a TUN device or a DCCP-capable kernel.
//
// Layer and rules: this package sits beside link/tun under stack/. The
// stack hands it IP packets; it sends only their DCCP part (generic
// header, options, payload) as the UDP payload, as RFC 6773 §3.1 lays the
// DCCP-UDP header out: the UDP header followed by the DCCP generic header,
// whose ports still name the DCCP connection while the UDP ports name the
// encapsulation endpoints (default port 6511, the IANA port for
// DCCP-UDP). On receipt it rebuilds an IP header from the datagram's
// addresses (protocol 33) and delivers the packet to the stack, which
// checks the DCCP checksum over the usual pseudo-header (RFC 4340 §9.1).
// The inner addresses are therefore the UDP socket's: a stack on this
// link uses the IP address its UDP socket is bound to.
//
// Packets other than DCCP, datagrams shorter than a DCCP generic header
// and datagrams from addresses of another family are counted and dropped.
package udp
