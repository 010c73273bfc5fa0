package cc

import (
	"testing"
	"time"
)

// benchAcks feeds a steady stream of ACKs, with a congestion event every
// 10000 ACKs so the window stays in a realistic range.
func benchAcks(b *testing.B, a Algorithm) {
	now := t0
	b.ReportAllocs()
	for i := range b.N {
		now = now.Add(100 * time.Microsecond)
		if i%10000 == 9999 {
			a.OnCongestionEvent(now, a.CWnd())
			a.OnRecoveryExit(now)
		}
		a.OnAck(now, Ack{Acked: 1448, SRTT: 20 * time.Millisecond, CwndLimited: true})
	}
}

func BenchmarkCubicOnAck(b *testing.B)   { benchAcks(b, NewCubic(1448)) }
func BenchmarkNewRenoOnAck(b *testing.B) { benchAcks(b, NewNewReno(1448)) }

func TestOnAckDoesNotAllocate(t *testing.T) {
	for _, a := range []Algorithm{NewCubic(1448), NewNewReno(1448)} {
		now := t0
		a.OnCongestionEvent(now, 100*1448)
		a.OnRecoveryExit(now)
		allocs := testing.AllocsPerRun(1000, func() {
			now = now.Add(time.Millisecond)
			a.OnAck(now, Ack{Acked: 1448, SRTT: 20 * time.Millisecond, CwndLimited: true})
		})
		if allocs != 0 {
			t.Errorf("%s: OnAck allocates %v times per call", a.Name(), allocs)
		}
	}
}
