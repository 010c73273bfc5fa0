package dccp

import (
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/profile"
)

// queuedTransfer writes n datagrams from a CCID 2 client whose initial
// sequence number is iss, over 10 ms each way and a bottleneck of one
// packet per millisecond in the data direction with a drop-tail queue of
// 20 packets (about half the 20-packet path plus queue: the window must
// halve to stay near it). It returns how many data-direction packets the
// queue dropped and how many datagrams the server read.
func queuedTransfer(t *testing.T, iss seqnum.V48, n int) (drops, read int) {
	t.Helper()
	pr := newPair(t, profile.Linux, 10*time.Millisecond, func(c *Config) {
		c.NewCCID, c.CCID = nil, 2
		c.SendQueueLen, c.RecvQueueLen = 100, 4000
		if c.ISS == 1000 { // the client (newPair)
			c.ISS = iss
		}
	})
	const perPacket, queueLen = time.Millisecond, 20
	var busy clock.Instant // when the bottleneck has sent everything queued
	pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
		if from != 0 {
			return false, 0, false
		}
		if busy.Sub(pr.now) >= queueLen*perPacket {
			drops++
			return true, 0, false
		}
		busy = max(busy, pr.now).Add(perPacket)
		return false, busy.Sub(pr.now), false
	}
	pr.run(time.Second)
	if pr.conn[1] == nil || pr.conn[0].State() != Open {
		t.Fatalf("not open\n%s", pr.dump())
	}
	next, start := 0, pr.now.Sub(t0)
	for d := time.Duration(0); d < 10*time.Second; d += 2 * time.Millisecond {
		pr.at(start+d, func(now clock.Instant) {
			for next < n && pr.conn[0].Write(now, fmt.Appendf(nil, "%d", next)) == nil {
				next++
			}
			m, _ := readAll(pr.conn[1], now)
			read += len(m)
		})
	}
	pr.log = nil
	pr.run(15 * time.Second)
	return drops, read
}

// TestCCID2_QueueDropsAtAnyInitialSeq: the same transfer through a small
// drop-tail queue from initial sequence numbers in both halves of the
// 48-bit space. The window halves on each window with losses (RFC 4341
// §5), so few packets overflow the queue, and the initial sequence number
// (random, RFC 4340 §7.2) changes nothing: the same drops, the same
// deliveries. The sender whose reduction marker started at zero never
// halved from an initial sequence number past 2^47 and flooded the queue
// (the DCCP benchmark's seeds 1705 and 1706: 61 % dropped).
func TestCCID2_QueueDropsAtAnyInitialSeq(t *testing.T) {
	const n = 2000
	lowDrops, lowRead := queuedTransfer(t, 1000, n)
	if lowDrops == 0 || lowDrops*20 > n {
		t.Fatalf("initial sequence number 1000: %d of %d packets dropped at the queue, want some and under 5 %%", lowDrops, n)
	}
	for _, iss := range []seqnum.V48{1<<47 + 1000, 1<<48 - 24} {
		drops, read := queuedTransfer(t, iss, n)
		if drops != lowDrops || read != lowRead {
			t.Errorf("initial sequence number %d: %d dropped, %d read; from 1000: %d dropped, %d read",
				iss, drops, read, lowDrops, lowRead)
		}
	}
}
