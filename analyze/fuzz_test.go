package analyze

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzAnalyze from the synthetic captures")

// framePackets joins packets as the fuzzer feeds them: each is a 2-byte
// big-endian length, then that many bytes.
func framePackets(t testing.TB, capture []byte) []byte {
	r, err := pcap.NewReader(bytes.NewReader(capture))
	if err != nil {
		t.Fatal(err)
	}
	var out []byte
	for {
		p, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(p.IP)))
		out = append(out, p.IP...)
	}
}

// analyzeSeeds are the synthetic conversations: a TCP RST with unread
// data, a TCP FIN exchange and a DCCP Close ping-pong.
func analyzeSeeds(t testing.TB) map[string][]byte {
	rst := newSynth(t)
	rst.handshake()
	rst.tcp(true, PA, 1001, 5001, 65535, "hello")
	rst.tcp(false, RA, 5001, 1006, 0, "")
	fin := newSynth(t)
	fin.handshake()
	fin.tcp(true, FA, 1001, 5001, 65535, "")
	fin.tcp(false, FA, 5001, 1002, 65535, "")
	fin.tcp(true, A, 1002, 5002, 65535, "")
	dccp := newSynth(t)
	dccp.dccpHandshake()
	dccp.dccp(true, wire.DCCPDataAck, 102, 500, "x")
	dccp.dccp(true, wire.DCCPClose, 103, 500, "")
	dccp.dccp(false, wire.DCCPClose, 501, 103, "")
	dccp.dccp(true, wire.DCCPReset, 104, 501, "", func(h *wire.DCCPHeader) { h.ResetCode = wire.DCCPResetClosed })
	return map[string][]byte{
		"tcp_rst_unread": framePackets(t, rst.buf.Bytes()),
		"tcp_fin":        framePackets(t, fin.buf.Bytes()),
		"dccp_close":     framePackets(t, dccp.buf.Bytes()),
	}
}

// FuzzAnalyze feeds arbitrary packets through the classifier: it must
// never panic, and the report must render as text and JSON.
func FuzzAnalyze(f *testing.F) {
	for _, s := range analyzeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, drop := range []bool{false, true} {
			a := New(Options{DropBadChecksums: drop})
			rest := data
			for n := 1; len(rest) >= 2; n++ {
				l := min(int(binary.BigEndian.Uint16(rest)), len(rest)-2)
				a.Packet(n, clock.Instant(n), rest[2:2+l])
				rest = rest[2+l:]
			}
			rep := a.Report()
			if err := rep.WriteText(io.Discard); err != nil {
				t.Fatal(err)
			}
			if _, err := json.Marshal(rep); err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Connections {
				if c.Setup.Kind == "" || c.Ending.Kind == "" || c.Packets == 0 {
					t.Fatalf("connection %d unclassified: %+v", c.ID, c)
				}
			}
		}
	})
}

// The committed seed corpus is the synthetic conversations;
// -update-corpus rewrites it after they change.
func TestFuzzAnalyzeCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzAnalyze")
	for name, data := range analyzeSeeds(t) {
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
			t.Errorf("seed %s is missing or stale (go test ./analyze -run FuzzAnalyzeCorpus -update-corpus): %v", name, err)
		}
	}
}
