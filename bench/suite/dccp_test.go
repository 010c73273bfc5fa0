package suite

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// On a lossless link every datagram written is either read by the
// receiving application or dropped by its full receive queue, and every
// one carries the largest payload.
func TestDCCPBulkConservesDatagrams(t *testing.T) {
	for _, ccid := range []int{2, 3} {
		r, err := DCCPBulk(ccid, 1500, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("ccid %d: %v", ccid, err)
		}
		if r.Sent == 0 || r.Delivered == 0 {
			t.Fatalf("ccid %d: nothing moved: %+v", ccid, r)
		}
		if r.Delivered+int64(r.RecvQueueDrops) != r.Sent {
			t.Errorf("ccid %d: %d delivered + %d dropped by the receive queue != %d written", ccid, r.Delivered, r.RecvQueueDrops, r.Sent)
		}
		if r.PeerDrops != r.RecvQueueDrops {
			t.Errorf("ccid %d: the receive queue dropped %d datagrams, the sender heard of %d (Data Dropped must report each)", ccid, r.RecvQueueDrops, r.PeerDrops)
		}
		if r.Bytes != r.Delivered*1380 {
			t.Errorf("ccid %d: %d bytes in %d datagrams, want 1380 each (MTU 1500 less IP header and DCCP's header room)", ccid, r.Bytes, r.Delivered)
		}
	}
}

// A reader slower than the sender: every datagram is read or dropped,
// and every drop is reported to the sender.
func TestDCCPSlowReaderReportsEveryDrop(t *testing.T) {
	for _, ccid := range []int{2, 3} {
		r, err := DCCPSlowReader(ccid, 1500, 100*time.Millisecond)
		if err != nil {
			t.Fatalf("ccid %d: %v", ccid, err)
		}
		if r.Delivered+int64(r.RecvQueueDrops) != r.Sent || r.PeerDrops != r.RecvQueueDrops {
			t.Errorf("ccid %d: written %d, read %d, dropped %d, drops the sender heard of %d", ccid, r.Sent, r.Delivered, r.RecvQueueDrops, r.PeerDrops)
		}
	}
}

// The TCP reference counts what the server read to end-of-stream.
func TestTCPTimedCountsBytes(t *testing.T) {
	r, err := TCPTimed(1500, 50*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if r.Bytes == 0 || r.Bytes%(256<<10) != 0 {
		t.Errorf("read %d bytes, want a positive multiple of the 256 KiB writes", r.Bytes)
	}
	if r.Sent != 0 || r.LostPercent() != 0 {
		t.Errorf("TCP has no datagrams: %+v", r)
	}
}

func TestTimedResultFigures(t *testing.T) {
	r := TimedResult{Bytes: 125_000_000, Elapsed: 2 * time.Second, Sent: 200, Delivered: 150}
	if got := r.Mbps(); got != 500 {
		t.Errorf("Mbps = %v, want 500", got)
	}
	if got := r.LostPercent(); got != 25 {
		t.Errorf("LostPercent = %v, want 25", got)
	}
	if (TimedResult{Bytes: 1}).Mbps() != 0 {
		t.Error("no elapsed time must give 0, not +Inf")
	}
}

// The ratio is DCCP over TCP, absent without a TCP figure.
func TestDCCPRowRatio(t *testing.T) {
	if v, ok := (DCCPRow{DCCP: &Figure{Median: 3}, TCP: &Figure{Median: 6}}).Ratio(); !ok || v != 0.5 {
		t.Errorf("ratio %v %v, want 0.5", v, ok)
	}
	if _, ok := (DCCPRow{DCCP: &Figure{Median: 3}}).Ratio(); ok {
		t.Error("no TCP figure must give no ratio")
	}
	if _, ok := (DCCPRow{DCCP: &Figure{Median: 3}, TCP: &Figure{}}).Ratio(); ok {
		t.Error("a zero TCP figure must give no ratio")
	}
}

// The table has the columns, one line per row, "—" where absent.
func TestWriteDCCPTable(t *testing.T) {
	rows := []DCCPRow{
		{Measure: "dccp-ccid2-1500", Unit: "Mbit/s", DCCP: &Figure{Min: 900, Median: 1000, Max: 1100}, TCP: &Figure{Median: 4000}},
		{Measure: "dccp-ccid2-lost", Unit: "% datagrams", DCCP: &Figure{Min: 1, Median: 2, Max: 3}},
	}
	var buf bytes.Buffer
	WriteDCCPTable(&buf, rows)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("got %d lines, want header, rule and 2 rows:\n%s", len(lines), buf.String())
	}
	want := []string{
		"| dccp-ccid2-1500 | Mbit/s | 900 / **1000** / 1100 | 4000 | 0.25 | — |",
		"| dccp-ccid2-lost | % datagrams | 1.00 / **2.00** / 3.00 | — | — | — |",
	}
	for i, w := range want {
		if lines[2+i] != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, lines[2+i], w)
		}
	}
}

