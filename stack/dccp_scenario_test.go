package stack_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

const nDatagrams = 5

// closeUnread runs dccp-close-unread (serverTimewait: the server closes
// with Close) or dccp-closereq-unread (the server closes with CloseReq):
// the server sends datagrams and closes while the client's application is
// busy; the client reads one second later, then closes.
func closeUnread(t *testing.T, p profile.Profile, serverTimewait bool) (n *dccpNet, got []string, readErr error, cr, sr stack.DCCPCloseReport, passive string, readDone clock.Instant) {
	n = newDCCPNet(t, 1, p, netsim.LinkConfig{})
	l := n.listen(stack.DCCPListenOptions{ServerTimewait: serverTimewait})
	n.run.Go(func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			t.Error(err)
			return
		}
		writeN(t, c, nDatagrams)
		c.Close()
		n.run.Sleep(5 * time.Second) // less than TIMEWAIT (60 s)
		sr = c.Report()
	})
	n.run.Go(func() {
		c, err := n.dial(stack.DCCPOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		n.run.Sleep(time.Second) // the application is busy
		passive = c.State()
		got, readErr = readAll(c)
		readDone = n.run.Now()
		c.Close()
		n.run.Sleep(5 * time.Second)
		cr = c.Report()
	})
	n.runAll()
	return
}

func TestDCCPCloseUnread(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n, got, err, cr, sr, passive, readDone := closeUnread(t, p, true)
			if !isEOF(err) {
				t.Errorf("client read ended with %v, want end-of-stream", err)
			}
			resets := n.sent("client", wire.DCCPReset)
			if len(resets) != 1 || resets[0].code != wire.DCCPResetClosed {
				t.Fatalf("client Resets %v, want one Reset(Closed) confirming the server's Close\n%s", resets, n.dump())
			}
			if sr.How != "closed" || sr.State != "TIMEWAIT" {
				t.Errorf("server report %v: the server that sent Close holds TIMEWAIT", sr)
			}
			switch p.Name {
			case "rfc-naive":
				if len(got) != 0 || cr.UnreadDiscarded != nDatagrams {
					t.Errorf("naive: read %v, discarded %d; the seed: the Reset goes out at once and the queue is erased", got, cr.UnreadDiscarded)
				}
			case "linux":
				if len(got) != nDatagrams || cr.UnreadDiscarded != 0 || passive != "PASSIVE_CLOSE" {
					t.Errorf("linux: read %v (state %s), discarded %d; want every datagram read in PASSIVE_CLOSE", got, passive, cr.UnreadDiscarded)
				}
				if resets[0].at < readDone {
					t.Errorf("the Reset went out before the application read the queue: it must wait for it")
				}
			}
		})
	}
}

func TestDCCPCloseReqUnread(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n, got, err, cr, sr, passive, _ := closeUnread(t, p, false)
			if !isEOF(err) {
				t.Errorf("client read ended with %v, want end-of-stream", err)
			}
			if len(n.sent("server", wire.DCCPCloseReq)) == 0 || len(n.sent("client", wire.DCCPClose)) != 1 {
				t.Fatalf("want the server's CloseReq answered by one Close\n%s", n.dump())
			}
			if cr.State != "TIMEWAIT" || sr.State != "CLOSED" || cr.How != "closed" {
				t.Errorf("client %v, server %v: after CloseReq the client holds TIMEWAIT (§8.3)", cr, sr)
			}
			switch p.Name {
			case "rfc-naive":
				if len(got) != 0 || cr.UnreadDiscarded != nDatagrams {
					t.Errorf("naive: read %v, discarded %d; the seed: the Close goes out at once and the Reset wipes the queue", got, cr.UnreadDiscarded)
				}
			case "linux":
				if len(got) != nDatagrams || cr.UnreadDiscarded != 0 || passive != "PASSIVE_CLOSEREQ" {
					t.Errorf("linux: read %v (state %s), discarded %d; want every datagram read in PASSIVE_CLOSEREQ", got, passive, cr.UnreadDiscarded)
				}
			}
		})
	}
}

// TestDCCPActiveClose: dccp-active-close. CloseReq (server asks, client
// keeps TIMEWAIT) and Close with ServerTimewait (server keeps TIMEWAIT);
// with the client cut off, the close packet is retransmitted with
// exponential backoff (§8.3) until the final timeout, after 64 s.
func TestDCCPActiveClose(t *testing.T) {
	for _, p := range dccpProfiles {
		for _, tw := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/serverTimewait=%v", p.Name, tw), func(t *testing.T) {
				n := newDCCPNet(t, 2, p, netsim.LinkConfig{})
				l := n.listen(stack.DCCPListenOptions{ServerTimewait: tw})
				var sr stack.DCCPCloseReport
				var closedAt clock.Instant
				n.run.Go(func() {
					c, err := l.AcceptDCCP()
					if err != nil {
						t.Error(err)
						return
					}
					n.link.SetDown(netsim.Both)
					closedAt = n.run.Now()
					c.Close()
					n.run.Sleep(20 * time.Minute)
					sr = c.Report()
				})
				n.run.Go(func() {
					if _, err := n.dial(stack.DCCPOptions{}); err != nil {
						t.Error(err)
					}
				})
				n.runAll()
				typ, state := wire.DCCPCloseReq, "CLOSEREQ"
				if tw {
					typ, state = wire.DCCPClose, "CLOSING"
				}
				_ = state
				sent := n.sent("server", typ)
				if len(sent) != 16 {
					t.Fatalf("server sent %d %v, want the first and 15 retransmissions\n%s", len(sent), typ, n.dump())
				}
				for i := 2; i < len(sent); i++ {
					gap, prev := sent[i].at-sent[i-1].at, sent[i-1].at-sent[i-2].at
					if want := min(2*prev, clock.Instant(64*time.Second)); gap != want {
						t.Errorf("retransmission %d after %v, previous %v: want doubling capped at 64 s (§8.3)", i, time.Duration(gap), time.Duration(prev))
					}
				}
				if sr.How != "gave up" || time.Duration(sr.EndedAt.UnixNano()-int64(closedAt)) <= 64*time.Second {
					t.Errorf("server %v: the final timeout comes after 64 s", sr)
				}
			})
		}
	}
}
