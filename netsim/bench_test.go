package netsim

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link"
)

// benchPackets sends b.N 1500-byte packets from a to b in bursts of 64,
// running the simulation after each burst, and reports delivered packets
// per second of real time.
func benchPackets(b *testing.B, cfg LinkConfig) {
	s, a, h, _, _ := pair(b, 1, cfg, LinkConfig{})
	delivered := 0
	h.Attach(link.ReceiverFunc(func(p [][]byte) { delivered += len(p) }))
	pkt := udp4(addrA, addrB, 0, 1500)
	batch := [][]byte{pkt}
	const burst = 64
	b.ReportAllocs()
	b.SetBytes(1500)
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += burst {
		for range min(burst, b.N-sent) {
			a.WritePackets(batch)
		}
		if err := s.RunFor(time.Millisecond); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Run(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(delivered)/b.Elapsed().Seconds(), "pkts/s")
}

// BenchmarkSimPacketRate measures the simulator's own cost per packet on a
// clean link.
func BenchmarkSimPacketRate(b *testing.B) {
	benchPackets(b, LinkConfig{Latency: 100 * time.Microsecond})
}

// BenchmarkSimPacketRateFaults has every fault enabled except the queue
// limit (at 10 Gbit/s the queue never fills).
func BenchmarkSimPacketRateFaults(b *testing.B) {
	cfg := faultyConfig
	cfg.Bandwidth = 10_000_000_000
	cfg.QueuePackets = 1000
	benchPackets(b, cfg)
}

// BenchmarkTimerReset measures moving a pending timer, what a host driver
// does after every event.
func BenchmarkTimerReset(b *testing.B) {
	s := New(1)
	for i := range 1000 {
		s.After(time.Duration(i)*time.Millisecond, func() {})
	}
	tm := s.After(time.Second, func() {})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tm.Reset(s.Now().Add(time.Duration(i%2000) * time.Millisecond))
	}
}
