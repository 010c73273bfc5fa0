package ccid3

import (
	"math"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Abs(b) }

// TestEquation checks X against values worked by hand from RFC 5348 §3.1
// with b = 1 and t_RTO = 4R.
func TestEquation(t *testing.T) {
	// s=1460, R=0.1 s, p=0.01:
	//   R*sqrt(2p/3)        = 0.1 * 0.08164966            = 0.008164966
	//   3*sqrt(3p/8)        = 3 * 0.06123724              = 0.18371173
	//   ... * p * (1+32p^2) = 0.18371173 * 0.01 * 1.0032  = 0.0018429961
	//   ... * t_RTO (0.4)                                 = 0.00073719845
	//   X = 1460 / (0.008164966 + 0.00073719845) = 1460 / 0.008902164 = 164005.1 B/s
	// s=1000, R=0.05 s, p=0.1:
	//   R*sqrt(2p/3)        = 0.05 * 0.25819889           = 0.012909944
	//   3*sqrt(3p/8) * p * (1+32p^2) = 0.58094750 * 0.1 * 1.32 = 0.07668507
	//   ... * t_RTO (0.2)                                 = 0.015337014
	//   X = 1000 / 0.028246958 = 35402.0 B/s
	cases := []struct {
		s    int
		R    time.Duration
		p    float64
		want float64
	}{
		{1460, 100 * time.Millisecond, 0.01, 164005.1},
		{1000, 50 * time.Millisecond, 0.1, 35402.0},
	}
	for _, c := range cases {
		if got := Equation(c.s, c.R, c.p); !near(got, c.want, 1e-5) {
			t.Errorf("Equation(%d, %v, %v) = %.1f, want %.1f", c.s, c.R, c.p, got, c.want)
		}
	}
	if !math.IsInf(Equation(1000, time.Second, 0), 1) {
		t.Error("p = 0 must give no equation limit")
	}
}

// TestLossIntervalsMean is RFC 5348 §5.4 on a hand-worked history.
func TestLossIntervalsMean(t *testing.T) {
	var l LossIntervals
	if l.P() != 0 {
		t.Fatal("no loss yet: p must be 0")
	}
	// closed intervals, oldest first 80, 70, ..., 10; then an open one of 5.
	for _, n := range []int{80, 70, 60, 50, 40, 30, 20, 10, 5} {
		l.Start()
		for range n - 1 {
			l.Grow()
		}
	}
	// I_0..I_8 = 5,10,20,30,40,50,60,70,80; w = 1,1,1,1,.8,.6,.4,.2 (W_tot 6)
	// I_tot0 = 5+10+20+30+32+30+24+14 = 165; I_tot1 = 10+20+30+40+40+36+28+16 = 220
	// I_mean = max(165, 220)/6 = 36.667; p = 0.027273
	if got := l.Mean(); !near(got, 220.0/6, 1e-9) {
		t.Errorf("Mean = %v, want 36.667", got)
	}
}

// TestTxNoFeedbackHalves checks RFC 5348 §4.4: without feedback the
// rate halves when the timer (2 s initially) fires.
func TestTxNoFeedbackHalves(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	x0 := tx.X()
	if tx.NextDeadline() != now.Add(2*time.Second) {
		t.Fatalf("no-feedback timer at %v, want 2 s", tx.NextDeadline().Sub(now))
	}
	tx.HandleTimer(now.Add(2 * time.Second))
	if tx.X() != x0/2 {
		t.Errorf("X after the no-feedback timer = %v, want %v", tx.X(), x0/2)
	}
	tx.OnFeedback(now.Add(3*time.Second), 100*time.Millisecond, 0.01, 1e6)
	if want := Equation(1000, 100*time.Millisecond, 0.01); !near(tx.X(), want, 1e-9) {
		t.Errorf("X after feedback with p=0.01 = %v, want the equation's %v (below 2*X_recv)", tx.X(), want)
	}
}

