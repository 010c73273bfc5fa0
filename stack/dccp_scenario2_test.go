package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// TestDCCPSimultaneousClose: dccp-simultaneous-close. Both ends send
// Close at the same instant (the server with ServerTimewait). Naive: the
// Closes ping-pong until the final timeout, > 64 s. Linux: the client
// breaks the tie with Reset and both end within one round trip.
func TestDCCPSimultaneousClose(t *testing.T) {
	const oneWay = 5 * time.Millisecond
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n := newDCCPNet(t, 3, p, netsim.LinkConfig{Latency: oneWay})
			l := n.listen(stack.DCCPListenOptions{ServerTimewait: true})
			var cr, sr stack.DCCPCloseReport
			var cState, sState string
			var closeAt clock.Instant
			var sc, cc *stack.DCCPConn
			n.run.Go(func() {
				var err error
				if sc, err = l.AcceptDCCP(); err != nil {
					t.Error(err)
				}
			})
			n.run.Go(func() {
				var err error
				if cc, err = n.dial(stack.DCCPOptions{}); err != nil {
					t.Error(err)
					return
				}
				n.run.Sleep(time.Second) // the handshake is over on both sides
				closeAt = n.run.Now()
				cc.Close()
				sc.Close()
				n.run.Sleep(10 * time.Second)
				cState, sState = cc.State(), sc.State()
				n.run.Sleep(30 * time.Minute)
				cr, sr = cc.Report(), sc.Report()
			})
			n.runAll()
			cEnd, sEnd := time.Duration(cr.EndedAt.UnixNano()-int64(closeAt)), time.Duration(sr.EndedAt.UnixNano()-int64(closeAt))
			switch p.Name {
			case "rfc-naive":
				// The client gives up first; its final Reset (Aborted) ends
				// the server, still retransmitting, a moment later.
				if cr.How != "gave up" || cEnd <= 64*time.Second || sEnd <= 64*time.Second {
					t.Errorf("naive: client %v after %v, server %v after %v; want the ping-pong to last until the final timeout, > 64 s", cr, cEnd, sr, sEnd)
				}
				if len(n.sent("client", wire.DCCPClose)) < 10 || len(n.sent("server", wire.DCCPClose)) < 10 {
					t.Errorf("naive: want Closes retransmitted by both ends\n%s", n.dump())
				}
			case "linux":
				rtt := 2 * oneWay
				if cEnd > rtt || sEnd > rtt {
					t.Errorf("linux: client ended after %v, server after %v; want both within one round trip (%v)", cEnd, sEnd, rtt)
				}
				resets := n.sent("client", wire.DCCPReset)
				if len(resets) != 1 || resets[0].code != wire.DCCPResetClosed || len(n.sent("server", wire.DCCPReset)) != 0 {
					t.Errorf("linux: the client alone breaks the tie with Reset(Closed)\n%s", n.dump())
				}
				if sState != "TIMEWAIT" || cState != "CLOSED" {
					t.Errorf("linux: server %s, client %s; want the server in TIMEWAIT", sState, cState)
				}
			}
		})
	}
}

// TestDCCPCloseCrossesCloseReq: dccp-close-crosses-closereq. The client's
// Close crosses the server's CloseReq: the client (CLOSING) answers the
// CloseReq with another Close; the server, CLOSED after its Reset, answers
// that with Reset (No Connection); the client in TIMEWAIT ignores it.
func TestDCCPCloseCrossesCloseReq(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n := newDCCPNet(t, 4, p, netsim.LinkConfig{})
			l := n.listen(stack.DCCPListenOptions{})
			var cr, sr stack.DCCPCloseReport
			var sc, cc *stack.DCCPConn
			n.run.Go(func() {
				var err error
				if sc, err = l.AcceptDCCP(); err != nil {
					t.Error(err)
				}
			})
			n.run.Go(func() {
				var err error
				if cc, err = n.dial(stack.DCCPOptions{}); err != nil {
					t.Error(err)
					return
				}
				n.run.Sleep(time.Second)
				cc.Close()
				sc.Close()
				n.run.Sleep(10 * time.Second)
				cr, sr = cc.Report(), sc.Report()
			})
			n.runAll()
			if got := len(n.sent("client", wire.DCCPClose)); got != 2 {
				t.Errorf("client sent %d Closes, want 2: the CloseReq is answered with another Close (§8.3)\n%s", got, n.dump())
			}
			var codes []string
			for _, r := range n.sent("server", wire.DCCPReset) {
				codes = append(codes, r.code.String())
			}
			if strings.Join(codes, ",") != "Closed,No Connection" {
				t.Errorf("server Resets %v, want Closed then No Connection\n%s", codes, n.dump())
			}
			if cr.State != "TIMEWAIT" || cr.How != "closed" || sr.How != "closed" {
				t.Errorf("client %v, server %v: want both closed, the client in TIMEWAIT ignoring the second Reset", cr, sr)
			}
		})
	}
}

