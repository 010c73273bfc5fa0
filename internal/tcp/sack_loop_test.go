package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/seqnum"
)

// dropFirstSends returns a drop function for the loop that loses, once
// each, the first transmission of A's data segments starting at or after
// the given byte offsets of its stream, and records what it dropped.
func dropFirstSends(offsets []int, dropped *[]seqnum.V32) func(int, *Segment) bool {
	var maxSent seqnum.V32 = localISS + 1
	next := 0
	return func(from int, s *Segment) bool {
		if from != 0 || len(s.Payload) == 0 {
			return false
		}
		first := !s.Seq.LessThan(maxSent)
		if end := s.Seq.Add(seqnum.Size32(len(s.Payload))); first {
			maxSent = end
		}
		if first && next < len(offsets) && !s.Seq.LessThan(localISS+1+seqnum.V32(offsets[next])) {
			next++
			*dropped = append(*dropped, s.Seq)
			return true
		}
		return false
	}
}

// Three segments lost from one window of well over a hundred: SACK
// recovery resends exactly those three, in one recovery, with no timeout.
func TestLoop_SACKRecoveryRetransmitsOnlyTheLost(t *testing.T) {
	const mss = 1448 // 1460 less the timestamps option
	var took [2]time.Duration
	for i, noSACK := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.NoSACK = noSACK
		l := newLoop(t, 1, 0, 2<<20, cfg)
		l.ep[1].total = 0 // one way, A to B
		l.rate = 12.5e6   // 100 Mbit/s, 5 ms each way
		var dropped []seqnum.V32
		l.drop = dropFirstSends([]int{400 * mss, 430 * mss, 470 * mss}, &dropped)
		l.run(1_000_000)
		l.check(1)
		a := l.ep[0].c.Counters()
		t.Logf("SACK %v: dropped %v; retransmits %d, fast retransmits %d, RTOs %d, time %v",
			!noSACK, dropped, a.Retransmits, a.FastRetransmits, a.RTOs, l.now.Sub(startTime))
		if len(dropped) != 3 {
			t.Fatalf("dropped %d segments, want 3", len(dropped))
		}
		took[i] = l.now.Sub(startTime)
		if noSACK {
			continue
		}
		if a.Retransmits != 3 || a.RTOs != 0 || a.FastRetransmits != 1 {
			t.Errorf("counters %+v: want exactly the 3 lost segments resent in one recovery, no timeout", a)
		}
	}
	// NewReno learns of one hole per round trip (RFC 6582 partial ACKs);
	// SACK reports all three at once. Simulated time, not wall-clock.
	if took[0] >= took[1] {
		t.Errorf("SACK took %v, NewReno %v: want SACK's recovery faster", took[0], took[1])
	}
}

// The same transfers, lossy, with SACK (RACK-TLP on, RFC 8985), with SACK
// alone (RFC 6675 and the RTO) and without SACK (NewReno): every byte
// arrives once and in order each way, SACK resends less in total than
// NewReno, and RACK-TLP needs far fewer timeouts than SACK alone.
func TestLoop_SACKFewerRetransmitsThanNewReno(t *testing.T) {
	replay.OnFailure(t)
	seeds := uint64(100)
	if testing.Short() {
		seeds = 20
	}
	const rack, sackOnly, newReno = 0, 1, 2
	var total [3]Counters
	for i := range total {
		for seed := uint64(1); seed <= seeds; seed++ {
			cfg := DefaultConfig()
			cfg.RecvBuffer, cfg.SendBuffer = 64<<10, 64<<10
			cfg.NoSACK = i == newReno
			cfg.NoRACK = i == sackOnly
			l := newLoop(t, seed, 0.05, 256<<10, cfg)
			l.rate = 12.5e6 // 100 Mbit/s, so that ACKs come spread out
			l.run(5_000_000)
			l.check(seed)
			for _, e := range l.ep {
				c := e.c.Counters()
				total[i].Retransmits += c.Retransmits
				total[i].RetransmitBytes += c.RetransmitBytes
				total[i].RTOs += c.RTOs
				total[i].FastRetransmits += c.FastRetransmits
				total[i].TLPs += c.TLPs
			}
		}
	}
	for i, name := range []string{"SACK+RACK-TLP", "SACK alone", "NewReno"} {
		t.Logf("%d seeds, 5%% loss, 256 KiB each way: %s: %d retransmits, %d bytes, %d RTOs, %d recoveries, %d probes",
			seeds, name, total[i].Retransmits, total[i].RetransmitBytes, total[i].RTOs, total[i].FastRetransmits, total[i].TLPs)
	}
	// Bytes, not segments: segments that carry SACK blocks carry less data
	// (the MSS counts options too), so SACK sends more, smaller segments.
	for _, i := range []int{rack, sackOnly} {
		if total[i].RetransmitBytes >= total[newReno].RetransmitBytes {
			t.Errorf("SACK (%d) retransmitted %d bytes, NewReno %d: want fewer with SACK", i, total[i].RetransmitBytes, total[newReno].RetransmitBytes)
		}
		if total[i].RTOs >= total[newReno].RTOs {
			t.Errorf("SACK (%d) needed %d timeouts, NewReno %d: want fewer with SACK", i, total[i].RTOs, total[newReno].RTOs)
		}
	}
	// RACK detects lost retransmissions and the probe repairs lost tails,
	// the two sources of the timeouts SACK alone still needs.
	if 2*total[rack].RTOs >= total[sackOnly].RTOs {
		t.Errorf("RACK-TLP needed %d timeouts, SACK alone %d: want fewer than half", total[rack].RTOs, total[sackOnly].RTOs)
	}
}

// No spurious retransmission on a lossless path: 64 MiB over a 1 ms round
// trip to a receiver that delays its ACKs. The RTO (at least SRTT +
// RTOMin) must outlast every delayed ACK.
func TestLoop_LosslessNoSpuriousRetransmits(t *testing.T) {
	size := 64 << 20
	if testing.Short() {
		size = 8 << 20
	}
	for _, delack := range []time.Duration{40 * time.Millisecond, 200 * time.Millisecond} {
		cfg := DefaultConfig()
		rcv := cfg
		rcv.DelayedACK = delack
		l := newLoop(t, 1, 0, size, cfg)
		l.cfgB = &rcv
		l.delay = 500 * time.Microsecond
		l.rate = 125e6 // 1 Gbit/s
		l.ep[1].total = 0
		l.run(50_000_000)
		l.check(1)
		a, b := l.ep[0].c.Counters(), l.ep[1].c.Counters()
		t.Logf("delayed ACK %v: %d MiB in %v of simulated time, %d segments, %d retransmits, SRTT %v, RTO %v",
			delack, size>>20, l.now.Sub(startTime), a.SegsOut, a.Retransmits, l.ep[0].c.SRTT(), l.ep[0].c.RTO())
		if a.Retransmits != 0 || a.RTOs != 0 || b.Retransmits != 0 {
			t.Errorf("delayed ACK %v: lossless transfer retransmitted: A %+v, B %+v", delack, a, b)
		}
	}
}
