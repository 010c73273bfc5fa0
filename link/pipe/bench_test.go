package pipe

import (
	"testing"

	"github.com/teardown-lab/teardown/link"
)

func benchPipe(b *testing.B, size int) {
	a, peer := New(size)
	n := 0
	peer.Attach(link.ReceiverFunc(func(p [][]byte) { n += len(p) }))
	batch := [][]byte{make([]byte, size)}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		a.WritePackets(batch)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkPipe1500 writes one 1500-byte packet per call.
func BenchmarkPipe1500(b *testing.B) { benchPipe(b, 1500) }

// BenchmarkPipe65535 writes one 65535-byte packet per call.
func BenchmarkPipe65535(b *testing.B) { benchPipe(b, 65535) }