// TestDCCPAbortUnread: dccp-abort-unread. A client that closes with
// datagrams unread aborts with Reset (Aborted), as Linux does; the
// server's next call sees the reset (ECONNRESET).
func TestDCCPAbortUnread(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n := newDCCPNet(t, 5, p, netsim.LinkConfig{})
			l := n.listen(stack.DCCPListenOptions{})
			var readErr, writeErr error
			var cr stack.DCCPCloseReport
			n.run.Go(func() {
				c, err := l.AcceptDCCP()
				if err != nil {
					t.Error(err)
					return
				}
				writeN(t, c, 3)
				_, readErr = readAll(c)
				_, writeErr = c.Write([]byte("late"))
			})
			n.run.Go(func() {
				c, err := n.dial(stack.DCCPOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				n.run.Sleep(time.Second)
				c.Close()
				cr = c.Report()
			})
			n.runAll()
			resets := n.sent("client", wire.DCCPReset)
			if len(resets) != 1 || resets[0].code != wire.DCCPResetAborted {
				t.Errorf("client Resets %v, want Reset(Aborted)\n%s", resets, n.dump())
			}
			if cr.UnreadDiscarded != 3 || cr.How != "reset sent" {
				t.Errorf("client report %v, want 3 unread datagrams discarded by the abort", cr)
			}
			if !errors.Is(readErr, syscall.ECONNRESET) || !errors.Is(readErr, stack.ErrConnReset) {
				t.Errorf("server read: %v, want ECONNRESET", readErr)
			}
			if !errors.Is(writeErr, syscall.ECONNRESET) {
				t.Errorf("server write: %v, want ECONNRESET", writeErr)
			}
		})
	}
}

// TestDCCPBacklogFull: dccp-backlog-full. A full backlog answers a
// Request with Reset (Too Busy): the dialer fails at once with EUSERS,
// where TCP would drop the SYN in silence.
func TestDCCPBacklogFull(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) { backlogFull(t, p) })
	}
}

func backlogFull(t *testing.T, p profile.Profile) {
	n := newDCCPNet(t, 6, p, netsim.LinkConfig{})
	l := n.listen(stack.DCCPListenOptions{Backlog: 1})
	var first, second error
	var failedAt clock.Instant
	n.run.Go(func() {
		_, first = n.dial(stack.DCCPOptions{})
		start := n.run.Now()
		_, second = n.dial(stack.DCCPOptions{})
		failedAt = n.run.Now() - start
	})
	n.runAll()
	if first != nil {
		t.Fatalf("first dial: %v", first)
	}
	if !errors.Is(second, stack.ErrTooBusy) || !errors.Is(second, syscall.EUSERS) {
		t.Errorf("second dial: %v, want Too Busy (EUSERS)", second)
	}
	if d := time.Duration(failedAt); d > 20*time.Millisecond {
		t.Errorf("the refusal took %v: a Reset answers at once, no retransmission", d)
	}
	if st := l.Stats(); st.TooBusy != 1 || st.Requests != 2 {
		t.Errorf("listener stats %+v, want 2 Requests, 1 refused", st)
	}
}

