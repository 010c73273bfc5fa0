package netsim

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
)

func TestCleanLink_DeliversEveryPacketOnceInOrderAtLatencyPlusSerialization(t *testing.T) {
	const (
		n    = 50
		size = 1500
		bw   = 12_000_000 // 1500 bytes take exactly 1ms
	)
	lat := 10 * time.Millisecond
	s, a, _, l, r := pair(t, 1, LinkConfig{Latency: lat, Bandwidth: bw}, LinkConfig{})
	sent := make([][]byte, n)
	for i := range n {
		// Send one every 2ms: the link is idle when each one starts.
		s.Schedule(at(time.Duration(i)*2*time.Millisecond), func() {
			sent[i] = udp4(addrA, addrB, uint32(i), size)
			send(t, a, sent[i])
		})
	}
	run(t, s)
	if len(r.got) != n {
		t.Fatalf("delivered %d packets, want %d", len(r.got), n)
	}
	for i, g := range r.got {
		if g.num != uint32(i) {
			t.Fatalf("packet %d arrived in position %d: not in order", g.num, i)
		}
		want := at(time.Duration(i)*2*time.Millisecond + time.Millisecond + lat)
		if g.at != want {
			t.Fatalf("packet %d arrived at +%v, want +%v (send + 1ms serialization + 10ms latency)",
				i, g.at.Sub(Epoch), want.Sub(Epoch))
		}
		if !bytes.Equal(g.data, sent[i]) {
			t.Fatalf("packet %d arrived altered", i)
		}
	}
	ab, _ := l.Stats()
	if ab.Sent != n || ab.Delivered != n || ab.Dropped() != 0 || ab.Bytes != n*size {
		t.Fatalf("stats %+v, want %d sent and delivered, none dropped", ab, n)
	}
}

func TestCleanLink_ZeroConfigIsInstantaneous(t *testing.T) {
	s, a, _, _, r := pair(t, 1, LinkConfig{}, LinkConfig{})
	for i := range 10 {
		send(t, a, udp4(addrA, addrB, uint32(i), 100))
	}
	run(t, s)
	if len(r.got) != 10 {
		t.Fatalf("delivered %d, want 10", len(r.got))
	}
	for i, g := range r.got {
		if g.at != Epoch || g.num != uint32(i) {
			t.Fatalf("packet %d: num %d at +%v, want in order at +0", i, g.num, g.at.Sub(Epoch))
		}
	}
}

func TestWritePackets_CopiesTheCallersBuffer(t *testing.T) {
	s, a, _, _, r := pair(t, 1, LinkConfig{Latency: time.Millisecond}, LinkConfig{})
	p := udp4(addrA, addrB, 7, 64)
	orig := append([]byte(nil), p...)
	send(t, a, p)
	for i := range p {
		p[i] = 0xff // the caller reuses its buffer at once
	}
	run(t, s)
	if len(r.got) != 1 || !bytes.Equal(r.got[0].data, orig) {
		t.Fatal("the packet in flight changed when the sender reused its buffer")
	}
}

func TestBandwidth_NPacketsTakeNTimesSizeOverBandwidth(t *testing.T) {
	const (
		n    = 1000
		size = 1250
		bw   = 100_000_000 // 1250 bytes = 10000 bits = 100µs
	)
	s, a, _, _, r := pair(t, 1, LinkConfig{Bandwidth: bw}, LinkConfig{})
	for i := range n {
		send(t, a, udp4(addrA, addrB, uint32(i), size))
	}
	run(t, s)
	if len(r.got) != n {
		t.Fatalf("delivered %d, want %d", len(r.got), n)
	}
	want := time.Duration(n * size * 8 * int64(time.Second) / bw)
	if got := r.got[n-1].at.Sub(Epoch); got != want {
		t.Fatalf("last packet after %v, want N*S*8/bw = %v", got, want)
	}
	for i, g := range r.got {
		if w := Epoch.Add(time.Duration(i+1) * 100 * time.Microsecond); g.at != w || g.num != uint32(i) {
			t.Fatalf("packet %d (num %d) at +%v, want +%v", i, g.num, g.at.Sub(Epoch), w.Sub(Epoch))
		}
	}
}

