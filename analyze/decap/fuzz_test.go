package decap

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzDecode from the seeds")

// fuzzLinks are the link types a fuzz input picks from by its first byte.
var fuzzLinks = []int{LinkRaw, LinkEthernet, LinkNull, LinkPPP, LinkFDDI, LinkCiscoHDLC, LinkLinuxSLL,
	LinkLinuxSLL2, LinkNFLOG, Link80211, LinkRadiotap, LinkPPI, Link802154FCS, Link802154NoFCS}

// fuzzInput joins frames as FuzzDecode reads them: per frame, the index
// of its link type in fuzzLinks (1), its length (2), its bytes.
func fuzzInput(frames ...any) []byte {
	var out []byte
	for i := 0; i < len(frames); i += 2 {
		lt, f := frames[i].(int), frames[i+1].([]byte)
		idx := 0
		for j, l := range fuzzLinks {
			if l == lt {
				idx = j
			}
		}
		out = append(out, byte(idx))
		out = binary.BigEndian.AppendUint16(out, uint16(len(f)))
		out = append(out, f...)
	}
	return out
}

// decodeSeeds are frames of every kind the Decoder opens.
func decodeSeeds(t testing.TB) map[string][]byte {
	ip4, ip6 := tcpPacket(t, false, 40), tcpPacket(t, true, 40)
	seeds := map[string][]byte{
		"vlan_vxlan":  fuzzInput(LinkEthernet, eth(0x8100, cat(u16(5), u16(0x0800), ipv4(17, udp(4789, cat([]byte{8, 0, 0, 0, 0, 0, 42, 0}, eth(0x0800, ip4))))))),
		"gre_erspan2": fuzzInput(LinkRaw, ipv4(47, cat(u16(0x1000), u16(0x88be), make([]byte, 4), u16(0x1000), make([]byte, 6), eth(0x86dd, ip6)))),
		"geneve":      fuzzInput(LinkRaw, ipv6(17, udp(6081, cat([]byte{1, 0}, u16(0x6558), u32(42<<8), make([]byte, 4), eth(0x0800, ip4))))),
		"mpls_pppoe":  fuzzInput(LinkEthernet, eth(0x8847, cat(u32(16<<12|1<<8|64), u32(0), eth(0x8864, cat([]byte{0x11, 0}, u16(1), u16(0), u16(0x57), ip6))))),
		"radiotap":    fuzzInput(LinkRadiotap, cat([]byte{0, 0, 8, 0, 0, 0, 0, 0}, wifiData(ip4))),
		"nflog":       fuzzInput(LinkNFLOG, cat([]byte{10, 0, 0, 0}, binary.LittleEndian.AppendUint16(nil, uint16(4+len(ip6))), []byte{9, 0}, ip6)),
		"wpan":        fuzzInput(Link802154NoFCS, cat([]byte{0x41, 0x88, 1, 0xcd, 0xab, 1, 0, 2, 0, 0x41}, ip6)),
		"sll_pbb":     fuzzInput(LinkLinuxSLL, cat(u16(0), u16(1), u16(6), make([]byte, 8), u16(0x88e7), u32(1), eth(0x0800, ip4))),
		"ppp_6in4":    fuzzInput(LinkPPP, cat([]byte{0xff, 3}, u16(0x21), ipv4(41, ip6))),
	}
	var frags []any
	for _, f := range frag4(ip4, 16) {
		frags = append(frags, LinkRaw, f)
	}
	for _, f := range frag6(ip6, 16, 5) {
		frags = append(frags, LinkRaw, f)
	}
	frags = append(frags, LinkRaw, frag6(ip6, 1000, 6)[0])
	seeds["fragments"] = fuzzInput(frags...)
	return seeds
}

// FuzzDecode feeds arbitrary frames: the Decoder must never panic, hand
// back more than an IP packet can hold, or keep more than its limits.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{Datagrams: 4, Bytes: 2048}
		d := New(lim)
		frames := 0
		for n := int64(0); len(data) >= 3; n++ {
			lt := fuzzLinks[int(data[0])%len(fuzzLinks)]
			l := min(int(binary.BigEndian.Uint16(data[1:])), len(data)-3)
			frame := data[3 : 3+l]
			data = data[3+l:]
			frames++
			got := d.Decode(lt, n*1e9, frame)
			if len(got) > 65535+40 && len(got) > len(frame) {
				t.Fatalf("a packet of %d bytes from a frame of %d", len(got), len(frame))
			}
			if dg, b := d.Pending(); dg > lim.Datagrams || b > lim.Bytes {
				t.Fatalf("%d datagrams, %d bytes pending", dg, b)
			}
		}
		d.Flush()
		if dg, b := d.Pending(); dg != 0 || b != 0 {
			t.Fatalf("after Flush %d datagrams, %d bytes pending", dg, b)
		}
		skipped := 0
		for _, n := range d.Skipped() {
			skipped += n
		}
		if fr, _ := d.Fragments(); skipped > frames+fr {
			t.Fatalf("%d skipped of %d frames and %d fragments", skipped, frames, fr)
		}
	})
}

// The committed seed corpus is decodeSeeds; -update-corpus rewrites it.
func TestFuzzDecodeCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecode")
	for name, data := range decodeSeeds(t) {
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		path := filepath.Join(dir, name)
		if *updateCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (go test ./analyze/decap -run FuzzDecodeCorpus -update-corpus): %v", name, err)
		}
	}
}
