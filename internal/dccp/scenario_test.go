package dccp

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
)

const rtt = 20 * time.Millisecond

// behaviours are the profiles the scenarios run under: the first has
// every DCCP closing behaviour off (profile.RFCNaive that also closes
// over unread data, a combination no shipped profile has, kept for the
// naive branch of TestScenario_DCCPAbortUnread), then Linux and
// RFC-naive as shipped. Fuzz and soak tests pick from the first two.
var behaviours = []profile.Profile{naiveClosing(), profile.Linux, profile.RFCNaive}

// naiveClosing is profile.RFCNaive with DCCPAbortOnUnread off.
func naiveClosing() profile.Profile {
	p := profile.RFCNaive
	p.Name, p.DCCPAbortOnUnread = "rfc-naive-no-abort", false
	return p
}

// open returns a pair whose handshake has completed.
func open(t *testing.T, b profile.Profile, mod func(*Config)) *pair {
	t.Helper()
	pr := newPair(t, b, rtt/2, mod)
	pr.run(time.Second)
	for side, c := range pr.conn {
		if c == nil || c.State() != Open {
			t.Fatalf("%s not OPEN after the handshake\n%s", sideName[side], pr.dump())
		}
	}
	return pr
}

func TestHandshake(t *testing.T) {
	pr := newPair(t, profile.Linux, rtt/2, nil)
	pr.run(time.Second)
	want := []string{"Request", "Ack"}
	if got := pr.sent(0); !slices.Equal(got, want) {
		t.Errorf("client sent %v, want %v: Request, then the Ack that leaves PARTOPEN's server side (§8.1.5)", got, want)
	}
	if got := pr.sent(1); !slices.Equal(got, []string{"Response", "Ack"}) {
		t.Errorf("server sent %v, want [Response Ack]: the Ack tells the PARTOPEN client its Ack arrived", got)
	}
	if pr.conn[0].State() != Open || pr.conn[1].State() != Open {
		t.Fatalf("states %v/%v, want OPEN/OPEN\n%s", pr.conn[0].State(), pr.conn[1].State(), pr.dump())
	}
}

// sendN has the server write n datagrams at time d.
func sendN(pr *pair, side int, d time.Duration, n int) {
	pr.at(d, func(now clock.Instant) {
		for i := range n {
			if err := pr.conn[side].Write(now, fmt.Appendf(nil, "d%d", i)); err != nil {
				pr.t.Fatalf("write %d: %v", i, err)
			}
		}
	})
}

// drainAndClose has a side read everything at time d, expecting EOF, and
// then close.
func drainAndClose(pr *pair, side int, d time.Duration, got *[]string, eof *error) {
	pr.at(d, func(now clock.Instant) {
		*got, *eof = readAll(pr.conn[side], now)
		pr.conn[side].Close(now)
	})
}

// TestScenario_DCCPCloseUnread is dccp-close-unread: the server sends
// datagrams, then Close (ServerTimewait); the client application reads
// only later.
func TestScenario_DCCPCloseUnread(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.Name, func(t *testing.T) {
			pr := open(t, b, func(c *Config) { c.ServerTimewait = true })
			sendN(pr, 1, 0, 3)
			pr.at(time.Millisecond, func(now clock.Instant) { pr.conn[1].Close(now) })
			var got []string
			var err error
			drainAndClose(pr, 0, 500*time.Millisecond, &got, &err)
			pr.run(time.Second)
			cl := pr.conn[0]
			if !b.DCCPPassiveCloseStates {
				if len(got) != 0 || cl.Summary().UnreadDiscarded != 3 {
					t.Errorf("naive: read %v, discarded %d; want nothing read and 3 discarded: the Reset answered the Close at once and erased the queue", got, cl.Summary().UnreadDiscarded)
				}
				if !errors.Is(err, io.EOF) {
					t.Errorf("naive: read error %v, want io.EOF", err)
				}
				return
			}
			if want := []string{"d0", "d1", "d2"}; !slices.Equal(got, want) || !errors.Is(err, io.EOF) {
				t.Errorf("linux: read %v then %v, want %v then io.EOF: PASSIVE_CLOSE keeps the queue", got, err, want)
			}
			resets := pr.count(0, "Reset(Closed)")
			if resets != 1 {
				t.Errorf("linux: client sent %d Reset(Closed), want 1 after the application closed\n%s", resets, pr.dump())
			}
			if s := pr.conn[1].State(); s != TimeWait {
				t.Errorf("server state %v, want TIMEWAIT (it sent Close and keeps TIMEWAIT)", s)
			}
			if s := cl.Summary(); s.UnreadDiscarded != 0 || s.How != ClosedGracefully {
				t.Errorf("client summary %+v, want nothing discarded, closed gracefully", s)
			}
		})
	}
}

