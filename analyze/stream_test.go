package analyze

import (
	"bufio"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
)

// writeBulk writes a classic pcap of conns connections, one after the
// other, each a handshake, segs data segments of size bytes from the
// client (each acknowledged) and FIN both ways: 2*segs+7 packets a
// connection. It returns the number of packets.
func writeBulk(t testing.TB, path string, conns, segs, size int) int {
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w, err := pcap.NewWriter(bw, 0)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, size)
	buf := make([]byte, 2048)
	now, n := clock.Instant(1_700_000_000e9), 0
	srv := netip.MustParseAddrPort("10.0.0.2:80")
	for i := range conns {
		cli := netip.AddrPortFrom(netip.MustParseAddr("10.0.0.1"), uint16(10000+i%50000))
		if i >= 50000 {
			cli = netip.AddrPortFrom(netip.MustParseAddr("10.0.1.1"), uint16(10000+i%50000))
		}
		send := func(fromClient bool, f wire.TCPFlags, seq, ack uint32, data []byte) {
			src, dst := cli, srv
			if !fromClient {
				src, dst = srv, cli
			}
			h := wire.TCPHeader{SrcPort: src.Port(), DstPort: dst.Port(), Seq: seqnum.V32(seq), Ack: seqnum.V32(ack), Flags: f, Window: 65535}
			m, err := wire.EncodeTCPPacket(buf, src.Addr(), dst.Addr(), &h, data)
			if err != nil {
				t.Fatal(err)
			}
			now = now.Add(10 * time.Microsecond)
			if err := w.WritePacket(now, buf[:m]); err != nil {
				t.Fatal(err)
			}
			n++
		}
		send(true, wire.SYN, 1000, 0, nil)
		send(false, wire.SYN|wire.ACK, 5000, 1001, nil)
		send(true, wire.ACK, 1001, 5001, nil)
		seq := uint32(1001)
		for range segs {
			send(true, wire.PSH|wire.ACK, seq, 5001, payload)
			seq += uint32(size)
			send(false, wire.ACK, 5001, seq, nil)
		}
		send(true, wire.FIN|wire.ACK, seq, 5001, nil)
		send(false, wire.FIN|wire.ACK, 5001, seq+1, nil)
		send(true, wire.ACK, seq+1, 5002, nil)
		send(false, wire.ACK, 5002, seq+1, nil)
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return n
}

// A capture is read as a stream: ten times the packets on the same
// connections costs about the same allocations (the connections', not the
// file's), and the progress callback sees the records as they go.
func TestStream_MemoryFlatInCaptureSize(t *testing.T) {
	dir := t.TempDir()
	small, large := filepath.Join(dir, "small.pcap"), filepath.Join(dir, "large.pcap")
	writeBulk(t, small, 20, 500, 100)
	nLarge := writeBulk(t, large, 20, 5000, 100)
	allocs := func(path string) (float64, []int) {
		var seen []int
		opts := Options{Progress: func(records int, _ Counts) { seen = append(seen, records) }}
		return testing.AllocsPerRun(1, func() {
			seen = seen[:0]
			rep, err := File(path, opts)
			if err != nil || len(rep.Connections) != 20 || rep.Connections[19].Verdict != VerdictGraceful {
				t.Fatalf("analysis of %s went wrong: %v", path, err)
			}
		}), seen
	}
	a, _ := allocs(small)
	b, seen := allocs(large)
	t.Logf("allocations: %.0f for %d packets, %.0f for %d", a, 20*(2*500+7), b, nLarge)
	if b > a+200 {
		t.Errorf("%.0f allocations for the large capture, %.0f for the small one: something grows with the file", b, a)
	}
	if want := nLarge / progressEvery; len(seen) != want || len(seen) > 0 && seen[0] != progressEvery {
		t.Errorf("progress called at %v, want every %d records (%d calls)", seen, progressEvery, want)
	}
}

// BenchmarkAnalyze reads a synthetic capture of 100 connections of 1000
// data segments each (200,700 packets, 31 MB) from a file: MB/s and
// packets/s of the whole analysis, reading included.
func BenchmarkAnalyze(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bulk.pcap")
	n := writeBulk(b, path, 100, 1000, 200)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		rep, err := File(path, Options{})
		if err != nil || len(rep.Connections) != 100 {
			b.Fatalf("%v, %d connections", err, len(rep.Connections))
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}
