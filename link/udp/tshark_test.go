package udp

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// tshark (Wireshark 4.0) registers DCCP on IP protocol 33 only: it has no
// "decode UDP port 6511 as DCCP", and neither has tcpdump. So the judge
// works in two parts, on the datagram exactly as WritePackets hands it to
// the socket: tshark reads the kernel's IPv4/UDP packet around it (UDP
// ports of the encapsulation, length, UDP checksum), and the UDP payload
// behind an IP header of protocol 33 between the same addresses, which is
// what our receiving side rebuilds (Wrap): tshark must read a DCCP packet
// with our ports, type, sequence number and service code and find its
// checksum correct over the pseudo-header of those addresses (RFC 4340
// §9.1 over the encapsulating addresses, our rule; docs/dccp.md says
// what stays to check against RFC 6773 §3.5).

// onesSum is the Internet checksum's one's-complement sum of b.
func onesSum(sum uint32, b []byte) uint32 {
	for len(b) >= 2 {
		sum += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// ipv4 wraps payload in an IPv4 header of protocol proto.
func ipv4(t *testing.T, src, dst netip.Addr, proto uint8, payload []byte) []byte {
	t.Helper()
	b := make([]byte, wire.IPv4MinLen+len(payload))
	h := wire.IPv4Header{Src: src, Dst: dst, Protocol: proto, TTL: wire.DefaultTTL}
	if _, err := h.Encode(b, len(payload)); err != nil {
		t.Fatal(err)
	}
	copy(b[wire.IPv4MinLen:], payload)
	return b
}

// onTheWire is the IPv4 packet the kernel sends for one DCCP-UDP datagram:
// the UDP header between the encapsulation's ports, with its checksum
// (RFC 768; the kernel always fills it in for IPv4 sockets), then the
// DCCP packet.
func onTheWire(t *testing.T, src, dst netip.AddrPort, dccp []byte) []byte {
	t.Helper()
	udp := make([]byte, 8+len(dccp))
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	copy(udp[8:], dccp)
	s4, d4 := src.Addr().As4(), dst.Addr().As4()
	pseudo := append(append(append([]byte{}, s4[:]...), d4[:]...), 0, 17, byte(len(udp)>>8), byte(len(udp)))
	sum := fold(onesSum(onesSum(0, pseudo), udp))
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
	return ipv4(t, src.Addr(), dst.Addr(), 17, udp)
}

// tsharkJSON runs tshark on pkts and returns each packet's layers.
func tsharkJSON(t *testing.T, pkts [][]byte) []map[string]any {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("SKIPPING: tshark not installed: install it with apt-get install tshark (CI does)")
	}
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range pkts {
		if err := w.WritePacket(clock.Instant(1_700_000_000_000_000_000+int64(i)*1000), p); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "dccp-udp.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-r", path, "-T", "json", "--no-duplicate-keys",
		"-o", "dccp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "dccp.relative_sequence_numbers:FALSE").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	var res []struct {
		Source struct {
			Layers map[string]any `json:"layers"`
		} `json:"_source"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	layers := make([]map[string]any, len(res))
	for i, r := range res {
		layers[i] = r.Source.Layers
	}
	return layers
}

// field finds the first value of a dotted Wireshark field name anywhere
// in v.
func field(v any, name string) (string, bool) {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x[name]; ok {
			return fmt.Sprint(s), true
		}
		for _, c := range x {
			if s, ok := field(c, name); ok {
				return s, true
			}
		}
	case []any:
		for _, c := range x {
			if s, ok := field(c, name); ok {
				return s, true
			}
		}
	}
	return "", false
}

// TestTshark_DCCPUDPEncoding: a Request and a DataAck as the stack builds
// them on a DCCP-UDP link (checksum over the UDP sockets' addresses), one
// with a corrupted DCCP checksum to prove the comparison live.
func TestTshark_DCCPUDPEncoding(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	dst := netip.MustParseAddrPort("127.0.0.2:6511") // Port, RFC 6773 §7
	hs := []wire.DCCPHeader{
		{SrcPort: 5001, DstPort: 7, Type: wire.DCCPRequest, X: true, Seq: 7, ServiceCode: 42},
		{SrcPort: 5001, DstPort: 7, Type: wire.DCCPDataAck, X: true, Seq: 8, Ack: 9},
		{SrcPort: 5001, DstPort: 7, Type: wire.DCCPDataAck, X: true, Seq: 9, Ack: 9},
	}
	var outer, inner [][]byte
	for i, h := range hs {
		d := make([]byte, 256)
		n, err := wire.BuildDCCP(d, &h, []byte("datagram"), src.Addr(), dst.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			d[6] ^= 1 // corrupt the DCCP checksum
		}
		outer = append(outer, onTheWire(t, src, dst, d[:n]))
		inner = append(inner, ipv4(t, src.Addr(), dst.Addr(), wire.IPProtoDCCP, d[:n]))
	}
	lo := tsharkJSON(t, outer)
	li := tsharkJSON(t, inner)
	if len(lo) != len(hs) || len(li) != len(hs) {
		t.Fatalf("tshark read %d and %d packets, want %d", len(lo), len(li), len(hs))
	}
	for i, h := range hs {
		want := map[string]string{"udp.srcport": "40000", "udp.dstport": "6511", "udp.checksum.status": "1"}
		for k, v := range want {
			if got, _ := field(lo[i], k); got != v {
				t.Errorf("packet %d, outer: %s = %q, want %q", i, k, got, v)
			}
		}
		wantStatus := "1" // Good
		if i == 2 {
			wantStatus = "0" // Bad
		}
		want = map[string]string{
			"dccp.srcport": "5001", "dccp.dstport": "7", "dccp.type": fmt.Sprint(int(h.Type)),
			"dccp.seq_raw": fmt.Sprint(uint64(h.Seq)), "dccp.checksum.status": wantStatus, // seq_raw: tshark 4.0 with X = 1
		}
		if h.Type == wire.DCCPRequest {
			want["dccp.service_code"] = "42"
		}
		if i == 2 { // tshark stops at the bad checksum
			want = map[string]string{"dccp.checksum.status": wantStatus}
		}
		for k, v := range want {
			if got, _ := field(li[i], k); got != v {
				t.Errorf("packet %d, DCCP in the UDP payload: %s = %q, want %q", i, k, got, v)
			}
		}
	}
}
