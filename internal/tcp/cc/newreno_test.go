package cc

import (
	"errors"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

const t0 = clock.Instant(1_700_000_000_000_000_000)

// ack is a cwnd-limited ACK of n bytes with a 100 ms SRTT.
func ack(n int) Ack { return Ack{Acked: n, SRTT: 100 * time.Millisecond, CwndLimited: true} }

func TestInitialWindow(t *testing.T) {
	for _, tc := range []struct{ mss, want int }{
		{536, 5360},   // 10*536 = 5360 < max(1072, 14600)
		{1000, 10000}, // 10*1000 < 14600
		{1460, 14600}, // min(14600, max(2920, 14600))
		{4000, 14600}, // max(8000, 14600) = 14600 < 40000
		{9000, 18000}, // max(18000, 14600) = 18000 < 90000
	} {
		if got := InitialWindow(tc.mss); got != tc.want {
			t.Errorf("RFC 6928 IW for MSS %d: got %d, want %d", tc.mss, got, tc.want)
		}
	}
}

func TestNew(t *testing.T) {
	for _, tc := range []struct {
		name, want string
	}{{"", "cubic"}, {"cubic", "cubic"}, {"newreno", "newreno"}, {"reno", "newreno"}} {
		a, err := New(tc.name, 1460)
		if err != nil || a.Name() != tc.want {
			t.Errorf("New(%q) = %v, %v; want %s", tc.name, a, err, tc.want)
			continue
		}
		if a.CWnd() != 14600 || a.SSThresh() != MaxSSThresh || !a.InSlowStart() {
			t.Errorf("New(%q) starts at cwnd %d ssthresh %d; want IW 14600 and MaxSSThresh", tc.name, a.CWnd(), a.SSThresh())
		}
	}
	if _, err := New("vegas", 1460); !errors.Is(err, ErrUnknown) {
		t.Errorf("New(vegas) error %v, want ErrUnknown", err)
	}
	if _, err := New("cubic", 0); !errors.Is(err, ErrBadMSS) {
		t.Errorf("New(cubic, 0) error %v, want ErrBadMSS", err)
	}
}

func TestNewReno_SlowStartPerAck(t *testing.T) {
	r := NewNewReno(1000) // IW = 10000
	steps := []struct {
		acked, want int
		why         string
	}{
		{1000, 11000, "one full segment acked adds one SMSS"},
		{3000, 14000, "a stretch ACK of 3 SMSS adds 3 SMSS (no RFC 3465 L outside the slow start after a timeout, as Linux)"},
		{500, 14500, "a partial segment adds the bytes acked"},
		{2000, 16500, "two segments add two SMSS"},
	}
	for _, s := range steps {
		r.OnAck(t0, ack(s.acked))
		if r.CWnd() != s.want {
			t.Fatalf("%s: cwnd %d, want %d", s.why, r.CWnd(), s.want)
		}
	}
}

func TestNewReno_SlowStartStopsAtSSThresh(t *testing.T) {
	r := NewNewReno(1000)
	r.ssthresh = 11500
	r.OnAck(t0, ack(2000))
	if r.CWnd() != 11500 || r.InSlowStart() {
		t.Fatalf("slow start crossing ssthresh: cwnd %d, want it capped at 11500 and CA begun", r.CWnd())
	}
}

func TestNewReno_CongestionAvoidanceOneMSSPerRTT(t *testing.T) {
	r := NewNewReno(1000)
	r.OnCongestionEvent(t0, 40000) // ssthresh = cwnd = 20000
	r.OnRecoveryExit(t0)
	// One RTT of a 20-segment window: 20 ACKs of 1000 bytes. RFC 3465
	// §2.1: the 20th brings bytes_acked to 20000 = cwnd, adding one SMSS.
	for i := 1; i <= 20; i++ {
		r.OnAck(t0, ack(1000))
		want := 20000
		if i == 20 {
			want = 21000
		}
		if r.CWnd() != want {
			t.Fatalf("ACK %d of the RTT: cwnd %d, want %d", i, r.CWnd(), want)
		}
	}
	for range 21 { // the next RTT carries 21 segments
		r.OnAck(t0, ack(1000))
	}
	if r.CWnd() != 22000 {
		t.Fatalf("after a second RTT: cwnd %d, want 22000", r.CWnd())
	}
}

func TestNewReno_LossHalves(t *testing.T) {
	r := NewNewReno(1000)
	r.OnCongestionEvent(t0, 40000)
	if r.SSThresh() != 20000 || r.CWnd() != 20000 {
		t.Fatalf("RFC 5681 eq. (4) with FlightSize 40000: ssthresh %d cwnd %d, want 20000/20000", r.SSThresh(), r.CWnd())
	}
	r.OnAck(t0, ack(5000))
	if r.CWnd() != 20000 {
		t.Fatalf("cwnd grew to %d during recovery; it must hold at ssthresh", r.CWnd())
	}
	r.OnCongestionEvent(t0, 10000)
	if r.SSThresh() != 20000 {
		t.Fatalf("a second congestion event in one recovery lowered ssthresh to %d (RFC 6582 reduces once)", r.SSThresh())
	}
	r.OnRecoveryExit(t0)
	r.OnCongestionEvent(t0, 3000)
	if r.SSThresh() != 2000 || r.CWnd() != 2000 {
		t.Fatalf("small FlightSize: ssthresh %d cwnd %d, want the 2*SMSS floor 2000", r.SSThresh(), r.CWnd())
	}
}

func TestNewReno_NoGrowthWhenApplicationLimited(t *testing.T) {
	r := NewNewReno(1000)
	r.OnAck(t0, Ack{Acked: 5000, CwndLimited: false})
	if r.CWnd() != 10000 {
		t.Fatalf("RFC 7661: application-limited ACK grew cwnd to %d", r.CWnd())
	}
}

func TestNewReno_RetransmitTimeout(t *testing.T) {
	r := NewNewReno(1000)
	r.OnRetransmitTimeout(t0, 30000)
	if r.CWnd() != 1000 || r.SSThresh() != 15000 {
		t.Fatalf("RTO: cwnd %d ssthresh %d, want the loss window 1000 and 15000", r.CWnd(), r.SSThresh())
	}
	r.OnRetransmitTimeout(t0, 1000)
	if r.SSThresh() != 15000 {
		t.Fatalf("backoff of the same segment lowered ssthresh to %d", r.SSThresh())
	}
	r.OnAck(t0, ack(3000))
	if r.CWnd() != 2000 {
		t.Fatalf("slow start after RTO: cwnd %d, want +1 SMSS only (RFC 3465 §2.3, L = 1 SMSS)", r.CWnd())
	}
	r.OnRetransmitTimeout(t0, 8000)
	if r.SSThresh() != 4000 {
		t.Fatalf("RTO after new data was acked: ssthresh %d, want 8000/2 = 4000", r.SSThresh())
	}
}

func TestNewReno_RestartAfterIdleAndSetMSS(t *testing.T) {
	r := NewNewReno(1000)
	r.cwnd = 50000
	r.OnRestartAfterIdle(t0)
	if r.CWnd() != 10000 {
		t.Fatalf("RFC 5681 §4.1 restart window: cwnd %d, want min(IW, cwnd) = 10000", r.CWnd())
	}
	r.cwnd = 1000
	r.SetMSS(1400)
	if r.CWnd() != 1400 {
		t.Fatalf("SetMSS above cwnd: cwnd %d, want one SMSS 1400", r.CWnd())
	}
}
