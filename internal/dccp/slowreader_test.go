package dccp

import (
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/profile"
)

// slowRead runs a sender writing n datagrams as fast as its CCID lets it
// (a 100 µs bottleneck, 10 ms each way) to a receiver whose application
// reads one datagram every 2 ms into a receive queue of 16: the sender
// can go about twenty times faster than the reader. All in protocol time.
// mk, if set, wraps the CCIDs.
func slowRead(t *testing.T, id uint8, n int, mk NewCCIDFunc) (pr *pair, read int) {
	t.Helper()
	pr = newPair(t, profile.Linux, 10*time.Millisecond, func(c *Config) {
		c.NewCCID, c.CCID = mk, id
		c.SendQueueLen, c.RecvQueueLen = 64, 16
	})
	var busy clock.Instant
	pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
		if from != 0 {
			return false, 0, false
		}
		busy = max(busy, pr.now).Add(100 * time.Microsecond)
		return false, busy.Sub(pr.now), false
	}
	pr.run(time.Second)
	if pr.conn[1] == nil || pr.conn[0].State() != Open {
		t.Fatalf("not open\n%s", pr.dump())
	}
	// Full-sized datagrams: the options of a data packet (Ack Vector,
	// Data Dropped, timestamps, features) must fit the header room
	// (checkFits).
	// Once all is written the sender closes; the reader reads to the end
	// and closes: the drops of the last round trip are reported too.
	next, buf := 0, make([]byte, 2048)
	msg := make([]byte, pr.conn[0].MaxPayload())
	start := pr.now.Sub(t0)
	closed := false
	for d := time.Duration(0); d < 5*time.Second; d += 2 * time.Millisecond {
		pr.at(start+d, func(now clock.Instant) {
			for next < n && pr.conn[0].Write(now, msg) == nil {
				next++
			}
			if next == n && !closed {
				pr.conn[0].Close(now)
				closed = true
			}
			switch _, err := pr.conn[1].Read(now, buf); err {
			case nil:
				read++
			case io.EOF:
				pr.conn[1].Close(now)
			}
		})
	}
	pr.log = nil
	pr.run(15 * time.Second)
	if next != n {
		t.Fatalf("wrote %d of %d datagrams", next, n)
	}
	return pr, read
}

// deaf wraps the default CCIDs so that the sender never hears of Data
// Dropped or Slow Receiver: the behaviour before RFC 4340 §11.6/§11.7
// were implemented (the drops are still reported on the wire).
func deaf(now clock.Instant, id uint8, mps int, ackRatio int) (TxCCID, RxCCID) {
	tx, rx := DefaultCCIDs(now, id, mps, ackRatio)
	return deafTx{tx}, deafRx{rx}
}

// deafTx hides dropTx and slowReceiverTx, deafRx hides dropRx.
type (
	deafTx struct{ TxCCID }
	deafRx struct{ RxCCID }
)

// TestSlowReader_EveryDropReportedAndSenderSlows: the receive queue
// overflows because the application reads slowly. Each datagram it drops
// is reported to the sender with Data Dropped (Drop State 2, Receive
// Buffer; RFC 4340 §11.7) — the sender counts every one, once — and the
// sender's CCID reacts (§11.7.2, with Slow Receiver §11.6): fewer than
// half as many datagrams are dropped as when the sender ignores the
// reports.
func TestSlowReader_EveryDropReportedAndSenderSlows(t *testing.T) {
	const n = 1200
	for _, id := range []uint8{2, 3} {
		t.Run(fmt.Sprintf("ccid%d", id), func(t *testing.T) {
			pr, read := slowRead(t, id, n, nil)
			cl, sv := pr.conn[0], pr.conn[1]
			drops := sv.counters.RecvQueueDrops
			if drops == 0 {
				t.Fatalf("the reader kept up (read %d): the test needs a slow reader", read)
			}
			if uint64(read)+drops+uint64(sv.Queued()) != n {
				t.Errorf("read %d + dropped %d + queued %d != written %d", read, drops, sv.Queued(), n)
			}
			if cl.counters.PeerDrops != drops {
				t.Errorf("receiver dropped %d datagrams, sender heard of %d: every drop must be reported (Data Dropped)",
					drops, cl.counters.PeerDrops)
			}
			if sv.counters.SlowReceiverSent == 0 || cl.counters.SlowReceiverIn == 0 {
				t.Errorf("Slow Receiver sent %d, received %d; want some while the queue ran full",
					sv.counters.SlowReceiverSent, cl.counters.SlowReceiverIn)
			}
			dpr, _ := slowRead(t, id, n, deaf)
			deafDrops := dpr.conn[1].counters.RecvQueueDrops
			t.Logf("CCID %d: %d of %d dropped (%.1f %%); a sender ignoring the reports: %d (%.1f %%)",
				id, drops, n, 100*float64(drops)/n, deafDrops, 100*float64(deafDrops)/n)
			if 2*drops >= deafDrops {
				t.Errorf("%d drops with the sender reacting, %d without: the sender did not slow down", drops, deafDrops)
			}
		})
	}
}

// TestAckVec_DataDroppedAlignedWithAckNumber: packets 10-20 received,
// 14, 15 and 18 dropped by the receive buffer. From Acknowledgement
// Number 21 (one past the head, say after a Sync) backwards: a normal
// block of 3 (21, 20, 19), a drop block of 1 (18), a normal block of 2
// (17, 16), a drop block of 2 (15, 14); older packets are not mentioned,
// so they count as not dropped (RFC 4340 §11.7).
func TestAckVec_DataDroppedAlignedWithAckNumber(t *testing.T) {
	var a ackVecRx
	for s := seqnum.V48(10); s <= 20; s++ {
		a.record(s)
	}
	for _, s := range []seqnum.V48{14, 15, 18} {
		a.markDropped(s, 2)
	}
	got := a.encodeDropped(nil, 21, a.reach(), dropBlocks)
	want := []byte{2, 0x80 | 2<<4, 1, 0x80 | 2<<4 | 1} // state 2, run lengths 0 and 1
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("blocks %08b, want %08b", got, want)
	}
	a.trim(16) // the sender acknowledged an acknowledgement reaching 16
	if got := a.encodeDropped(nil, 21, a.reach(), dropBlocks); fmt.Sprint(got) != fmt.Sprint(want[:2]) {
		t.Errorf("after trim: blocks %08b, want %08b (14, 15 no longer reported)", got, want[:2])
	}
	if !a.received(14) {
		t.Errorf("trim forgot that 14 was received: duplicates would be delivered again")
	}
}
