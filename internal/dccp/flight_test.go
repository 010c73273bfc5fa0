package dccp

import (
	"fmt"
	"testing"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
)

// TestCCID3_NonDataGapsAreNotLossEvents: CCID 3 over a lossless path
// while the sender interleaves non-data packets (a Sync every ~125 ms,
// each answered by a SyncAck). Non-data packets take sequence numbers
// (RFC 4340 §7.7), so the receiver sees gaps between data packets; the
// NDP Count option on the next packet (negotiated with Change R(Send NDP
// Count, 1), §7.7.2) tells it those gaps lost no data (§7.7.1, RFC 4342
// §6.1). The old receiver counted every gap: p > 0 on a lossless link.
func TestCCID3_NonDataGapsAreNotLossEvents(t *testing.T) {
	const n = 3000
	pr, got := bulkWith(t, 3, n, nil, func(pr *pair, now clock.Instant) {
		pr.conn[0].queueSync(now, pr.conn[0].gsr)
	})
	cl, sv := pr.conn[0], pr.conn[1]
	if len(got) != n {
		t.Fatalf("server read %d of %d datagrams", len(got), n)
	}
	if cl.counters.SyncsSent < 3 {
		t.Fatalf("client sent %d Syncs: the test needs non-data packets between data", cl.counters.SyncsSent)
	}
	if cl.feat.local[wire.DCCPFeatSendNDPCount] != 1 || sv.feat.remote[wire.DCCPFeatSendNDPCount] != 1 {
		t.Errorf("Send NDP Count: client %d, server's view %d; want 1 (asked by the CCID 3 receiver)",
			cl.feat.local[wire.DCCPFeatSendNDPCount], sv.feat.remote[wire.DCCPFeatSendNDPCount])
	}
	if sv.counters.LossEvents != 0 || sv.rx.(*ccid3Rx).rx.P() != 0 {
		t.Errorf("receiver: %d loss events, p = %g on a lossless path with %d Syncs interleaved; want none",
			sv.counters.LossEvents, sv.rx.(*ccid3Rx).rx.P(), cl.counters.SyncsSent)
	}
}

// TestCCID3_FlightStaysInSequenceWindow: CCID 3 is rate-based, so no
// window bounds its flight; at 10,000 packets/s over 40 ms (400 packets
// per round trip) the old code had far more than the Sequence Window of
// 100 unacknowledged, the receiver's acknowledgements fell below AWL
// (RFC 4340 §7.5.1) and were dropped (§8.5 step 6), and the Syncs that
// answered them left gaps the receiver counted as loss. Now the sender
// keeps its unacknowledged packets within 3W/4 and raises its Sequence
// Window (§7.5.2): no packet is out of window, no Sync, no loss event.
func TestCCID3_FlightStaysInSequenceWindow(t *testing.T) {
	const n = 3000
	pr, got := bulk(t, 3, n, nil)
	cl, sv := pr.conn[0], pr.conn[1]
	if len(got) != n || got[n-1] != fmt.Sprint(n-1) {
		t.Fatalf("server read %d of %d datagrams", len(got), n)
	}
	for i, c := range pr.conn {
		if c.counters.InvalidSeq != 0 || c.counters.SyncsSent != 0 || c.counters.LossEvents != 0 {
			t.Errorf("%s: %d packets out of window, %d Syncs, %d loss events; want none",
				sideName[i], c.counters.InvalidSeq, c.counters.SyncsSent, c.counters.LossEvents)
		}
	}
	if w := cl.feat.local[wire.DCCPFeatSequenceWindow]; w <= 100 || sv.feat.remote[wire.DCCPFeatSequenceWindow] != w {
		t.Errorf("client Sequence Window %d (server's view %d): want it raised above 100 and agreed",
			w, sv.feat.remote[wire.DCCPFeatSequenceWindow])
	}
}

// TestCCID2_AckRatioLiftsWindow: the receiver keeps its Sequence Window
// at 100, so with Ack Ratio 2 the sender's window stopped at 200 packets
// (its acknowledgements per window must fit the peer's Sequence Window).
// RFC 4341 §6.1.2: the sender raises the Ack Ratio with Change L(Ack
// Ratio) so that the receiver's acknowledgements stay within it; the
// receiver confirms and acknowledges every Ack Ratio data packets (RFC
// 4340 §11.3). On a path with 400 packets per round trip the window now
// passes 200, Ack Ratio stays within ceil(cwnd/2), and nothing is out of
// window.
func TestCCID2_AckRatioLiftsWindow(t *testing.T) {
	const n = 8000
	pr, got := bulk(t, 2, n, nil)
	cl, sv := pr.conn[0], pr.conn[1]
	if len(got) != n {
		t.Fatalf("server read %d of %d datagrams", len(got), n)
	}
	for i, c := range pr.conn {
		if c.counters.InvalidSeq != 0 || c.counters.SyncsSent != 0 {
			t.Errorf("%s: %d packets out of window, %d Syncs", sideName[i], c.counters.InvalidSeq, c.counters.SyncsSent)
		}
	}
	if w := sv.feat.local[wire.DCCPFeatSequenceWindow]; w != 100 {
		t.Fatalf("receiver's Sequence Window %d, the test needs 100", w)
	}
	ar := cl.feat.local[wire.DCCPFeatAckRatio]
	cw := cl.tx.(*ccid2Tx).t.Cwnd()
	if cw <= 200 {
		t.Errorf("cwnd %v with the peer's Sequence Window 100: want past 200 (Ack Ratio %d)", cw, ar)
	}
	if ar <= 2 || float64(ar) > cw/2+1 {
		t.Errorf("Ack Ratio %d with cwnd %v: want raised above 2 and at most ceil(cwnd/2)", ar, cw)
	}
	if sv.feat.remote[wire.DCCPFeatAckRatio] != ar || sv.rx.(*ccid2Rx).r.AckRatio() != int(ar) {
		t.Errorf("receiver: Ack Ratio %d in its features, %d in its CCID; the sender's confirmed value is %d",
			sv.feat.remote[wire.DCCPFeatAckRatio], sv.rx.(*ccid2Rx).r.AckRatio(), ar)
	}
	if cl.feat.change[wire.DCCPFeatAckRatio][0] {
		t.Errorf("Change L(Ack Ratio) still unconfirmed at the end")
	}
	if acks, data := sv.counters.PacketsOut, sv.counters.DataIn; acks*4 > data {
		t.Errorf("receiver sent %d packets for %d data packets: the Ack Ratio was not applied", acks, data)
	}
}
