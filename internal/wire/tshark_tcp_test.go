package wire

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// TestTsharkAgreesTCP writes varied TCP segments over IPv4 and IPv6 to a
// pcap and checks that tshark, an independent decoder, reads back the
// meaning each was built from: ports, raw sequence and acknowledgment
// numbers, flags, window, urgent pointer, every option (SACK edges raw),
// the payload length, and good IP and TCP checksums.
func TestTsharkAgreesTCP(t *testing.T) {
	tsharkPath(t)
	cases := tcpCases()
	// Every value of the flags byte, over IPv4 with timestamps and over
	// IPv6 without options.
	for f := range 256 {
		c := tcpCase{name: fmt.Sprintf("v4-flags-%#02x", f), src: tcpTestSrc4, dst: tcpTestDst4,
			h: TCPHeader{SrcPort: 1000 + uint16(f), DstPort: 443, Seq: 0x01020304, Ack: 0x05060708,
				Flags: TCPFlags(f), Window: uint16(f) * 251,
				Options: TCPOptions{HasTimestamp: true, TSVal: uint32(f), TSEcr: uint32(f) << 24}}}
		if f&1 == 1 {
			c.src, c.dst, c.name = tcpTestSrc6, tcpTestDst6, fmt.Sprintf("v6-flags-%#02x", f)
			c.h.Options = TCPOptions{}
			c.payload = []byte{byte(f)}
		}
		cases = append(cases, c)
	}
	pkts := make([][]byte, len(cases))
	for i, c := range cases {
		pkts[i] = c.build(t)
	}
	// One SYN whose window scale option (NOP, WS) is replaced by an
	// experimental option (kind 253, RFC 6994) that only the iterator knows.
	exp := cases[0]
	exp.name = "v4-syn-experimental-option"
	pkt := exp.build(t)
	copy(pkt[len(pkt)-4:], "\xfd\x04\xaa\xbb")
	TCP(pkt[IPv4MinLen:]).SetChecksum(exp.src, exp.dst)
	exp.h.Options.HasWScale, exp.h.Options.WScale = false, 0
	cases, pkts = append(cases, exp), append(pkts, pkt)
	// The hand-written golden SYN, whose checksums were computed outside Go.
	golden := tcpCase{name: "v4-golden-syn", src: tcpTestSrc4, dst: tcpTestDst4, h: tcpGoldenHeader()}
	cases = append(cases, golden)
	pkts = append(pkts, append(append([]byte(nil), ipv4GoldenHeader...), tcpGoldenSYN...))
	layers := tsharkLayers(t, tsharkWritePcap(t, pkts),
		"tcp.check_checksum:TRUE", "ip.check_checksum:TRUE",
		"tcp.relative_sequence_numbers:FALSE", "tcp.analyze_sequence_numbers:FALSE")
	if len(layers) != len(cases) {
		t.Fatalf("tshark read %d packets, wrote %d", len(layers), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) { tsharkCheckTCP(t, layers[i], c, pkts[i]) })
	}
}

// tsharkCheckTCP compares one packet's tshark fields with the case it was
// built from.
func tsharkCheckTCP(t *testing.T, l map[string]any, c tcpCase, pkt []byte) {
	tcp, ok := l["tcp"]
	if !ok {
		t.Fatalf("tshark found no TCP layer; layers %v", tsharkKeys(l))
	}
	o := &c.h.Options
	ipLen := IPv6HeaderLen
	if c.src.Is4() {
		ipLen = IPv4MinLen
	}
	want := map[string]string{
		"tcp.srcport":           tsharkUint(c.h.SrcPort),
		"tcp.dstport":           tsharkUint(c.h.DstPort),
		"tcp.seq_raw":           tsharkUint(uint32(c.h.Seq)),
		"tcp.ack_raw":           tsharkUint(uint32(c.h.Ack)),
		"tcp.window_size_value": tsharkUint(c.h.Window),
		"tcp.urgent_pointer":    tsharkUint(c.h.Urgent),
		"tcp.len":               strconv.Itoa(len(c.payload)),
		"tcp.hdr_len":           strconv.Itoa(len(pkt) - ipLen - len(c.payload)),
		"tcp.checksum.status":   "1", // Wireshark's PROTO_CHECKSUM_E_GOOD
	}
	if o.HasMSS {
		want["tcp.options.mss_val"] = tsharkUint(o.MSS)
	}
	if o.HasWScale {
		want["tcp.options.wscale.shift"] = tsharkUint(o.WScale)
	}
	if o.HasTimestamp {
		want["tcp.options.timestamp.tsval"] = tsharkUint(o.TSVal)
		want["tcp.options.timestamp.tsecr"] = tsharkUint(o.TSEcr)
	}
	for name, w := range want {
		if got, ok := tsharkField(t, tcp, name); !ok || got != w {
			t.Errorf("%s: tshark reads %q (present %v), built %q", name, got, ok, w)
		}
	}
	flags, ok := tsharkField(t, tcp, "tcp.flags")
	if f, err := strconv.ParseUint(flags, 0, 16); !ok || err != nil || TCPFlags(f&0xff) != c.h.Flags {
		t.Errorf("tcp.flags: tshark reads %q, built %#02x (%v)", flags, uint8(c.h.Flags), c.h.Flags)
	}
	tsharkCheckSACK(t, tcp, o)
	tsharkCheckIP(t, l, c)
	tsharkCheckOptionKinds(t, tcp, pkt)
}

