package stack

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

// An idle DCCP connection, like an idle TCP one, gives its packet buffers
// back to the shared pools (docs/ARCHITECTURE.md rule 5): once its core
// has no timer pending, it holds none.
func TestDCCPIdleConnectionHoldsNoPacketBuffers(t *testing.T) {
	client, server := pipePair(t, 1500)
	l, err := server.ListenDCCP(5001, DCCPListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.DialDCCP(ctx, netip.MustParseAddrPort("10.9.0.2:5001"), DCCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.AcceptDCCP()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	for _, p := range [][2]*DCCPConn{{c, s}, {s, c}} {
		p[1].SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := p[0].Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := p[1].Read(buf); err != nil {
			t.Fatal(err)
		}
	}
	for _, conn := range []*DCCPConn{c, s} {
		// Wait (without a time limit on the assertion) until the core's
		// acknowledgements are done: no timer, nobody writing to the link.
		for i := 0; ; i++ {
			conn.mu.Lock()
			idle := conn.core.NextDeadline().IsZero() && !conn.writing
			held := len(conn.free) + len(conn.outq)
			conn.mu.Unlock()
			if idle {
				if held != 0 {
					t.Fatalf("%v: idle, yet %d packet buffers held", conn.LocalAddr(), held)
				}
				break
			}
			if i == 1000 {
				t.Skipf("%v: a timer is still pending after 10 s; cannot judge", conn.LocalAddr())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
