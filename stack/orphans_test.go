package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// stuckConns opens k connections to a server that accepts and never reads,
// each with more written than both buffers hold: closed, each would stay
// an orphan in FIN-WAIT-1 with its send buffer full.
func stuckConns(t *testing.T, n *simNet, port uint16, k int) []*stack.TCPConn {
	t.Helper()
	l, err := n.server.ListenTCP(port, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		for range k {
			if _, err := l.AcceptTCP(); err != nil { // held, never read
				t.Error(err)
				return
			}
		}
	})
	conns := make([]*stack.TCPConn, k)
	for i := range conns {
		n.run.Go(func() {
			c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, port))
			if err != nil {
				t.Error(err)
				return
			}
			conns[i] = c
			c.Write(make([]byte, 2<<20)) // returns when closed
		})
	}
	runFor(t, n, 10*time.Second) // the windows are shut by now
	return conns
}

// MaxOrphans bounds the connections closed by the application that linger
// on (Linux tcp_max_orphans): past it, Close resets the connection and the
// stack counts it.
func TestMaxOrphansResetsBeyondTheCap(t *testing.T) {
	n := newSimNet(t, 9, simOpts{tcp: stack.TCPOptions{MaxOrphans: 2}})
	conns := stuckConns(t, n, 80, 4)
	for _, c := range conns {
		c.Close()
	}
	var states []string
	for _, c := range conns {
		states = append(states, c.State())
	}
	want := []string{"FIN-WAIT-1", "FIN-WAIT-1", "CLOSED", "CLOSED"}
	for i := range want {
		if states[i] != want[i] {
			t.Fatalf("states after Close = %v, want %v", states, want)
		}
	}
	st := n.client.Stats()
	if st.Orphans != 2 || st.OrphanCapResets != 2 || st.TCP.RSTsOut != 2 {
		t.Errorf("Orphans %d, OrphanCapResets %d, RSTs sent %d; want 2, 2, 2", st.Orphans, st.OrphanCapResets, st.TCP.RSTsOut)
	}
	n.client.Close()
	n.server.Close()
}

// MaxBufferMemory bounds the buffers a stack's connections hold (Linux
// tcp_mem): a connection closed while they are over it is reset at once,
// which frees its buffers, and an orphan is reset when its timer finds
// them over.
func TestMaxBufferMemoryResetsOrphans(t *testing.T) {
	const buf = 64 << 10
	n := newSimNet(t, 10, simOpts{tcp: stack.TCPOptions{SendBuffer: buf, ReceiveBuffer: buf, MaxBufferMemory: 3 * buf / 2}})
	conns := stuckConns(t, n, 80, 2)
	if m := n.client.Stats().BufferMemory; m < 2*buf {
		t.Fatalf("BufferMemory = %d with two full send buffers, want at least %d", m, 2*buf)
	}
	conns[0].Close()
	if st := conns[0].State(); st != "CLOSED" {
		t.Fatalf("closed over the memory cap: %s, want CLOSED (reset)", st)
	}
	conns[1].Close()
	if st := conns[1].State(); st != "FIN-WAIT-1" {
		t.Fatalf("closed under the memory cap: %s, want FIN-WAIT-1", st)
	}
	st := n.client.Stats()
	if st.MemoryCapResets != 1 || st.Orphans != 1 || st.BufferMemory > buf+buf/2 {
		t.Errorf("MemoryCapResets %d, Orphans %d, BufferMemory %d; want 1, 1, at most %d", st.MemoryCapResets, st.Orphans, st.BufferMemory, buf+buf/2)
	}
	n.client.Close()
	n.server.Close()
	if st := n.client.Stats(); st.Orphans != 0 || st.BufferMemory != 0 {
		t.Errorf("after Stack.Close: Orphans %d, BufferMemory %d; want 0, 0", st.Orphans, st.BufferMemory)
	}
}

// An orphan left under the memory cap is reset when its timer finds the
// stack's buffers over it (Linux tcp_out_of_resources): the memory other
// connections need wins over a connection nobody will read from again.
func TestMaxBufferMemoryResetsOrphanOnItsTimer(t *testing.T) {
	const buf = 64 << 10
	n := newSimNet(t, 11, simOpts{tcp: stack.TCPOptions{SendBuffer: buf, ReceiveBuffer: buf, MaxBufferMemory: 3 * buf / 2}})
	orphan := stuckConns(t, n, 80, 1)[0]
	orphan.Close()
	if st := orphan.State(); st != "FIN-WAIT-1" {
		t.Fatalf("closed under the memory cap: %s, want FIN-WAIT-1", st)
	}
	stuckConns(t, n, 81, 1) // open, its send buffer full: over the cap now
	runFor(t, n, 10*time.Minute)
	if st := orphan.State(); st != "CLOSED" {
		t.Errorf("the orphan is %s with the memory over the cap, want CLOSED", st)
	}
	if st := n.client.Stats(); st.MemoryCapResets != 1 || st.Orphans != 0 {
		t.Errorf("MemoryCapResets %d, Orphans %d; want 1, 0", st.MemoryCapResets, st.Orphans)
	}
	n.client.Close()
	n.server.Close()
}

// An orphan in FIN-WAIT-2 whose peer never sends its FIN ends after
// FinWait2Timeout (Linux tcp_fin_timeout, 60 s); a connection only shut
// for writing waits for the peer as long as it takes.
func TestFinWait2OrphanTimesOut(t *testing.T) {
	n := newSimNet(t, 12, simOpts{})
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		for range 2 {
			if _, err := l.AcceptTCP(); err != nil { // never closed
				t.Error(err)
				return
			}
		}
	})
	var orphan, half *stack.TCPConn
	n.run.Go(func() {
		remote := netip.AddrPortFrom(serverAddr, 80)
		var err error
		if orphan, err = n.client.DialTCP(context.Background(), remote); err != nil {
			t.Error(err)
			return
		}
		if half, err = n.client.DialTCP(context.Background(), remote); err != nil {
			t.Error(err)
			return
		}
		orphan.Close()
		half.CloseWrite()
	})
	runFor(t, n, 59*time.Second)
	if orphan.State() != "FIN-WAIT-2" || half.State() != "FIN-WAIT-2" {
		t.Fatalf("after 59 s: orphan %s, half-closed %s; want FIN-WAIT-2 both", orphan.State(), half.State())
	}
	runFor(t, n, 2*time.Second)
	if orphan.State() != "CLOSED" || half.State() != "FIN-WAIT-2" {
		t.Errorf("after 61 s: orphan %s, half-closed %s; want CLOSED, FIN-WAIT-2", orphan.State(), half.State())
	}
	if st := n.client.Stats(); st.Orphans != 0 {
		t.Errorf("Orphans = %d after the orphan ended, want 0", st.Orphans)
	}
	n.client.Close()
	n.server.Close()
}