// On the simulated path every datagram written is read, dropped by the
// link (random loss or a full bottleneck queue), or dropped by the
// receive queue; TCP delivers every byte; and a seed replays its run.
func TestDCCPSimTransfer_ConservesDatagrams(t *testing.T) {
	cond := DCCPConditions[1] // 1 % loss
	for _, proto := range DCCPSimProtos {
		r, err := DCCPSimTransfer(proto, cond, simSeedBase, 400)
		if err != nil {
			t.Fatalf("%s: %v", proto, err)
		}
		if proto == "tcp" {
			if r.Bytes != 400*dccpPayload {
				t.Errorf("tcp: read %d bytes, want %d", r.Bytes, 400*dccpPayload)
			}
			continue
		}
		if r.Sent != 400 {
			t.Fatalf("%s: wrote %d datagrams, want 400", proto, r.Sent)
		}
		if r.DCCPSender.DataOut != 400 || r.DCCPReceiver.DataIn != uint64(r.Delivered)+r.RecvQueueDrops {
			t.Errorf("%s: sender's DataOut %d, receiver's DataIn %d, delivered %d + dropped %d", proto,
				r.DCCPSender.DataOut, r.DCCPReceiver.DataIn, r.Delivered, r.RecvQueueDrops)
		}
		// Non-data packets (Request, Ack, Close) cross the data direction
		// too, so the link's drops bound the data lost from above.
		if lost := uint64(r.Sent - r.Delivered); lost-r.RecvQueueDrops > r.Data.Lost+r.Data.QueueDrops {
			t.Errorf("%s: %d datagrams missing, the link dropped only %d", proto, lost-r.RecvQueueDrops, r.Data.Lost+r.Data.QueueDrops)
		}
		again, err := DCCPSimTransfer(proto, cond, simSeedBase, 400)
		if err != nil || again.Elapsed != r.Elapsed || again.Delivered != r.Delivered {
			t.Errorf("%s: the same seed gave %v/%d then %v/%d (%v)", proto, r.Elapsed, r.Delivered, again.Elapsed, again.Delivered, err)
		}
	}
}

// The simulated table gives each counter's median, and its range when
// the runs differ.
func TestWriteSimTable(t *testing.T) {
	v := 0.5
	rows := []SimRow{{Condition: "loss-1%", Proto: "ccid2", Mbps: &Figure{Min: 7, Median: 8, Max: 45}, VsTCP: &v,
		Counters: map[string]*Figure{"link-lost": {Min: 180, Median: 190, Max: 200}, "loss-events": {Min: 0, Median: 0, Max: 0}}}}
	var buf bytes.Buffer
	WriteSimTable(&buf, rows)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := "| loss-1% | ccid2 | 7.00 / **8.00** / 45.0 | 0.50 | — | 190 (180–200) | — | — | — | — | 0 | — |"
	if len(lines) != 3 || lines[2] != want {
		t.Errorf("got:\n%s\nwant row:\n%s", buf.String(), want)
	}
}

// The faulty link loses exactly every DropEvery-th packet of the data
// direction: a DCCP transfer over it reads fewer datagrams than written,
// and the writes all complete (DCCP does not retransmit).
func TestDCCPBulkFaultyLoses(t *testing.T) {
	r, err := DCCPBulkFaulty(2, 1500, 100*time.Millisecond, Fault{Name: "loss1", DropEvery: 100})
	if err != nil {
		t.Fatal(err)
	}
	if r.Sent < 200 || r.Delivered+int64(r.RecvQueueDrops) >= r.Sent {
		t.Errorf("written %d, read %d, dropped by the queue %d: the link lost nothing", r.Sent, r.Delivered, r.RecvQueueDrops)
	}
}