// TestScenario_DCCPCloseReqUnread is dccp-closereq-unread.
func TestScenario_DCCPCloseReqUnread(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.Name, func(t *testing.T) {
			pr := open(t, b, nil)
			sendN(pr, 1, 0, 3)
			pr.at(time.Millisecond, func(now clock.Instant) { pr.conn[1].Close(now) })
			var got []string
			var err error
			drainAndClose(pr, 0, 500*time.Millisecond, &got, &err)
			pr.run(time.Second)
			if !b.DCCPPassiveCloseStates {
				if len(got) != 0 || pr.conn[0].Summary().UnreadDiscarded != 3 {
					t.Errorf("naive: read %v; want nothing: the client's immediate Close drew the Reset that wiped the queue\n%s", got, pr.dump())
				}
				return
			}
			if want := []string{"d0", "d1", "d2"}; !slices.Equal(got, want) || !errors.Is(err, io.EOF) {
				t.Errorf("linux: read %v then %v, want %v then io.EOF: PASSIVE_CLOSEREQ holds the Close", got, err, want)
			}
			if pr.count(0, "Close") != 1 || pr.count(1, "Reset(Closed)") != 1 {
				t.Errorf("want one Close from the client after the app closed and one Reset(Closed) from the server\n%s", pr.dump())
			}
			if s := pr.conn[0].State(); s != TimeWait {
				t.Errorf("client state %v, want TIMEWAIT: CloseReq makes the client keep it", s)
			}
			if s := pr.conn[1].State(); s != Closed {
				t.Errorf("server state %v, want CLOSED", s)
			}
		})
	}
}

// TestScenario_DCCPActiveClose is dccp-active-close: the close packets
// are retransmitted with exponential backoff while the peer is silent.
func TestScenario_DCCPActiveClose(t *testing.T) {
	for _, b := range behaviours {
		for _, serverTW := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/serverTimewait=%v", b.Name, serverTW), func(t *testing.T) {
				pr := open(t, b, func(c *Config) { c.ServerTimewait = serverTW })
				// A partition after the close starts: every packet is lost.
				var closeAt []time.Duration
				pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
					if p.Type == wire.DCCPClose || p.Type == wire.DCCPCloseReq {
						closeAt = append(closeAt, pr.now.Sub(t0))
					}
					return p.Type != wire.DCCPAck, 0, false
				}
				pr.at(0, func(now clock.Instant) { pr.conn[1].Close(now) })
				pr.run(20 * time.Minute)
				want := CloseReq
				if serverTW {
					want = Closing
				}
				if !slices.Contains(pr.states, fmt.Sprintf("server OPEN->%v (%s)", want, map[bool]string{false: "application closed, client asked to keep TIMEWAIT", true: "application closed, server keeps TIMEWAIT"}[serverTW])) {
					t.Fatalf("server did not enter %v\n%s", want, pr.dump())
				}
				if len(closeAt) != 16 { // the first and CloseRetries=15 retransmissions
					t.Fatalf("close packets at %v, want 16", closeAt)
				}
				if last := closeAt[len(closeAt)-1]; last <= maxBackoff {
					t.Errorf("last close packet at %v: the final timeout must come after 64 s (seed 001 §4.1)", last)
				}
				for i := 2; i < len(closeAt); i++ {
					gap, prev := closeAt[i]-closeAt[i-1], closeAt[i-1]-closeAt[i-2]
					if gap != min(2*prev, maxBackoff) {
						t.Errorf("retransmission %d after %v, previous gap %v: want doubling, capped at 64 s (§8.3)", i, gap, prev)
					}
				}
				if s := pr.conn[1]; s.State() != Closed || s.Summary().How != GaveUp {
					t.Errorf("server %v/%v, want CLOSED after the final timeout", s.State(), s.Summary().How)
				}
			})
		}
	}
}

