package tcp

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

var fuzzStates = []State{SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait, Closing, LastAck, TimeWait}

// FuzzConnSegments drives a Conn from each state with a sequence of
// segments, application calls and timer runs decoded from the input, and
// checks the invariants after every step: it never panics, SND.UNA <=
// SND.NXT <= SND.MAX, the buffers stay within their sizes, out-of-order
// data stays inside the ring, and NextSegment always ends.
func FuzzConnSegments(f *testing.F) {
	f.Add([]byte{2, 0, byte(ACK | PSH), 1, 0, 5, 0})                           // data in ESTABLISHED
	f.Add([]byte{2, 0, byte(FIN | ACK), 1, 0, 0, 0, 1, 3})                     // FIN then close
	f.Add([]byte{2, 0, byte(RST), 1, 0, 0, 0})                                 // RST at RCV.NXT
	f.Add([]byte{0, 0, byte(SYN | ACK), 0, 1, 0, 0})                           // SYN-ACK in SYN-SENT
	f.Add([]byte{8, 0, byte(SYN), 3, 0, 0, 0, 2, 200})                         // SYN in TIME-WAIT, then time
	f.Add([]byte{2, 0, byte(ACK), 40, 0, 30, 0, 0, byte(ACK), 1, 0, 30, 0})    // out of order, then the gap
	f.Add([]byte{2, 1, 50, 1, 4, 2, 250, 2, 250, 0, byte(ACK), 0, 0xff, 0, 0}) // write, time, odd ACK
	// SACK on: write 246 bytes, three duplicate ACKs newly SACKing above
	// SND.UNA (recovery), a timeout, then an ACK of part of it.
	f.Add([]byte{0x82, 1, 246, 0, byte(ACK), 0, 0, 200, 0x12, 0, byte(ACK), 0, 0, 200, 0x21,
		0, byte(ACK), 0, 0, 200, 0x10, 2, 100, 0, byte(ACK), 0, 8, 200, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		// The top bit of the first byte makes the peer offer SACK, so the
		// scoreboard and SACK recovery run; segments then carry a fifth
		// byte that describes one SACK block.
		var peer wire.TCPOptions
		sack := data[0]&0x80 != 0
		peer.SACKPermitted = sack
		h := newHarnessPeer(t, fuzzStates[int(data[0]&0x7f)%len(fuzzStates)], peer, func(c *Config) {
			c.MSS, c.RecvBuffer, c.SendBuffer = 100, 400, 300
			c.NoSACK, c.NoTimestamps = false, false
		})
		payload := make([]byte, 256)
		for i := range payload {
			payload[i] = byte(i)
		}
		data = data[1:]
		for len(data) > 0 {
			op := data[0]
			data = data[1:]
			switch op % 3 {
			case 0: // a segment: flags, seq offset, ack offset, length, window
				if len(data) < 4 {
					return
				}
				s := Segment{Flags: wire.TCPFlags(data[0]),
					Seq:     h.c.rcvNxt.Add(seqnum.Size32(int32(int8(data[1])) * 7)),
					Ack:     h.c.sndUna.Add(seqnum.Size32(int32(int8(data[2])) * 13)),
					Payload: payload[:int(data[3])%200], Window: uint16(data[3]) * 8}
				if data[1]&1 != 0 {
					s.Options.HasTimestamp, s.Options.TSVal = true, uint32(data[2])<<8
				}
				data = data[4:]
				if sack && len(data) > 0 {
					b := data[0]
					left := s.Ack.Add(seqnum.Size32(b&0x0f) * 50)
					s.Options.SACK[0] = wire.SACKBlock{Left: left, Right: left.Add(seqnum.Size32(b>>4)*50 + 1)}
					s.Options.NumSACK = 1
					data = data[1:]
				}
				h.c.HandleSegment(h.now, &s)
			case 1: // an application call
				if len(data) < 1 {
					return
				}
				arg := data[0]
				data = data[1:]
				switch arg % 6 {
				case 0:
					h.c.Write(h.now, payload[:arg])
				case 1:
					h.c.Read(h.now, payload[:arg%64])
				case 2:
					h.c.CloseWrite(h.now)
				case 3:
					h.c.Close(h.now)
				case 4:
					h.c.CloseRead(h.now)
				case 5:
					h.c.Abort(h.now)
				}
			case 2: // time passes
				if len(data) < 1 {
					return
				}
				h.advance(time.Duration(data[0]) * 10 * time.Millisecond)
				checkTimerMoved(t, h.c.NextDeadline(), h.now, h.c.State())
				data = data[1:]
			}
			checkInvariants(t, h)
		}
	})
}