func TestQueueLimit_DropsExactlyTheOverflow(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  LinkConfig
		size int
		want int // packets accepted from a burst of 20: one on the wire + the queue
	}{
		{"packets", LinkConfig{Bandwidth: 8_000_000, QueuePackets: 5}, 1000, 6},
		{"bytes", LinkConfig{Bandwidth: 8_000_000, QueueBytes: 3500}, 1000, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, a, _, l, r := pair(t, 1, tc.cfg, LinkConfig{})
			for i := range 20 {
				send(t, a, udp4(addrA, addrB, uint32(i), tc.size))
			}
			// Once the first packet has left (1ms at 8 Mbit/s), one more fits.
			s.Schedule(at(time.Millisecond), func() { send(t, a, udp4(addrA, addrB, 100, tc.size)) })
			run(t, s)
			ab, _ := l.Stats()
			if ab.QueueDrops != uint64(20-tc.want) {
				t.Fatalf("queue drops = %d, want %d", ab.QueueDrops, 20-tc.want)
			}
			if len(r.got) != tc.want+1 {
				t.Fatalf("delivered %d, want %d", len(r.got), tc.want+1)
			}
			for i := range tc.want {
				if r.got[i].num != uint32(i) {
					t.Fatalf("position %d holds packet %d: tail drop must keep the head", i, r.got[i].num)
				}
			}
			if last := r.got[tc.want]; last.num != 100 {
				t.Fatalf("the packet sent after the queue drained was not delivered last (got %d)", last.num)
			}
		})
	}
}

func TestLoss_RateOver100kPacketsWithinFiveSigma(t *testing.T) {
	const (
		n = 100_000
		p = 0.1
	)
	s, a, _, l, r := pair(t, 12345, LinkConfig{Loss: p}, LinkConfig{})
	pkt := udp4(addrA, addrB, 0, 64)
	for i := range n {
		fillUDP4(pkt, addrA, addrB, uint32(i))
		send(t, a, pkt)
	}
	run(t, s)
	ab, _ := l.Stats()
	mean := n * p
	sigma := math.Sqrt(n * p * (1 - p))
	if d := math.Abs(float64(ab.Lost) - mean); d > 5*sigma {
		t.Fatalf("lost %d of %d, expected %.0f ± %.0f (5σ)", ab.Lost, n, mean, 5*sigma)
	}
	if ab.Lost+ab.Delivered != n || len(r.got) != int(ab.Delivered) {
		t.Fatalf("lost %d + delivered %d != sent %d (receiver saw %d)", ab.Lost, ab.Delivered, n, len(r.got))
	}
}

func TestPartition_DropsExactlyThePacketsInsideTheInterval(t *testing.T) {
	s := New(1)
	a := s.AddHost("a", addrA)
	b := s.AddHost("b", addrB)
	l := s.Connect(b, a, LinkConfig{Latency: 5 * time.Millisecond}) // made as (b, a) on purpose
	ra, rb := &recorder{sim: s}, &recorder{sim: s}
	a.Attach(ra)
	b.Attach(rb)
	from, until := at(10*time.Millisecond), at(20*time.Millisecond)
	if err := s.Partition(a, b, from, until, AtoB); err != nil {
		t.Fatal(err)
	}
	for i := range 30 { // one packet each way every millisecond, at +0 .. +29ms
		s.Schedule(at(time.Duration(i)*time.Millisecond), func() {
			send(t, a, udp4(addrA, addrB, uint32(i), 100))
			send(t, b, udp4(addrB, addrA, uint32(i), 100))
		})
	}
	run(t, s)
	var gotAB []uint32
	for _, g := range rb.got {
		gotAB = append(gotAB, g.num)
	}
	for i := range uint32(30) {
		inside := i >= 10 && i < 20 // sent at t with from <= t < until
		has := false
		for _, n := range gotAB {
			has = has || n == i
		}
		if has == inside {
			t.Fatalf("a->b packet sent at +%dms: delivered=%v, partition [10ms,20ms) says %v", i, has, !inside)
		}
	}
	if len(ra.got) != 30 {
		t.Fatalf("b->a delivered %d of 30: the partition was only a->b", len(ra.got))
	}
	ba, ab := l.Stats() // the link was made as (b, a)
	if ab.Partition != 10 || ba.Partition != 0 {
		t.Fatalf("partition drops a->b %d, b->a %d; want 10 and 0", ab.Partition, ba.Partition)
	}
}

func TestSetLinkDown_DropsUntilUp(t *testing.T) {
	s, a, b, _, r := pair(t, 1, LinkConfig{}, LinkConfig{})
	if err := s.SetLinkDown(a, b, Both); err != nil {
		t.Fatal(err)
	}
	send(t, a, udp4(addrA, addrB, 1, 100))
	if err := s.SetLinkUp(b, a, BtoA); err != nil { // a->b seen from b
		t.Fatal(err)
	}
	send(t, a, udp4(addrA, addrB, 2, 100))
	run(t, s)
	if len(r.got) != 1 || r.got[0].num != 2 {
		t.Fatalf("got %v, want only packet 2 (sent after SetLinkUp)", r.got)
	}
	if err := s.SetLinkDown(a, s.AddHost("c", addrC), Both); err == nil {
		t.Fatal("SetLinkDown between unlinked hosts did not fail")
	}
}

