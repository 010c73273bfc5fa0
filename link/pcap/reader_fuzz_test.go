package pcap

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzReader from the hand-built files")

// readerSeeds are the hand-built captures the fuzzer starts from: every
// format, byte order, link type and block kind the Reader knows.
func readerSeeds(t testing.TB) map[string][]byte {
	ip := synPacket(t, 1)
	eth := append(make([]byte, 12), 0x81, 0x00, 0, 7, 0x08, 0x00)
	return map[string][]byte{
		"pcap_le_nano_raw":  classicFile(binary.LittleEndian, magicNanos, LinkTypeRaw, ip, syn6Packet(t, 3)),
		"pcap_be_micro_raw": classicFile(binary.BigEndian, magicMicros, LinkTypeRaw, ip),
		"pcap_ethernet":     classicFile(binary.LittleEndian, magicMicros, LinkTypeEthernet, append(eth, ip...)),
		"pcap_null":         classicFile(binary.LittleEndian, magicMicros, LinkTypeNull, append([]byte{2, 0, 0, 0}, ip...)),
		"pcap_sll2":         classicFile(binary.LittleEndian, magicMicros, LinkTypeSLL2, append(append([]byte{8, 0}, make([]byte, 18)...), ip...)),
		"pcapng_le":         handPcapNG(t, binary.LittleEndian),
		"pcapng_be":         handPcapNG(t, binary.BigEndian),
	}
}

func FuzzReader(f *testing.F) {
	for _, s := range readerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		frames := countFrames(t, data)
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("NewReader error %v is not a *FormatError", err)
			}
			return
		}
		for n := 0; ; n++ {
			p, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var fe *FormatError
				if !errors.As(err, &fe) {
					t.Fatalf("Next error %v is not a *FormatError", err)
				}
				return
			}
			if n > len(data) {
				t.Fatalf("%d packets from %d bytes", n, len(data))
			}
			if len(p.IP) > len(data) || !isIP(p.IP) {
				t.Fatalf("packet %d: %d bytes, not IP", p.Number, len(p.IP))
			}
			if p.Number > frames {
				t.Fatalf("packet %d, but NextFrame read %d frames", p.Number, frames)
			}
		}
	})
}

// countFrames reads data with NextFrame to its end and returns how many
// records it gave; its errors must be FormatErrors too.
func countFrames(t *testing.T, data []byte) int {
	r, err := NewFrameReader(bytes.NewReader(data))
	if err != nil {
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("NewFrameReader error %v is not a *FormatError", err)
		}
		return 0
	}
	for n := 0; ; n++ {
		p, err := r.NextFrame()
		if err != nil {
			var fe *FormatError
			if err != io.EOF && !errors.As(err, &fe) {
				t.Fatalf("NextFrame error %v is not a *FormatError", err)
			}
			return n
		}
		if p.Number != n+1 || len(p.IP) > len(data) {
			t.Fatalf("frame %d numbered %d, %d bytes of %d", n+1, p.Number, len(p.IP), len(data))
		}
	}
}

// The committed seed corpus is the hand-built files; -update-corpus
// rewrites it after the builders change.
func TestFuzzReaderCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	for name, data := range readerSeeds(t) {
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
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (go test ./link/pcap -run FuzzReaderCorpus -update-corpus): %v", name, err)
		}
	}
}