// checkTimerMoved fails when a core's deadline is not after now once it
// has run HandleTimer(now): the timer should have done its work or moved,
// or a driver that sleeps until NextDeadline goes round now for ever.
func checkTimerMoved(t testing.TB, next, now clock.Instant, what any) {
	t.Helper()
	if next != 0 && next <= now {
		t.Fatalf("%v: after HandleTimer(%v) the next deadline is %v, not later", what, now, next)
	}
}

func checkInvariants(t *testing.T, h *harness) {
	t.Helper()
	c := h.c
	n := 0
	var s Segment
	for c.NextSegment(h.now, &s) {
		if len(s.Payload) > c.sndMSS {
			t.Fatalf("segment of %d bytes > send MSS %d", len(s.Payload), c.sndMSS)
		}
		if n++; n > 1000 {
			t.Fatal("NextSegment does not end")
		}
	}
	if c.state >= SynReceived {
		if c.sndNxt.LessThan(c.sndUna) || c.sndMax.LessThan(c.sndNxt) {
			t.Fatalf("%v: sndUna %d sndNxt %d sndMax %d out of order", c.state, c.sndUna, c.sndNxt, c.sndMax)
		}
	}
	if c.snd.len() > c.cfg.SendBuffer || c.rcv.len() > c.rcv.cap() {
		t.Fatalf("buffers over size: snd %d/%d rcv %d/%d", c.snd.len(), c.cfg.SendBuffer, c.rcv.len(), c.rcv.cap())
	}
	if !c.ooo.empty() {
		readSeq := c.rcvNxt.Add(-seqnum.Size32(c.rcv.len()))
		if d := c.ooo.highest().Sub(readSeq); d < 0 || int(d) > c.rcv.cap() {
			t.Fatalf("out-of-order data ends %d bytes past the read point, ring %d", d, c.rcv.cap())
		}
		if c.ooo.r[0].left.LessThanEq(c.rcvNxt) {
			t.Fatalf("out-of-order range %v starts at or before RCV.NXT %d", c.ooo.r[0], c.rcvNxt)
		}
	}
	if c.lr != nil && c.state >= Established && c.state != TimeWait && c.state != Closed {
		if c.lr.sb.highACK != c.sndUna || c.sndMax.LessThan(c.lr.sb.highData) {
			t.Fatalf("%v: scoreboard [%d, %d) out of step with SND.UNA %d, SND.MAX %d",
				c.state, c.lr.sb.highACK, c.lr.sb.highData, c.sndUna, c.sndMax)
		}
		if p := c.lr.sb.Pipe(); p < 0 || p > 2*int(c.sndMax.Sub(c.sndUna)) {
			t.Fatalf("pipe %d outside [0, 2*flight %d]", p, c.sndMax.Sub(c.sndUna))
		}
		if r := &c.lr.rack; r.nLost < 0 || r.nRtx < 0 || r.nLost > r.n || r.nRtx > r.n || r.n > len(r.segs) {
			t.Fatalf("RACK counts out of step: %d records (ring %d), %d lost, %d retransmissions", r.n, len(r.segs), r.nLost, r.nRtx)
		}
		if p := c.pipe(); p < 0 || p > c.lr.sb.Pipe() {
			t.Fatalf("pipe less RACK's losses %d outside [0, %d]", p, c.lr.sb.Pipe())
		}
	}
	if c.state == Closed && c.NextDeadline() != 0 {
		t.Fatalf("CLOSED with a deadline armed")
	}
}