// TestRxFeedbackEveryRoundOfWindowCounter checks RFC 4342 §10.3: feedback
// is due once the newest packet's window counter is 4 past the one the
// last feedback covered, even when the receiver's own RTT estimate (here
// a stale 200 ms) would wait longer; the first packet draws feedback
// (RFC 5348 §6.3), and a late packet with an old counter does not.
func TestRxFeedbackEveryRoundOfWindowCounter(t *testing.T) {
	now := clock.Instant(1e18)
	r := NewRx()
	const stale = 200 * time.Millisecond
	seq := seqnum.V48(100)
	data := func(ccval uint8) bool {
		seq = seq.Add(1)
		now = now.Add(10 * time.Microsecond)
		return r.OnData(now, seq, ccval, 1000, 0, stale)
	}
	if !data(0) {
		t.Fatal("the first data packet must draw feedback")
	}
	r.Feedback(now)
	for round, cc := 0, uint8(0); round < 6; round++ { // crosses the counter's wrap at 16
		for k := 1; k <= 3; k++ {
			if data((cc + uint8(k)) % 16) {
				t.Fatalf("round %d: feedback due %d quarter-RTTs after the last", round, k)
			}
		}
		cc = (cc + 4) % 16
		if !data(cc) {
			t.Fatalf("round %d: no feedback once the counter moved 4 (to %d)", round, cc)
		}
		r.Feedback(now)
	}
	// A reordered packet from before the last feedback: an older sequence
	// number whose counter is far behind.
	if r.OnData(now, seq.Add(-10), 9, 1000, 0, stale) {
		t.Error("a late packet with an old window counter drew feedback")
	}
}

// TestRxNonDataGapsAreNotLoss is RFC 4340 §7.7.1 with RFC 4342 §6.1: a
// gap in the sequence numbers of data packets is data loss only beyond
// the NDP Count of the packet after it. Gaps filled by the non-data
// packets it counts leave p at 0; a gap one packet wider than its NDP
// Count starts a loss event; a reordered packet leaves no gap.
func TestRxNonDataGapsAreNotLoss(t *testing.T) {
	now := clock.Instant(1e18)
	r := NewRx()
	seq := seqnum.V48(1 << 47) // crosses nothing, but far from zero
	data := func(skip, ndp uint64, ccval uint8) {
		seq = seq.Add(int64(skip) + 1)
		now = now.Add(10 * time.Microsecond)
		r.OnData(now, seq, ccval, 1000, ndp, time.Millisecond)
	}
	data(0, 0, 0)
	for i := range 200 {
		data(uint64(i%3), uint64(i%3), uint8(i/20%16)) // 0, 1 or 2 non-data packets between
	}
	if ev, gaps := r.LossEvents(); ev != 0 || gaps != 0 || r.P() != 0 {
		t.Fatalf("gaps filled by non-data packets: %d loss events, %d gaps, p = %g; want none", ev, gaps, r.P())
	}
	data(3, 2, 0) // three missing, two of them non-data: one data packet lost
	data(0, 0, 0)
	if ev, _ := r.LossEvents(); ev != 0 {
		t.Fatalf("a gap declared lost after 2 later packets; RFC 5348 §5.1 waits for NDUPACK = 3")
	}
	data(0, 0, 0)
	if ev, gaps := r.LossEvents(); ev != 1 || gaps != 1 {
		t.Fatalf("one data packet lost: %d loss events, %d gaps; want 1, 1", ev, gaps)
	}
	r.OnData(now, seq.Add(-1), 0, 1000, 0, time.Millisecond) // late arrival of an older one
	if ev, gaps := r.LossEvents(); ev != 1 || gaps != 1 {
		t.Fatalf("a reordered packet counted as a gap: %d events, %d gaps", ev, gaps)
	}
	for _, c := range []struct {
		s1, s2 seqnum.V48
		ndp    uint64
		lost   bool
	}{
		{10, 11, 0, false}, {10, 12, 0, true}, {10, 12, 1, false}, {10, 15, 4, false},
		{10, 15, 3, true}, {seqnum.Mask48, 1, 1, false}, {seqnum.Mask48, 1, 0, true}, {12, 10, 0, false},
	} {
		if got := DataLost(c.s1, c.s2, c.ndp); got != c.lost {
			t.Errorf("DataLost(%d, %d, ndp %d) = %v, want %v", c.s1, c.s2, c.ndp, got, c.lost)
		}
	}
}

