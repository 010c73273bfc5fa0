package udp

import (
	"bytes"
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
// works in two parts: tshark reads the IPv4/UDP packet around the datagram
// Encap builds (UDP ports of the encapsulation, length, UDP checksum: RFC
// 6773 §3.1, §3.3), and the IP packet of protocol 33 that our receiving
// side rebuilds from the datagram's payload (Wrap): a DCCP packet with our
// ports, type, sequence number and service code, whose checksum Wrap has
// rewritten over those addresses (the one sent is zero and ignored on
// receipt, §3.3).

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

// TestTshark_DCCPUDPEncoding: a Request and two DataAcks as the stack
// builds them, encapsulated by Encap; the last one's UDP checksum is
// corrupted to prove the comparison live (a receiver drops it, §3.3).
func TestTshark_DCCPUDPEncoding(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:40000")
	dst := netip.MustParseAddrPort("127.0.0.2:6511") // Port, RFC 6773 §7.1
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
		u := make([]byte, 8+n)
		if _, err := Encap(u, src, dst, d[:n]); err != nil {
			t.Fatal(err)
		}
		if i == 2 {
			u[6] ^= 1 // corrupt the UDP checksum
		}
		outer = append(outer, ipv4(t, src.Addr(), dst.Addr(), 17, u))
		b := make([]byte, 512)
		m, ok := Wrap(b, src.Addr(), dst.Addr(), u[8:])
		if !ok {
			t.Fatalf("Wrap refused packet %d", i)
		}
		inner = append(inner, b[:m])
	}
	lo := tsharkJSON(t, outer)
	li := tsharkJSON(t, inner)
	if len(lo) != len(hs) || len(li) != len(hs) {
		t.Fatalf("tshark read %d and %d packets, want %d", len(lo), len(li), len(hs))
	}
	for i, h := range hs {
		status := "1" // Good
		if i == 2 {
			status = "0" // Bad
		}
		want := map[string]string{"udp.srcport": "40000", "udp.dstport": "6511", "udp.checksum.status": status,
			"udp.length": fmt.Sprint(len(outer[i]) - wire.IPv4MinLen)}
		for k, v := range want {
			if got, _ := field(lo[i], k); got != v {
				t.Errorf("packet %d, outer: %s = %q, want %q", i, k, got, v)
			}
		}
		want = map[string]string{
			"dccp.srcport": "5001", "dccp.dstport": "7", "dccp.type": fmt.Sprint(int(h.Type)),
			"dccp.seq_raw": fmt.Sprint(uint64(h.Seq)), "dccp.checksum.status": "1", // seq_raw: tshark 4.0 with X = 1
		}
		if h.Type == wire.DCCPRequest {
			want["dccp.service_code"] = "42"
		}
		for k, v := range want {
			if got, _ := field(li[i], k); got != v {
				t.Errorf("packet %d, DCCP as the receiver rebuilds it: %s = %q, want %q", i, k, got, v)
			}
		}
	}
}