func TestCorrupt_FlipsExactlyOneBit(t *testing.T) {
	s, a, _, l, r := pair(t, 99, LinkConfig{Corrupt: 1}, LinkConfig{})
	var sent [][]byte
	for i := range 200 {
		p := udp4(addrA, addrB, uint32(i), 60+i)
		sent = append(sent, p)
		send(t, a, p)
	}
	run(t, s)
	if len(r.got) != 200 {
		t.Fatalf("delivered %d, want 200 (corruption does not drop)", len(r.got))
	}
	for i, g := range r.got {
		flipped := 0
		for j := range g.data {
			x := g.data[j] ^ sent[i][j]
			for ; x != 0; x &= x - 1 {
				flipped++
			}
		}
		if flipped != 1 {
			t.Fatalf("packet %d: %d bits differ, want exactly 1", i, flipped)
		}
	}
	if ab, _ := l.Stats(); ab.Corrupted != 200 {
		t.Fatalf("Corrupted = %d, want 200", ab.Corrupted)
	}
}

func TestDuplicate_DeliversTwoIdenticalCopies(t *testing.T) {
	s, a, _, l, r := pair(t, 1, LinkConfig{Duplicate: 1, Latency: time.Millisecond}, LinkConfig{})
	p := udp4(addrA, addrB, 5, 300)
	send(t, a, p)
	run(t, s)
	if len(r.got) != 2 || !bytes.Equal(r.got[0].data, p) || !bytes.Equal(r.got[1].data, p) {
		t.Fatalf("got %d copies, want 2 identical to the sent packet", len(r.got))
	}
	if ab, _ := l.Stats(); ab.Duplicated != 1 || ab.Delivered != 2 || ab.Sent != 1 {
		t.Fatalf("stats %+v, want 1 sent, 1 duplicated, 2 delivered", ab)
	}
}

func TestReorder_LaterPacketsOvertakeTheHeldPacket(t *testing.T) {
	s, a, _, l, r := pair(t, 3, LinkConfig{Latency: time.Millisecond, Reorder: 0.2, ReorderDelay: 5 * time.Millisecond}, LinkConfig{})
	for i := range 200 {
		s.Schedule(at(time.Duration(i)*100*time.Microsecond), func() { send(t, a, udp4(addrA, addrB, uint32(i), 100)) })
	}
	run(t, s)
	ab, _ := l.Stats()
	if ab.Reordered == 0 || len(r.got) != 200 {
		t.Fatalf("reordered %d, delivered %d; want some reordered, all delivered", ab.Reordered, len(r.got))
	}
	inversions := 0
	for i := 1; i < len(r.got); i++ {
		if r.got[i].num < r.got[i-1].num {
			inversions++
		}
	}
	if inversions == 0 {
		t.Fatal("no packet arrived out of order although the reorder fault fired")
	}
}

func TestJitter_DelaysButNeverReorders(t *testing.T) {
	lat, jit := time.Millisecond, 3*time.Millisecond
	s, a, _, _, r := pair(t, 5, LinkConfig{Latency: lat, Jitter: jit}, LinkConfig{})
	sentAt := map[uint32]clock.Instant{}
	for i := range 500 {
		s.Schedule(at(time.Duration(i)*50*time.Microsecond), func() {
			sentAt[uint32(i)] = s.Now()
			send(t, a, udp4(addrA, addrB, uint32(i), 100))
		})
	}
	run(t, s)
	distinct := map[time.Duration]bool{}
	for i, g := range r.got {
		if g.num != uint32(i) {
			t.Fatalf("position %d holds packet %d: jitter reordered", i, g.num)
		}
		d := g.at.Sub(sentAt[g.num])
		if d < lat {
			t.Fatalf("packet %d took %v, less than the latency %v", i, d, lat)
		}
		distinct[d] = true
	}
	if len(distinct) < 50 {
		t.Fatalf("only %d distinct delays over 500 packets: jitter not applied", len(distinct))
	}
}

func TestLinkMTU_DropsLargerPackets(t *testing.T) {
	s, a, _, l, r := pair(t, 1, LinkConfig{MTU: 1000}, LinkConfig{})
	a.SetMTU(9000) // the host does not know about the black hole
	send(t, a, udp4(addrA, addrB, 1, 1000))
	send(t, a, udp4(addrA, addrB, 2, 1001))
	run(t, s)
	if ab, _ := l.Stats(); len(r.got) != 1 || r.got[0].num != 1 || ab.TooBig != 1 {
		t.Fatalf("delivered %d, TooBig %d; want only the 1000-byte packet, one MTU drop", len(r.got), ab.TooBig)
	}
}
