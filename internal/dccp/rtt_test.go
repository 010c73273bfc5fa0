package dccp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

// recTx is a TxCCID that records the RTT samples the Conn hands it.
type recTx struct{ rtts []time.Duration }

func (r *recTx) CanSend(clock.Instant, int) (bool, clock.Instant)  { return true, 0 }
func (r *recTx) OnSent(clock.Instant, seqnum.V48, int, bool) uint8 { return 0 }
func (r *recTx) NextDeadline() clock.Instant                       { return 0 }
func (r *recTx) HandleTimer(clock.Instant)                         {}
func (r *recTx) OnPacket(_ clock.Instant, _ *Packet, _ bool, rtt time.Duration) {
	r.rtts = append(r.rtts, rtt)
}

// TestRTTSamples: the first sample sets SRTT (RFC 6298 §2.2: the
// handshake's echoed Timestamp, not an average with the 200 ms guess);
// later samples are averaged in with gain 1/8 (§2.3); the sender CCID is
// handed each packet's own sample, zero when it gave none (RFC 5348
// §4.3: the sender smooths its samples itself); a sample under the 10 µs
// Timestamp unit counts as one unit; an echo from the future is dropped.
func TestRTTSamples(t *testing.T) {
	rec := &recTx{}
	pr := open(t, profile.Linux, func(c *Config) {
		c.NewCCID = func(clock.Instant, uint8, int, int) (TxCCID, RxCCID) { return rec, nil }
	})
	c := pr.conn[0]
	if c.SRTT() != rtt {
		t.Fatalf("SRTT after the handshake %v, want the one sample %v", c.SRTT(), rtt)
	}
	now := pr.now
	feed := func(echoAgo, held time.Duration) {
		t.Helper()
		p := Packet{Type: wire.DCCPAck, X: true, Seq: c.GSR().Add(1), Ack: c.GSS()}
		if echoAgo != 0 || held != 0 {
			p.Options.HasEcho = true
			p.Options.Echo = wire.DCCPTimestampEcho{Echo: tsUnits(now.Add(-echoAgo)), Elapsed: uint32(held / tsUnit), ElapsedLen: 4}
		}
		rec.rtts = rec.rtts[:0]
		c.HandlePacket(now, &p)
		if len(rec.rtts) != 1 {
			t.Fatalf("CCID saw %d packets, want 1", len(rec.rtts))
		}
	}
	feed(30*time.Millisecond, 5*time.Millisecond)
	if rec.rtts[0] != 25*time.Millisecond {
		t.Errorf("CCID given %v, want this packet's sample 25ms", rec.rtts[0])
	}
	if want := (7*rtt + 25*time.Millisecond) / 8; c.SRTT() != want {
		t.Errorf("SRTT %v, want %v (gain 1/8)", c.SRTT(), want)
	}
	feed(0, 0)
	if rec.rtts[0] != 0 {
		t.Errorf("packet without an echo: CCID given %v, want 0", rec.rtts[0])
	}
	feed(5*time.Microsecond, time.Nanosecond) // echoed within the same 10 µs unit
	if rec.rtts[0] != tsUnit {
		t.Errorf("sub-unit sample: CCID given %v, want one unit (10µs)", rec.rtts[0])
	}
	before := c.SRTT()
	feed(-time.Second, 0) // echo of a Timestamp we never sent: in the future
	if rec.rtts[0] != 0 || c.SRTT() != before {
		t.Errorf("future echo: CCID given %v, SRTT %v -> %v; want no sample", rec.rtts[0], before, c.SRTT())
	}
}

// stuckTx is a sender CCID that never lets a packet out.
type stuckTx struct{ recTx }

func (stuckTx) CanSend(clock.Instant, int) (bool, clock.Instant) { return false, 0 }

// TestAppClosedThenPeerCloses: the application wrote and closed while
// its CCID held the datagrams back (the Close waits for the send queue),
// then the peer's Close (or CloseReq) arrived. PASSIVE_CLOSE (or
// PASSIVE_CLOSEREQ) would wait for an application Close that already
// happened, and the queue can no longer drain there: the connection must
// answer at once, the unsent datagrams discarded. (The soak found a
// client stuck so for ever: seed 860.)
func TestAppClosedThenPeerCloses(t *testing.T) {
	for _, tc := range []struct {
		peer      wire.DCCPType
		wantSent  string
		wantState State
	}{
		{wire.DCCPClose, "Reset(Closed)", Closed},
		{wire.DCCPCloseReq, "Close", Closing},
	} {
		s := newSingle(t, profile.Linux)
		s.c.tx = &stuckTx{}
		for _, d := range []string{"a", "b", "c"} {
			if err := s.c.Write(t0, []byte(d)); err != nil {
				t.Fatal(err)
			}
		}
		s.c.Close(t0)
		s.wantSent("the CCID holds the data; the Close waits for it")
		p := s.from(tc.peer, 1)
		s.c.HandlePacket(t0, &p)
		s.wantSent(tc.peer.String()+" after the application closed", tc.wantSent)
		if s.c.State() != tc.wantState {
			t.Errorf("%v: state %v, want %v", tc.peer, s.c.State(), tc.wantState)
		}
		if tc.wantState == Closed && s.c.Summary().UnsentDiscarded != 3 {
			t.Errorf("%v: %d datagrams discarded unsent, want 3", tc.peer, s.c.Summary().UnsentDiscarded)
		}
	}
}
