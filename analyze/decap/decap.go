// Package decap finds the IP packet a captured frame carries. It strips
// the link-layer headers of the link types Wireshark and Zeek read TCP/IP
// from, opens the common encapsulations and tunnels (VLAN tags, MPLS,
// PPPoE, PBB, GRE with ERSPAN and Ethernet bridging, VXLAN, Geneve,
// CAPWAP data, IP in IP), and reassembles IPv4 and IPv6 fragments in
// bounded memory. What it cannot open is counted by reason, never an
// error: a capture is data, and bad data is counted and dropped.
//
// It sits below analyze and above link/pcap's frames; it keeps no state
// but pending fragments, and nothing it returns outlives the next call.
package decap

import (
	"strconv"
)

// Link types (tcpdump.org's LINKTYPE_ registry, with the DLT_ values some
// systems write into files instead).
const (
	LinkNull        = 0   // BSD loopback: 4-byte address family in the writer's byte order
	LinkEthernet    = 1   // Ethernet II or 802.3
	LinkPPP         = 9   // PPP, optionally with HDLC address and control
	LinkFDDI        = 10  // FDDI (some writers put raw IP here; told apart by the first nibble)
	LinkRawDLT12    = 12  // raw IP as DLT_RAW on most systems
	LinkRawDLT14    = 14  // raw IP as DLT_RAW on OpenBSD
	LinkPPPHDLC     = 50  // PPP in HDLC-like framing
	LinkRaw         = 101 // raw IPv4 or IPv6
	LinkCiscoHDLC   = 104 // Cisco HDLC: address, control, EtherType
	Link80211       = 105 // IEEE 802.11 without radio header
	LinkLoop        = 108 // OpenBSD loopback: family in network byte order
	LinkLinuxSLL    = 113 // Linux cooked capture v1
	LinkRadiotap    = 127 // radiotap header, then 802.11
	LinkPPI         = 192 // Per-Packet Information header, then its own link type
	Link802154FCS   = 195 // IEEE 802.15.4 with FCS
	LinkIPv4        = 228 // raw IPv4
	LinkIPv6        = 229 // raw IPv6
	Link802154NoFCS = 230 // IEEE 802.15.4 without FCS
	LinkNFLOG       = 239 // Linux netfilter NFLOG
	LinkLinuxSLL2   = 276 // Linux cooked capture v2
)

// Limits bound the memory fragment reassembly may hold. The zero value
// selects the defaults.
type Limits struct {
	// Datagrams bounds the datagrams waiting for fragments (default 256).
	Datagrams int
	// Bytes bounds the fragment bytes held in all of them (default 4 MiB).
	Bytes int
	// TimeoutNs is how long, in capture time, a datagram may wait for its
	// fragments: default 30 s for IPv4 (Linux's ipfrag_time) and 60 s for
	// IPv6 (RFC 8200 §4.5).
	TimeoutNs int64
}

// maxDepth bounds how many headers one frame may nest.
const maxDepth = 16

// Decoder decodes frames one at a time. Its zero value is not usable:
// call New.
type Decoder struct {
	skipped   map[string]int
	opened    map[string]int
	fragments int // fragment packets taken in
	reasm     reasm
	now       int64
}

// New returns a Decoder with the given reassembly limits.
func New(l Limits) *Decoder {
	d := &Decoder{skipped: map[string]int{}, opened: map[string]int{}}
	d.reasm.init(l)
	return d
}

// Decode returns the innermost IP packet of a frame of the given link type
// captured at time t (nanoseconds): a packet whose payload is neither a
// tunnel nor a fragment. It returns nil when the frame is skipped (counted
// in Skipped by reason) or is a fragment held until its datagram is whole;
// the fragment that completes a datagram returns the whole datagram. The
// result may alias frame and is valid until the next call.
func (d *Decoder) Decode(linkType int, t int64, frame []byte) []byte {
	d.now = t
	d.reasm.expire(d, t)
	ip, why := d.link(linkType, frame, 0)
	if why != "" {
		d.skip(why, 1)
		return nil
	}
	return ip
}

// Flush ends the capture: datagrams still missing fragments are dropped
// and their fragments counted as "fragment_incomplete".
func (d *Decoder) Flush() {
	d.reasm.dropAll(d, "fragment_incomplete")
}

// Skipped returns how many packets were skipped, by reason (a fresh map).
func (d *Decoder) Skipped() map[string]int { return clone(d.skipped) }

// Opened returns how many headers of each encapsulation were opened
// (vlan, mpls, pppoe, gre, vxlan ...; two VLAN tags count two), as a
// fresh map.
func (d *Decoder) Opened() map[string]int { return clone(d.opened) }

// Fragments returns how many IP fragments were taken in, and how many
// whole datagrams they gave back.
func (d *Decoder) Fragments() (fragments, reassembled int) { return d.fragments, d.reasm.done }

// Pending returns the datagrams and bytes reassembly holds now.
func (d *Decoder) Pending() (datagrams, bytes int) { return len(d.reasm.list), d.reasm.bytes }

func (d *Decoder) skip(why string, n int) { d.skipped[why] += n }
func (d *Decoder) open(what string)       { d.opened[what]++ }

func clone(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Reasons a packet is skipped. Link types are named by number.
const (
	WhyTruncated      = "truncated_headers"     // the frame ends inside a link or tunnel header
	WhyNotIP          = "not_ip"                // a frame of a protocol other than IP (ARP, LLDP, STP ...)
	WhyNested         = "nested_too_deep"       // more than 16 headers deep
	WhyWiFiNotData    = "wifi_not_data"         // 802.11 management or control frame, or data without payload
	WhyWiFiProtected  = "wifi_protected"        // 802.11 frame encrypted (WEP/WPA): the payload cannot be read
	WhyWPANNotIPv6    = "ieee802154_not_ipv6"   // 802.15.4 frame without uncompressed IPv6 (6LoWPAN IPHC is not decoded)
	WhyGRE            = "gre_unsupported"       // a GRE version, flag or protocol not opened
	WhyCAPWAPFragment = "capwap_fragment"       // a fragmented CAPWAP data packet
	WhyBadFragment    = "fragment_bad"          // a fragment whose offset and length overrun 65535 or a bad header
	WhyFragOverlap    = "fragment_overlap"      // fragments overlapping with different bytes (RFC 5722): the datagram dropped
	WhyFragTimeout    = "fragment_timeout"      // fragments of a datagram not whole within the timeout
	WhyFragLimit      = "fragment_memory_limit" // fragments dropped to keep reassembly within its limits
)

// whyLinkType names an unsupported link type.
func whyLinkType(lt int) string { return "link_type_" + strconv.Itoa(lt) }