// TestDCCPDialErrors: a wrong service code (EBADRQC), no listener
// (ECONNREFUSED), a peer that never answers (ETIMEDOUT).
func TestDCCPDialErrors(t *testing.T) {
	n := newDCCPNet(t, 7, profileLinux(), netsim.LinkConfig{})
	n.listen(stack.DCCPListenOptions{Services: []uint32{42}})
	var bad, refused, timeout error
	n.run.Go(func() {
		_, bad = n.dial(stack.DCCPOptions{Service: 7})
		_, refused = n.client.DialDCCP(context.Background(), netip.AddrPortFrom(serverAddr, dccpPort+1), stack.DCCPOptions{})
		n.link.SetDown(netsim.Both)
		_, timeout = n.dial(stack.DCCPOptions{Service: 42})
	})
	n.runAll()
	if !errors.Is(bad, syscall.EBADRQC) || !errors.Is(bad, stack.ErrBadServiceCode) {
		t.Errorf("wrong service code: %v, want EBADRQC", bad)
	}
	if !errors.Is(refused, syscall.ECONNREFUSED) {
		t.Errorf("no listener: %v, want ECONNREFUSED", refused)
	}
	if !errors.Is(timeout, syscall.ETIMEDOUT) {
		t.Errorf("silent peer: %v, want ETIMEDOUT", timeout)
	}
	if st := n.server.DCCPStats(); st.ResetsForNoConnection != 1 || st.ResetsBadServiceCode != 1 {
		t.Errorf("server stats %+v, want one Reset each for No Connection and Bad Service Code", st)
	}
}

// TestDCCPWriteLimits: a datagram over the maximum fails with EMSGSIZE
// naming the maximum; with QueueFullError a full queue fails with EAGAIN;
// without it Write blocks until the deadline; Read honours its deadline.
func TestDCCPWriteLimits(t *testing.T) {
	n := newDCCPNet(t, 8, profileLinux(), netsim.LinkConfig{})
	l := n.listen(stack.DCCPListenOptions{})
	n.run.Go(func() { l.AcceptDCCP() })
	var tooBig, full, deadline, readDL error
	var max, queued int
	n.run.Go(func() {
		c, err := n.dial(stack.DCCPOptions{QueueFullError: true, SendQueueLen: 2})
		if err != nil {
			t.Error(err)
			return
		}
		max = c.MaxDatagram()
		_, tooBig = c.Write(make([]byte, max+1))
		if _, err := c.Write(make([]byte, max)); err != nil {
			t.Errorf("a datagram of the maximum size: %v", err)
		}
		n.run.Sleep(time.Second)    // OPEN: CCID 2 runs (PARTOPEN sends freely)
		n.link.SetDown(netsim.Both) // nothing acknowledged: CCID 2's window fills
		for range 100 {
			if _, full = c.Write([]byte("x")); full != nil {
				break
			}
			queued++
		}
		c2, err := n.dial(stack.DCCPOptions{SendQueueLen: 1})
		_ = c2
		if err == nil {
			t.Error("dial over a down link succeeded")
		}
		now := time.Unix(0, int64(n.run.Now()))
		c.SetReadDeadline(now.Add(time.Second))
		_, readDL = c.Read(make([]byte, 10))
	})
	n.runAll()
	var tb *stack.DCCPTooBigError
	if !errors.As(tooBig, &tb) || !errors.Is(tooBig, syscall.EMSGSIZE) || tb.Max != max || !strings.Contains(tooBig.Error(), "maximum") {
		t.Errorf("too big: %v, want EMSGSIZE naming the maximum %d", tooBig, max)
	}
	if max != 1500-20-100 {
		t.Errorf("maximum datagram %d, want MTU 1500 - IPv4 20 - header room 100", max)
	}
	if !errors.Is(full, syscall.EAGAIN) || queued == 0 {
		t.Errorf("full queue after %d writes: %v, want EAGAIN", queued, full)
	}
	if !errors.Is(readDL, errDeadline()) {
		t.Errorf("read past the deadline: %v", readDL)
	}
	_ = deadline
}
