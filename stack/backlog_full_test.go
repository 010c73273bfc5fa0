package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/simrun"
	"github.com/teardown-lab/teardown/stack"
)

// dialResult is what one client of backlog-full saw.
type dialResult struct {
	at   clock.Instant // when Dial returned
	err  error
	conn *stack.TCPConn
}

// fullSchedule starts five clients against a listener with backlog 2
// that accepts nothing before 2 s: clients 0 and 1 at 0 and 100 ms,
// clients 2 and 3 together at 200 ms (both SYNs before either final ACK),
// client 4 at 500 ms. At 2 s it snapshots the listener, then accepts
// everything that comes. It returns the snapshot, the dial results, and
// the connections accepted.
func fullSchedule(t *testing.T, p profile.Profile, opts stack.ListenOptions) (stack.ListenStats, []dialResult, int, *simNet) {
	n := newSimNet(t, 7, simOpts{serverProfile: p})
	opts.Backlog = 2
	l, err := n.server.ListenTCP(backlogPort, opts)
	if err != nil {
		t.Fatal(err)
	}
	starts := []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond}
	res := make([]dialResult, len(starts))
	for i, d := range starts {
		n.run.Go(func() {
			n.run.Sleep(d)
			c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, backlogPort))
			res[i] = dialResult{at: n.run.Now(), err: err, conn: c}
		})
	}
	var snap stack.ListenStats
	accepted := 0
	n.run.Go(func() {
		n.run.Sleep(2 * time.Second)
		snap = l.Stats()
		for accepted < len(starts) {
			if _, err := l.AcceptTCP(); err != nil {
				return
			}
			accepted++
		}
	})
	// Run to the end: clients refused or timed out leave accept blocked.
	if err := n.run.Run(func() bool { return accepted == len(starts) }); err != nil && !errors.Is(err, simrun.ErrDeadlock) {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return snap, res, accepted, n
}

func connectedBefore(res []dialResult, at clock.Instant) int {
	k := 0
	for _, r := range res {
		if r.err == nil && r.conn != nil && r.at < at {
			k++
		}
	}
	return k
}

// backlog-full under linux: the accept queue holds backlog+1 (3); the
// fourth client's SYN-ACK arrived but its final ACK found the queue full
// and was dropped, so its request stays and the SYN-ACK is retransmitted;
// the fifth client's SYN is dropped in silence. Nobody gets an RST, and
// once the server accepts, every client gets through.
func TestBacklogFullLinux(t *testing.T) {
	snap, res, accepted, _ := fullSchedule(t, profile.Linux, stack.ListenOptions{})
	t2 := netsim.Epoch.Add(2 * time.Second)
	if snap.AcceptQueue != 3 || snap.SYNQueue != 1 {
		t.Errorf("at 2 s: accept queue %d, SYN queue %d; want 3 (backlog+1, Linux's >) and 1 (the final ACK dropped)",
			snap.AcceptQueue, snap.SYNQueue)
	}
	if snap.AcceptOverflows < 2 || snap.SYNACKRetransmits < 1 || snap.SYNsDropped < 1 || snap.RSTsSent != 0 {
		t.Errorf("at 2 s: %+v; want accept overflows (final ACK and SYN), a SYN-ACK retransmitted, a SYN dropped, no RST", snap)
	}
	// The client of the dropped ACK believes it is connected: its Dial
	// returned as soon as the SYN-ACK came.
	if got := connectedBefore(res, t2); got != 4 {
		t.Errorf("clients connected by 2 s: %d, want 4 (three queued, one whose ACK was dropped)", got)
	}
	if accepted != 5 {
		t.Errorf("accepted %d in the end, want all 5", accepted)
	}
}

// With AbortOnOverflow (tcp_abort_on_overflow=1) the final ACK that finds
// the accept queue full is answered with RST: that client's connection,
// established on its side, is reset.
func TestBacklogFullLinuxAbortOnOverflow(t *testing.T) {
	snap, res, _, _ := fullSchedule(t, profile.Linux, stack.ListenOptions{AbortOnOverflow: true})
	if snap.RSTsSent != 1 || snap.SYNQueue != 0 {
		t.Errorf("at 2 s: %+v; want one RST for the final ACK and no request kept", snap)
	}
	resets := 0
	for _, r := range res {
		if r.conn == nil {
			continue
		}
		if r.conn.Stats().RSTsIn > 0 && r.conn.State() == "CLOSED" {
			resets++
		}
	}
	if resets != 1 {
		t.Errorf("%d client connections were reset, want 1", resets)
	}
}

// backlog-full under vos-17.1: one backlog of 2; later SYNs get no answer
// (the seed: "subsequent connection requests are not sent a response"),
// and are let in by their retransmissions once accept makes room.
func TestBacklogFullVOS171(t *testing.T) {
	snap, res, accepted, _ := fullSchedule(t, profile.VOS171, stack.ListenOptions{})
	if snap.AcceptQueue != 2 || snap.SYNQueue != 0 || snap.RSTsSent != 0 || snap.SYNsDropped < 3 {
		t.Errorf("at 2 s: %+v; want 2 queued, no half-open, SYNs dropped without RST", snap)
	}
	if got := connectedBefore(res, netsim.Epoch.Add(2*time.Second)); got != 2 {
		t.Errorf("clients connected by 2 s: %d, want 2", got)
	}
	if accepted != 5 {
		t.Errorf("accepted %d in the end, want all 5", accepted)
	}
}

// backlog-full under vos-legacy: no SYN-ACK before accept; the two SYNs
// the backlog holds wait unanswered, the others are refused with RST
// (the client's connect fails with ECONNREFUSED). Accept then completes
// the queued handshakes one at a time.
func TestBacklogFullVOSLegacy(t *testing.T) {
	snap, res, accepted, _ := fullSchedule(t, profile.VOSLegacy, stack.ListenOptions{})
	if snap.SYNQueue != 2 || snap.SYNACKsSent != 0 || snap.RSTsSent != 3 {
		t.Errorf("at 2 s: %+v; want 2 SYNs waiting unanswered, no SYN-ACK, 3 RSTs", snap)
	}
	if got := connectedBefore(res, netsim.Epoch.Add(2*time.Second)); got != 0 {
		t.Errorf("clients connected by 2 s: %d, want 0 (no SYN-ACK until accept)", got)
	}
	refused := 0
	for _, r := range res {
		if errors.Is(r.err, syscall.ECONNREFUSED) {
			refused++
		}
	}
	if refused != 3 || accepted != 2 {
		t.Errorf("refused %d, accepted %d; want 3 refused, the 2 queued accepted", refused, accepted)
	}
}