// TestScenario_DCCPSimultaneousClose is dccp-simultaneous-close.
func TestScenario_DCCPSimultaneousClose(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.Name, func(t *testing.T) {
			pr := open(t, b, func(c *Config) { c.ServerTimewait = true })
			start := pr.now
			for side := range 2 {
				pr.at(start.Sub(t0), func(now clock.Instant) { pr.conn[side].Close(now) })
			}
			pr.run(30 * time.Minute)
			var end clock.Instant
			for _, c := range pr.conn {
				end = max(end, c.Summary().EndedAt)
			}
			took := end.Sub(start)
			if !b.DCCPCloseTieBreaker {
				if took <= 64*time.Second || pr.count(0, "Close") < 5 {
					t.Errorf("naive: ended after %v with %d client Closes; want a ping-pong lasting more than 64 s", took, pr.count(0, "Close"))
				}
				return
			}
			if took > rtt {
				t.Errorf("linux: ended after %v, want within one round trip (%v)\n%s", took, rtt, pr.dump())
			}
			if pr.count(0, "Reset(Closed)") != 1 || pr.conn[0].State() != Closed ||
				!slices.Contains(pr.states, "server CLOSING->TIMEWAIT (Reset(Closed) received)") {
				t.Errorf("linux: want the client's one Reset(Closed) to break the tie, client CLOSED, server TIMEWAIT\n%s", pr.dump())
			}
		})
	}
}

// TestScenario_DCCPCloseCrossesCloseReq is dccp-close-crosses-closereq.
func TestScenario_DCCPCloseCrossesCloseReq(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.Name, func(t *testing.T) {
			pr := open(t, b, nil)
			for side := range 2 {
				pr.at(pr.now.Sub(t0), func(now clock.Instant) { pr.conn[side].Close(now) })
			}
			pr.run(time.Minute)
			if got := pr.sent(0); !slices.Equal(got, []string{"Request", "Ack", "Close", "Close"}) {
				t.Errorf("client sent %v; want its Close, then another Close answering the CloseReq (§8.3)", got)
			}
			if got := pr.sent(1); !slices.Equal(got, []string{"Response", "Ack", "CloseReq", "Reset(Closed)", "Reset(No Connection)"}) {
				t.Errorf("server sent %v; want CloseReq, Reset(Closed) for the first Close, Reset(No Connection) from CLOSED for the second", got)
			}
			if c := pr.conn[0]; c.State() != TimeWait || c.Summary().How != ClosedGracefully {
				t.Errorf("client %v/%v, want TIMEWAIT/closed: TIMEWAIT ignores the No Connection Reset\n%s", c.State(), c.Summary().How, pr.dump())
			}
		})
	}
}

// TestScenario_DCCPAbortUnread is dccp-abort-unread.
func TestScenario_DCCPAbortUnread(t *testing.T) {
	for _, b := range behaviours {
		t.Run(b.Name, func(t *testing.T) {
			pr := open(t, b, nil)
			sendN(pr, 0, 0, 2)
			pr.at(100*time.Millisecond, func(now clock.Instant) { pr.conn[1].Close(now) })
			pr.run(time.Minute)
			sv, cl := pr.conn[1], pr.conn[0]
			if sv.Summary().UnreadDiscarded != 2 {
				t.Errorf("server discarded %d unread, want 2", sv.Summary().UnreadDiscarded)
			}
			_, err := cl.Read(pr.now, make([]byte, 10))
			if b.DCCPAbortOnUnread {
				if pr.count(1, "Reset(Aborted)") != 1 || !errors.Is(err, ErrConnReset) {
					t.Errorf("linux: want Reset(Aborted) and the client's read to fail with a reset, got %v\n%s", err, pr.dump())
				}
				return
			}
			if pr.count(1, "Reset(Aborted)") != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("naive: want a graceful close (no Aborted) and EOF, got %v\n%s", err, pr.dump())
			}
		})
	}
}
