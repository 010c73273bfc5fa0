package dccp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// ackLossRun sends n datagrams with CCID 2 over 20 ms each way while the
// server's pure Acks are lost one in four until lossUntil, and returns
// the largest Ack Ratio the client asked for, the one at the end, and the
// client's count of lost acknowledgements.
func ackLossRun(t *testing.T, n int, lossUntil time.Duration) (peak, last uint64, lost uint64) {
	t.Helper()
	pr := newPair(t, profile.Linux, 20*time.Millisecond, func(c *Config) {
		c.NewCCID, c.CCID = nil, 2
		c.SendQueueLen, c.RecvQueueLen = 1000, 4000
	})
	var busy clock.Instant
	acks := 0
	pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
		if from == 1 {
			if p.Type == wire.DCCPAck && pr.now.Before(t0.Add(lossUntil)) {
				acks++
				return acks%4 == 0, 0, false
			}
			return false, 0, false
		}
		busy = max(busy, pr.now).Add(100 * time.Microsecond)
		return false, busy.Sub(pr.now), false
	}
	pr.run(time.Second)
	if pr.conn[1] == nil {
		t.Fatal("not open")
	}
	next, msg := 0, []byte("x")
	start := pr.now.Sub(t0)
	for d := time.Duration(0); d < 6*time.Second; d += 2 * time.Millisecond {
		pr.at(start+d, func(now clock.Instant) {
			for next < n && pr.conn[0].Write(now, msg) == nil {
				next++
			}
			readAll(pr.conn[1], now)
			peak = max(peak, pr.conn[0].feat.local[wire.DCCPFeatAckRatio])
		})
	}
	pr.log = nil
	pr.run(10 * time.Second)
	return peak, pr.conn[0].feat.local[wire.DCCPFeatAckRatio], pr.conn[0].counters.AcksLost
}

// TestCCID2_LostAcksDoubleAckRatio: RFC 4341 §6.1.2, congestion control
// on the acknowledgement path. While one in four of the receiver's Acks
// is lost, the sender sees the gaps in the receiver's sequence numbers
// (§6.1.1) and doubles the Ack Ratio once per window with a loss, so the
// receiver sends half as many acknowledgements; once the losses stop,
// the Ack Ratio comes down again (by one per cwnd/(R² − R) clean
// windows, TestAckRatio_FallsByOneAfterCleanWindows). Without the losses
// the Ack Ratio stays lower throughout.
func TestCCID2_LostAcksDoubleAckRatio(t *testing.T) {
	const n = 8000
	clean, _, cleanLost := ackLossRun(t, n, 0)
	peak, last, lost := ackLossRun(t, n, 2*time.Second)
	t.Logf("Ack Ratio: %d at most without lost Acks; %d at most with %d lost, %d at the end", clean, peak, lost, last)
	if cleanLost != 0 {
		t.Fatalf("%d acknowledgements seen lost on a lossless path", cleanLost)
	}
	if lost == 0 {
		t.Fatal("no lost acknowledgement detected")
	}
	if peak < 2*clean {
		t.Errorf("Ack Ratio peaked at %d with lost Acks, %d without: want it doubled", peak, clean)
	}
	if last > peak {
		t.Errorf("Ack Ratio %d at the end above its peak %d", last, peak)
	}
}

// TestAckRatio_FallsByOneAfterCleanWindows: RFC 4341 §6.1.2, after
// cwnd/(R² − R) windows of data without a lost acknowledgement the Ack
// Ratio falls by one. With cwnd = 3 and R = 2 that is 1.5 windows, 4.5
// data packets: R stays 2 for four packets and falls to 1 with the fifth.
func TestAckRatio_FallsByOneAfterCleanWindows(t *testing.T) {
	c := newConn(Config{}, false)
	tx, _ := DefaultCCIDs(t0, 2, 1400, 2)
	c.tx = tx
	if w := tx.(windowedTx).Window(); w != 3 {
		t.Fatalf("initial window %v, want 3 (RFC 4341 §5 for 1400-byte packets)", w)
	}
	c.ackCC.floor = 2
	for i := range 4 {
		c.noteDataSent()
		if c.ackCC.floor != 2 {
			t.Fatalf("Ack Ratio floor %d after %d clean data packets, want 2", c.ackCC.floor, i+1)
		}
	}
	c.noteDataSent()
	if c.ackCC.floor != 1 {
		t.Errorf("Ack Ratio floor %d after 5 clean data packets (1.5 windows of 3), want 1", c.ackCC.floor)
	}
}

// TestCCID2_AckOfAckTrimsAckVector: RFC 4341 §6.2 and RFC 4340 §11.4.2.
// The CCID 2 sender acknowledges the receiver's acknowledgements about
// once per window (a DataAck), and the receiver then stops reporting the
// Ack Vector state the sender has seen: over a 3,000-packet transfer the
// state the receiver's vectors cover is trimmed again and again and never
// fills the whole ring (ackVecLen); without acknowledgements of
// acknowledgements it did, and only a fixed cap kept the vector short.
func TestCCID2_AckOfAckTrimsAckVector(t *testing.T) {
	const n = 3000
	maxReach, trims := 0, 0
	var low seqnum.V48
	pr, got := bulkWith(t, 2, n, nil, func(pr *pair, now clock.Instant) {
		sv := pr.conn[1]
		if sv == nil {
			return
		}
		maxReach = max(maxReach, sv.avRx.reach())
		if sv.avRx.low != low {
			low, trims = sv.avRx.low, trims+1
		}
	})
	if len(got) != n {
		t.Fatalf("read %d of %d", len(got), n)
	}
	t.Logf("receiver's Ack Vector reach at most %d packets, trimmed %d times, %d data packets", maxReach, trims, pr.conn[0].counters.DataOut)
	if trims < 15 {
		t.Errorf("the receiver's Ack Vector state was trimmed %d times: the sender does not acknowledge acknowledgements", trims)
	}
	if maxReach >= ackVecLen {
		t.Errorf("the receiver's Ack Vector covered up to %d packets: not trimmed by acknowledgements of acknowledgements", maxReach)
	}
}