// TestRx_ReorderingIsNotLoss: RFC 5348 §5.1, a missing packet is lost
// only once NDUPACK = 3 packets arrived after it. Packet 4 arriving two
// places late (1 2 3 5 6 4 7 ...) is reordering: no loss event, p stays 0.
// Packet 14 never arriving is a loss, declared with the third packet
// after it (17), not before.
func TestRx_ReorderingIsNotLoss(t *testing.T) {
	now := clock.Instant(1e18)
	r := NewRx()
	base := seqnum.V48(1000)
	feed := func(n int64) {
		now = now.Add(time.Millisecond)
		r.OnData(now, base.Add(n), uint8(n/4%16), 1000, 0, time.Millisecond)
	}
	for _, n := range []int64{1, 2, 3, 5, 6, 4, 7, 8, 9, 10, 11, 12, 13} {
		feed(n)
	}
	if ev, gaps := r.LossEvents(); ev != 0 || gaps != 0 || r.P() != 0 {
		t.Fatalf("packet 4 two places late: %d loss events, %d gaps, p = %g; want none (reordering)", ev, gaps, r.P())
	}
	for _, n := range []int64{15, 16} {
		feed(n)
		if ev, _ := r.LossEvents(); ev != 0 {
			t.Fatalf("packet 14 declared lost after %d later packets; want %d", n-14, NDupAck)
		}
	}
	feed(17)
	if ev, gaps := r.LossEvents(); ev != 1 || gaps != 1 {
		t.Fatalf("packet 14 missing with 3 later packets: %d loss events, %d gaps; want 1, 1", ev, gaps)
	}
}

// TestTx_XRecvSetLimitsByTheLargestOfTwoRTTs: RFC 5348 §4.3, the rate is
// limited by recv_limit = 2 max(X_recv_set), the receive rates reported
// within two round trips, not by the last report alone: one low report
// (a receiver that measured over a short, quiet interval) does not cut
// the rate while a higher one is younger than 2R; once it is older, it
// leaves the set.
func TestTx_XRecvSetLimitsByTheLargestOfTwoRTTs(t *testing.T) {
	now := clock.Instant(1e18)
	tx := NewTx(now, 1000)
	const rtt = 100 * time.Millisecond
	const p = 1e-9 // the equation allows far more than the receive rates below
	tx.OnFeedback(now, rtt, p, 100_000)
	if tx.X() != 200_000 {
		t.Fatalf("X = %v after X_recv 100000, want 2 X_recv = 200000", tx.X())
	}
	tx.OnFeedback(now.Add(rtt/2), rtt, p, 10_000)
	if tx.X() != 200_000 {
		t.Errorf("X = %v after a report of 10000 half an RTT later, want 200000 (2 max(X_recv_set))", tx.X())
	}
	tx.OnFeedback(now.Add(3*rtt), rtt, p, 10_000)
	if tx.X() != 20_000 {
		t.Errorf("X = %v once the report of 100000 is older than 2R, want 20000", tx.X())
	}
}

// TestLossIntervals_OpenIntervalCountsWhenLonger: RFC 5348 §5.4 with
// fewer intervals than n = 8. Closed intervals 10 and 10, then an open
// interval that grows: the mean is max(I_tot0, I_tot1)/W_tot over k = 2,
// I_tot0 = I_0 + I_1 (the open one counts), I_tot1 = I_1 + I_2. While I_0
// is short the closed intervals decide (mean 10); once it is longer, it
// raises the mean (a long loss-free run lowers p).
func TestLossIntervals_OpenIntervalCountsWhenLonger(t *testing.T) {
	var l LossIntervals
	for range 3 { // three loss events: closed 10, 10, then the open one
		l.Start()
		for range 9 {
			l.Grow()
		}
	}
	// I_0 = 10, I_1 = 10, I_2 = 10: both sums 20, W_tot = 2.
	if got := l.Mean(); got != 10 {
		t.Fatalf("Mean = %v with intervals 10, 10, 10; want 10", got)
	}
	for range 90 {
		l.Grow()
	}
	// I_0 = 100: I_tot0 = 100 + 10 = 110, I_tot1 = 10 + 10 = 20; 110/2.
	if got := l.Mean(); got != 55 {
		t.Errorf("Mean = %v with the open interval at 100; want (100+10)/2 = 55", got)
	}
	if got := l.P(); !near(got, 1.0/55, 1e-12) {
		t.Errorf("p = %v, want 1/55", got)
	}
}
