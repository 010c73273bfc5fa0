package tcp

import (
	"errors"
	"strings"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
)

// payloadSizes returns the payload length of each segment.
func payloadSizes(ss []Segment) []int {
	n := make([]int, len(ss))
	for i, s := range ss {
		n[i] = len(s.Payload)
	}
	return n
}

// A Packet Too Big quoting a segment in flight lowers the send MSS, and
// what was in flight leaves again at once, cut to the new size, without a
// retransmission timeout and without shrinking the congestion window.
func TestEstablished_PathMTUResegments(t *testing.T) {
	for _, sack := range []bool{false, true} {
		name := "newreno"
		var peer wire.TCPOptions
		if sack {
			name, peer = "sack", wire.TCPOptions{SACKPermitted: true}
		}
		t.Run(name, func(t *testing.T) {
			h := newHarnessPeer(t, Established, peer, func(c *Config) { c.NoDelay = true; c.NoSACK = !sack })
			h.app.Write(strings.Repeat("x", 1072))
			if got := payloadSizes(h.drain()); len(got) != 2 || got[0] != 536 || got[1] != 536 {
				t.Fatalf("sent %v, want two segments of the default MSS 536", got)
			}
			cwnd := h.c.cc.CWnd()
			if !h.c.HandlePathMTU(h.now, 300, localISS+1+536) {
				t.Fatal("a PTB quoting the second segment did not lower the MSS")
			}
			if h.c.SendMSS() != 300 {
				t.Fatalf("send MSS %d, want 300", h.c.SendMSS())
			}
			got := h.drain()
			if sz := payloadSizes(got); len(sz) != 4 || sz[0] != 300 || sz[1] != 300 || sz[2] != 300 || sz[3] != 172 {
				t.Fatalf("resent %v, want 300, 300, 300, 172", sz)
			}
			if got[0].Seq != localISS+1 {
				t.Fatalf("resending began at %d, want SND.UNA %d", got[0].Seq, localISS+1)
			}
			if h.c.Counters().RTOs != 0 || h.c.cc.CWnd() < cwnd {
				t.Fatalf("RTOs %d, cwnd %d (was %d): a PTB is not congestion", h.c.Counters().RTOs, h.c.cc.CWnd(), cwnd)
			}
			h.recv(seg{flags: ACK, seq: remoteISS + 1, ack: localISS + 1 + 1072})
			if h.c.sndUna != localISS+1+1072 {
				t.Fatal("the resent data was not accepted as acknowledged")
			}
		})
	}
}

// RFC 5927 §4.1: a quote of a sequence number not in flight (acknowledged
// already, or never sent) changes nothing; nor does a larger MTU (RFC 8201
// §4) or one below the floor.
func TestEstablished_PathMTUIgnored(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write("abcd")
	h.drain()
	for _, c := range []struct {
		name string
		mss  int
		seq  uint32
	}{
		{"acknowledged", 300, uint32(localISS)},
		{"never sent", 300, uint32(localISS + 5)},
		{"far away", 300, uint32(localISS + 1<<30)},
		{"larger", 1000, uint32(localISS + 1)},
		{"same", 536, uint32(localISS + 1)},
		{"below the floor", DefaultConfig().MinSendMSS - 1, uint32(localISS + 1)},
	} {
		if h.c.HandlePathMTU(h.now, c.mss, seqnum.V32(c.seq)) {
			t.Errorf("%s: the MSS went down", c.name)
		}
	}
	if h.c.SendMSS() != 536 {
		t.Fatalf("send MSS %d, want 536 unchanged", h.c.SendMSS())
	}
	h.wantNothingMore()
}

// With timestamps, the option's room comes off the path's MSS too.
func TestEstablished_PathMTUWithTimestamps(t *testing.T) {
	h := newHarnessPeer(t, Established, wire.TCPOptions{HasTimestamp: true, TSVal: 1, HasMSS: true, MSS: 1000},
		func(c *Config) { c.NoDelay = true; c.NoTimestamps = false })
	h.app.Write("abcd")
	h.drain()
	if !h.c.HandlePathMTU(h.now, 500, localISS+1) || h.c.SendMSS() != 500-wire.TCPTimestampRoom {
		t.Fatalf("send MSS %d, want %d", h.c.SendMSS(), 500-wire.TCPTimestampRoom)
	}
}

// A port unreachable quoting our SYN ends the connect with the error the
// host chose; one quoting another sequence number does not.
func TestSynSent_HardErrorRefuses(t *testing.T) {
	h := newHarness(t, SynSent)
	refused := errors.New("refused by ICMP")
	if h.c.HandleHardError(h.now, refused, localISS+1) {
		t.Fatal("a quote past the SYN was taken")
	}
	h.wantState(SynSent)
	if !h.c.HandleHardError(h.now, refused, localISS) {
		t.Fatal("a quote of the SYN was not taken")
	}
	h.wantState(Closed)
	if h.c.Err() != refused || h.c.Summary().Ending != EndRefused || h.c.Summary().RSTReceived {
		t.Fatalf("err %v, ending %v, RST received %v", h.c.Err(), h.c.Summary().Ending, h.c.Summary().RSTReceived)
	}
	if h.c.NextDeadline() != 0 {
		t.Fatal("a timer is still armed after the connect failed")
	}
	h.wantNothingMore()
}

// RFC 1122 §4.2.3.9: once established, a hard error does not abort.
func TestEstablished_HardErrorIgnored(t *testing.T) {
	h := newHarness(t, Established, func(c *Config) { c.NoDelay = true })
	h.app.Write("abcd")
	h.drain()
	if h.c.HandleHardError(h.now, errors.New("x"), localISS+1) {
		t.Fatal("a hard error aborted an established connection")
	}
	h.wantState(Established)
}

// In SYN-SENT only the SYN is in flight; the SYN-ACK decides the MSS.
func TestSynSent_PathMTUIgnored(t *testing.T) {
	h := newHarness(t, SynSent)
	if h.c.HandlePathMTU(h.now, 300, localISS) {
		t.Fatal("a PTB quoting the SYN lowered the MSS")
	}
	h.wantState(SynSent)
	h.wantNothingMore()
}
