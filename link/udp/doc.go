// Package udp is DCCP over UDP (DCCP-UDP, RFC 6773) as a link.Endpoint:
// the stack's DCCP packets travel inside UDP datagrams over a real UDP
// socket, so that two stacks — in one process or in two — speak DCCP
// without root, a TUN device or a DCCP-capable kernel, and through NATs
// that know only UDP.
//
// Layer and rules: this package sits beside link/tun under stack/. The
// stack hands it IP packets; it sends only their DCCP part (generic
// header, options, payload) as the UDP payload (RFC 6773 §3): the UDP
// ports name the encapsulation endpoints (§3.1; default listening port
// 6511, §3.8, §7.1), the DCCP ports inside still name the connection.
// Checksums follow §3.3: the UDP checksum does the DCCP checksum's work,
// so the DCCP Checksum field is sent as zero and ignored on receipt; the
// UDP checksum is never zero, and a datagram with a zero or bad one is
// dropped (by the kernel here: sock_linux.go) and counted. On receipt the
// endpoint rebuilds an IP header from the datagram's addresses (protocol
// 33) and writes the DCCP checksum the stack's check expects over them
// (Wrap), so a NAT that rewrote the outer addresses or ports does not
// break the connection. The inner addresses are therefore the outer ones:
// a stack on this link uses the IP address its UDP socket is bound to.
// Each active DCCP 4-tuple is bound to one UDP peer (§3.8, flows.go).
// Encap and Decap apply the same rules to whole UDP datagrams.
//
// Packets other than DCCP, datagrams whose DCCP header does not fit and
// datagrams from addresses of another family are counted and dropped.
package udp
