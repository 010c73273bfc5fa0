package wire

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestWriteTCPIPFuzzCorpus regenerates the committed seed corpus of the
// IP and TCP fuzz targets under testdata/fuzz when run with
// WIRE_WRITE_TCP_CORPUS=1; otherwise it checks that every seed it would
// write is present with the same bytes.
func TestWriteTCPIPFuzzCorpus(t *testing.T) {
	write := os.Getenv("WIRE_WRITE_TCP_CORPUS") == "1"
	for target, seeds := range tcpCorpusSeeds(t) {
		dir := filepath.Join("testdata", "fuzz", target)
		if write {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for name, b := range seeds {
			path := filepath.Join(dir, name)
			want := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
			if write {
				if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			if got, err := os.ReadFile(path); err != nil || string(got) != want {
				t.Errorf("%s is missing or stale (%v): run WIRE_WRITE_TCP_CORPUS=1 go test -run TestWriteTCPIPFuzzCorpus", path, err)
			}
		}
	}
}

// tcpCorpusSeeds returns, per fuzz target, named seed inputs: every case
// of tcpCases (SYN, SYN-ACK, FIN, RST, data, option-heavy) and the shapes
// that must be rejected (fragments, extension headers, junk).
func tcpCorpusSeeds(t *testing.T) map[string]map[string][]byte {
	v4, v6 := map[string][]byte{}, map[string][]byte{}
	segs, opts := map[string][]byte{}, map[string][]byte{}
	for _, c := range tcpCases() {
		b := c.build(t)
		if c.src.Is4() {
			v4[c.name] = b
		} else {
			v6[c.name] = b
		}
		p, _ := ParseIP(b)
		segs[c.name] = p.Payload
		if o := TCP(p.Payload).Options(); len(o) > 0 {
			opts[c.name] = o
		}
	}
	syn4 := v4["v4-syn"]
	tcpCorpusIPv4Rejects(v4, syn4)
	tcpCorpusIPv6Shapes(v6, v6["v6-syn"])

	junk := map[string][]byte{
		"empty": {}, "one-byte": {0x45}, "zeros-60": make([]byte, 60),
		"ff-60": func() []byte {
			b := make([]byte, 60)
			for i := range b {
				b[i] = 0xff
			}
			return b
		}(),
		"version-5":      append([]byte{0x55}, syn4[1:]...),
		"version-6-junk": append([]byte{0x60, 0, 0, 0, 0, 0x14, 0x2b, 0x01}, syn4...),
	}
	ip := map[string][]byte{}
	for _, m := range []map[string][]byte{v4, v6, junk} {
		for k, v := range m {
			ip[k] = v
		}
	}
	for k, v := range junk {
		v4[k], v6[k], segs[k] = v, v, v
	}
	segs["offset-4"] = func() []byte { b := append([]byte(nil), segs["v4-rst"]...); b[12] = 0x40; return b }()
	segs["offset-past-end"] = func() []byte { b := append([]byte(nil), segs["v4-rst"]...); b[12] = 0xf0; return b }()
	for i, raw := range []string{
		"", "\x00", "\x01\x01\x01", "\x02", "\x02\x00", "\x02\x04\x05", "\x03\x02",
		"\x05\x02", "\x05\x0a\x00\x00\x00\x01\x00\x00\x00\x02", "\x05\x2a" + string(make([]byte, 40)),
		"\x08\x09\x00\x00\x00\x01\x00\x00\x00", "\x1e\x04\xaa\xbb\x00\x02\x01",
		"\xfe\x02\x01\x02\x04\x02\x18", "\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x02\x01\x03\x03\x0e",
	} {
		opts[fmt.Sprintf("raw-%02d", i)] = []byte(raw)
	}
	return map[string]map[string][]byte{
		"FuzzIPv4": v4, "FuzzIPv6": v6, "FuzzIP": ip, "FuzzTCP": segs, "FuzzTCPOptions": opts,
	}
}

// tcpCorpusIPv4Rejects adds edits of the IPv4 SYN syn4 to v4: fragments,
// a bad checksum, odd IHLs, link padding and truncation.
func tcpCorpusIPv4Rejects(v4 map[string][]byte, syn4 []byte) {
	edit4 := func(f func(b []byte)) []byte {
		b := append([]byte(nil), syn4...)
		f(b)
		b[10], b[11] = 0, 0
		binary.BigEndian.PutUint16(b[10:], Checksum(b[:min(int(b[0]&0xf)*4, len(b))]))
		return b
	}
	v4["v4-fragment-mf"] = edit4(func(b []byte) { b[6] = 0x20 })
	v4["v4-fragment-offset"] = edit4(func(b []byte) { b[6], b[7] = 0, 0x10 })
	v4["v4-bad-checksum"] = func() []byte { b := append([]byte(nil), syn4...); b[11]++; return b }()
	v4["v4-ihl-15"] = edit4(func(b []byte) { b[0] = 0x4f })
	v4["v4-ihl-6-options"] = edit4(func(b []byte) { b[0] = 0x46; b[20] = 1 }) // TCP ports become an option
	v4["v4-padded"] = append(append([]byte(nil), syn4...), 0, 0, 0, 0, 0, 0)
	v4["v4-truncated"] = syn4[:len(syn4)-1]
}

// tcpCorpusIPv6Shapes adds extension-header shapes around the IPv6 SYN's
// segment to v6: a walkable chain, fragments, ESP, No Next Header, a
// misplaced Hop-by-Hop, an overrun, and truncation.
func tcpCorpusIPv6Shapes(v6 map[string][]byte, syn6 []byte) {
	tcp6 := syn6[IPv6HeaderLen:]
	ext := func(first uint8, hdrs ...[]byte) []byte {
		b := append([]byte(nil), syn6[:IPv6HeaderLen]...)
		b[6] = first
		for _, h := range hdrs {
			b = append(b, h...)
		}
		binary.BigEndian.PutUint16(b[4:], uint16(len(b)-IPv6HeaderLen))
		return b
	}
	pad := func(next uint8) []byte { return []byte{next, 0, 1, 4, 0, 0, 0, 0} }
	ah := []byte{6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	v6["v6-ext-chain"] = ext(0, pad(60), pad(43), pad(51), ah, tcp6)
	v6["v6-fragment"] = ext(44, []byte{6, 0, 0, 0, 0, 0, 0, 7}, tcp6)
	v6["v6-fragment-after-dstopts"] = ext(60, pad(44), []byte{6, 0, 0, 1, 0, 0, 0, 7}, tcp6)
	v6["v6-esp"] = ext(50, make([]byte, 24))
	v6["v6-no-next"] = ext(60, pad(IPProtoNoNext), []byte("ignored"))
	v6["v6-hbh-not-first"] = ext(60, pad(0), pad(6), tcp6)
	v6["v6-ext-overrun"] = ext(43, []byte{6, 9, 0, 0, 0, 0, 0, 0})
	v6["v6-truncated"] = syn6[:len(syn6)-1]
}
