package suite

import (
	"fmt"
	"testing"
)

// The measures as Go benchmarks, one sub-benchmark per stack, so that
// `go test -bench . -count 5 ./suite` feeds benchstat. Each reports its
// figure as a custom metric; ns/op is one whole measure.

var stacks = []string{Ours, GVisor, GVisorTuned, GVisorDrained, Kernel}

// bulkStacks adds, for the bulk rows, both stacks with and without
// trusting the in-memory link's checksums.
var bulkStacks = []string{Ours, OursChecked, GVisor, GVisorRXOffload, GVisorTuned, GVisorDrained, Kernel}

func BenchmarkBulk(b *testing.B) {
	for _, mtu := range []int{1500, 65535} {
		for _, s := range bulkStacks {
			if s == Kernel && mtu != 1500 {
				continue
			}
			b.Run(fmt.Sprintf("mtu=%d/stack=%s", mtu, s), func(b *testing.B) {
				const n = 64 << 20
				b.SetBytes(n)
				var rtx, bytes float64
				for b.Loop() {
					r, err := Bulk(s, mtu, n)
					if err != nil {
						b.Fatal(err)
					}
					rtx += float64(r.Retransmits)
					bytes += float64(r.Bytes)
				}
				if s != Kernel {
					b.ReportMetric(rtx*float64(1<<30)/bytes, "rtx/GiB")
				}
			})
		}
	}
}

func BenchmarkChurn(b *testing.B) {
	for _, conc := range []int{1, 64} {
		for _, s := range stacks {
			b.Run(fmt.Sprintf("conc=%d/stack=%s", conc, s), func(b *testing.B) {
				var sum float64
				for b.Loop() {
					v, err := Churn(s, conc, 300e6)
					if err != nil {
						b.Fatal(err)
					}
					sum += v
				}
				b.ReportMetric(sum/float64(b.N), "conn/s")
			})
		}
	}
}

func BenchmarkMemoryPerConn(b *testing.B) {
	for _, s := range []string{Ours, GVisor, GVisorTuned} {
		b.Run("stack="+s, func(b *testing.B) {
			var sum float64
			for b.Loop() {
				v, err := Memory(s, 10000)
				if err != nil {
					b.Fatal(err)
				}
				sum += v
			}
			b.ReportMetric(sum/float64(b.N), "B/conn")
		})
	}
}

// BenchmarkFlows is the flows-N rows: `go test -run '^$' -bench Flows
// -benchtime 1x -count 5 ./suite` takes each stack's run in turn, five
// times over.
func BenchmarkFlows(b *testing.B) {
	for _, n := range []int{16, 128} {
		for _, s := range impairedStacks {
			b.Run(fmt.Sprintf("flows=%d/stack=%s", n, s), func(b *testing.B) {
				var gbps, jain, rtx float64
				for b.Loop() {
					r, err := Flows(s, n, Full.ChurnTime)
					if err != nil {
						b.Fatal(err)
					}
					gbps += r.Gbps()
					jain += r.Jain()
					rtx += r.RetransmitsPerGiB()
				}
				k := float64(b.N)
				b.ReportMetric(gbps/k, "Gbit/s")
				b.ReportMetric(jain/k, "jain")
				b.ReportMetric(rtx/k, "rtx/GiB")
			})
		}
	}
}

// BenchmarkBulkLoss is the bulk-loss-1pct row (32 MiB per run).
func BenchmarkBulkLoss(b *testing.B) {
	for _, s := range impairedStacks {
		b.Run("stack="+s, func(b *testing.B) {
			var gbps float64
			seed := uint64(1)
			for b.Loop() {
				r, err := BulkLoss(s, lossRate, 32<<20, seed)
				if err != nil {
					b.Fatal(err)
				}
				gbps += r.Gbps()
				seed += 2
			}
			b.ReportMetric(gbps/float64(b.N), "Gbit/s")
		})
	}
}