// tsharkCheckOptionKinds checks that TCPOptionIter yields the same option
// kinds, NOPs and unknown kinds included, as tshark lists (compared as
// sorted lists: the JSON does not keep the order across option types).
func tsharkCheckOptionKinds(t *testing.T, tcp any, pkt []byte) {
	p, err := ParseIP(pkt)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	it := NewTCPOptionIter(TCP(p.Payload).Options())
	for kind, _, ok := it.Next(); ok; kind, _, ok = it.Next() {
		ours = append(ours, tsharkUint(kind))
	}
	theirs := tsharkFields(tcp, "tcp.option_kind")
	slices.Sort(ours)
	slices.Sort(theirs)
	if it.Err() != nil || !slices.Equal(ours, theirs) {
		t.Errorf("option kinds: iterator %v (err %v), tshark %v", ours, it.Err(), theirs)
	}
}

// tsharkUint spells an unsigned number in decimal, as tshark prints it.
func tsharkUint[T uint8 | uint16 | uint32](v T) string { return strconv.FormatUint(uint64(v), 10) }

// tsharkCheckSACK checks which options tshark sees and the SACK edges.
func tsharkCheckSACK(t *testing.T, tcp any, o *TCPOptions) {
	for name, has := range map[string]bool{
		"tcp.options.mss_val": o.HasMSS, "tcp.options.wscale.shift": o.HasWScale,
		"tcp.options.sack_perm": o.SACKPermitted, "tcp.options.timestamp.tsval": o.HasTimestamp,
		"tcp.options.sack_le": o.NumSACK > 0,
	} {
		if got := len(tsharkFields(tcp, name)) > 0; got != has {
			t.Errorf("%s: tshark sees it %v, built %v", name, got, has)
		}
	}
	le, re := tsharkFields(tcp, "tcp.options.sack_le"), tsharkFields(tcp, "tcp.options.sack_re")
	if len(le) != o.NumSACK || len(re) != o.NumSACK {
		t.Fatalf("SACK: tshark reads %d left and %d right edges, built %d blocks", len(le), len(re), o.NumSACK)
	}
	for i, b := range o.SACKBlocks() {
		if le[i] != tsharkUint(uint32(b.Left)) || re[i] != tsharkUint(uint32(b.Right)) {
			t.Errorf("SACK block %d: tshark reads [%s, %s), built [%d, %d)", i, le[i], re[i], b.Left, b.Right)
		}
	}
}

// tsharkCheckIP checks the IP layer: addresses and a good IPv4 checksum.
func tsharkCheckIP(t *testing.T, l map[string]any, c tcpCase) {
	ipLayer, ipCheck := "ipv6", ""
	if c.src.Is4() {
		ipLayer, ipCheck = "ip", "ip.checksum.status"
	}
	ip, ok := l[ipLayer]
	if !ok {
		t.Fatalf("tshark found no %s layer; layers %v", ipLayer, tsharkKeys(l))
	}
	if ipCheck != "" {
		if got, _ := tsharkField(t, ip, ipCheck); got != "1" {
			t.Errorf("%s = %q, want 1 (good)", ipCheck, got)
		}
	}
	if got, _ := tsharkField(t, ip, ipLayer+".src"); got != c.src.String() {
		t.Errorf("%s.src = %q, want %v", ipLayer, got, c.src)
	}
	if got, _ := tsharkField(t, ip, ipLayer+".dst"); got != c.dst.String() {
		t.Errorf("%s.dst = %q, want %v", ipLayer, got, c.dst)
	}
}
