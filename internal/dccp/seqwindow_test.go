package dccp

import (
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// bulk moves n datagrams from the client to the server over CCID id on
// a lossless path with a 20 ms one-way delay and, client to server, a
// bottleneck that takes 100 µs per packet with an unbounded queue (so
// the packets of a window arrive spread out and draw one acknowledgement
// per Ack Ratio, as on a real link). The writer keeps the send queue
// full and the reader drains every 2 ms. It returns the datagrams the
// server read, in order.
func bulk(t *testing.T, id uint8, n int, mod func(*Config)) (*pair, []string) {
	t.Helper()
	return bulkWith(t, id, n, mod, nil)
}

// bulkWith is bulk with a hook run every 2 ms on the writer's turn.
func bulkWith(t *testing.T, id uint8, n int, mod func(*Config), hook func(pr *pair, now clock.Instant)) (*pair, []string) {
	t.Helper()
	pr := newPair(t, profile.Linux, 20*time.Millisecond, func(c *Config) {
		c.NewCCID, c.CCID = nil, id
		c.SendQueueLen, c.RecvQueueLen = 1000, 4000
		if mod != nil {
			mod(c)
		}
	})
	var busy clock.Instant // when the client's bottleneck is free
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
	var got []string
	next := 0
	start := pr.now.Sub(t0)
	for d := time.Duration(0); d < 20*time.Second; d += 2 * time.Millisecond {
		pr.at(start+d, func(now clock.Instant) {
			for next < n && pr.conn[0].Write(now, fmt.Appendf(nil, "%d", next)) == nil {
				next++
			}
			if hook != nil {
				hook(pr, now)
			}
			m, _ := readAll(pr.conn[1], now)
			got = append(got, m...)
		})
	}
	pr.log = nil // thousands of lines; keep only the state trace for dumps
	pr.run(30 * time.Second)
	return pr, got
}

// TestCCID2_SequenceWindowFollowsCwnd: with 20 ms each way and nothing
// lost, CCID 2's window grows past the initial Sequence Window of 100.
// RFC 4340 §7.5.2 wants the Sequence Window several times the packets in
// flight and asks endpoints to send Change L(Sequence Window) as the
// connection progresses; acknowledgements of packets more than W' = 100
// back would otherwise fall below AWL (§7.5.1) and be dropped by §8.5
// step 6. The sender must (a) never have more than its Sequence Window
// in flight and (b) raise the window (Linux: about five times cwnd),
// the receiver adopting the peer's new value at once.
func TestCCID2_SequenceWindowFollowsCwnd(t *testing.T) {
	const n = 3000
	pr, got := bulk(t, 2, n, nil)
	cl, sv := pr.conn[0], pr.conn[1]
	if len(got) != n || got[n-1] != fmt.Sprint(n-1) {
		t.Fatalf("server read %d of %d datagrams; client InvalidSeq %d, server InvalidSeq %d",
			len(got), n, cl.counters.InvalidSeq, sv.counters.InvalidSeq)
	}
	for i, c := range pr.conn {
		if c.counters.InvalidSeq != 0 || c.counters.SyncsSent != 0 {
			t.Errorf("%s: %d packets out of window, %d Syncs: the windows did not follow the flight",
				sideName[i], c.counters.InvalidSeq, c.counters.SyncsSent)
		}
	}
	w := cl.feat.local[wire.DCCPFeatSequenceWindow]
	if w <= 100 {
		t.Errorf("client Sequence Window %d, want it raised above 100", w)
	}
	if r := sv.feat.remote[wire.DCCPFeatSequenceWindow]; r != w {
		t.Errorf("server's view of the client's Sequence Window %d, client's %d", r, w)
	}
	if cl.tx == nil {
		t.Fatal("no CCID 2 sender")
	}
	if cw := cl.tx.(*ccid2Tx).t.Cwnd(); cw <= 100 || cw > float64(w) {
		t.Errorf("cwnd %v: want it past the initial window (the path allows it) and at most the Sequence Window %d", cw, w)
	}
}

// TestSeqWindowChangeConfirm: a Change L(Sequence Window) made in OPEN
// keeps the old value until the Confirm echoes the new one (§6.6.1); the
// Confirm of an older offer does not end a newer one; the peer adopts
// the value at once and confirms it; a value outside [32, 2^46-1]
// (§7.5.2) is not adopted.
func TestSeqWindowChangeConfirm(t *testing.T) {
	var a, b featureSet
	cfg := Config{SequenceWindow: 100}
	a.init(false, &cfg)
	b.init(true, &cfg)
	const sw = wire.DCCPFeatSequenceWindow
	relay := func(from, to *featureSet) {
		var o Options
		from.appendPending(&o)
		var cn Counters
		if code := to.process(&o, &cn); code != 0 {
			t.Fatalf("process: Reset %v", code)
		}
	}
	if !a.changeLocalNN(sw, 200) || a.changeLocalNN(sw, 200) {
		t.Fatal("changeLocalNN(200): want one new Change, then none for the same value")
	}
	if a.local[sw] != 100 {
		t.Errorf("local window %d before the Confirm, want 100", a.local[sw])
	}
	relay(&a, &b) // Change L(200) reaches b
	if b.remote[sw] != 200 {
		t.Errorf("peer's view %d, want 200 at once", b.remote[sw])
	}
	a.changeLocalNN(sw, 400) // a newer offer before the Confirm of 200
	relay(&b, &a)            // Confirm R(200): stale
	if a.local[sw] != 100 || !a.pending() {
		t.Errorf("after a stale Confirm: local %d pending %v, want 100 and still pending", a.local[sw], a.pending())
	}
	relay(&a, &b) // Change L(400)
	relay(&b, &a) // Confirm R(400)
	if a.local[sw] != 400 || b.remote[sw] != 400 || a.pending() {
		t.Errorf("after Confirm: local %d, peer's view %d, pending %v; want 400, 400, false", a.local[sw], b.remote[sw], a.pending())
	}
	for _, v := range []uint64{0, 31} {
		var o Options
		o.AddFeature(wire.DCCPOptChangeL, sw, false, []byte{0, 0, 0, 0, 0, byte(v)})
		var cn Counters
		if code := b.process(&o, &cn); code != 0 {
			t.Fatalf("Change L(%d): Reset %v, want an empty Confirm", v, code)
		}
		if b.remote[sw] != 400 {
			t.Errorf("Change L(%d) adopted: peer's view %d", v, b.remote[sw])
		}
		var m Options
		m.AddFeature(wire.DCCPOptChangeL, sw, true, []byte{0, 0, 0, 0, 0, byte(v)})
		if code := b.process(&m, &cn); code != wire.DCCPResetMandatoryError {
			t.Errorf("Mandatory Change L(%d): Reset %v, want Mandatory Error", v, code)
		}
	}
}
