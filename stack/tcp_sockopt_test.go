package stack_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// Buffers set before the handshake (SO_RCVBUF before connect or listen)
// choose each side's window scale, as on Linux; without them the linux
// profile covers the largest buffer (6 MiB: wscale 7). Info reports the
// Linux state number, the MSS and the unread bytes.
func TestDialOptions_BuffersChooseWindowScale(t *testing.T) {
	n := newSimNet(t, 5, simOpts{})
	l, err := n.server.ListenTCP(80, stack.ListenOptions{ReceiveBuffer: 64 << 10, MSS: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n.run.Go(func() {
		c, err := n.client.DialTCPWith(context.Background(), netip.AddrPortFrom(serverAddr, 80),
			stack.DialOptions{ReceiveBuffer: 1 << 20})
		if err != nil {
			t.Error(err)
			return
		}
		s, err := l.AcceptTCP()
		if err != nil {
			t.Error(err)
			return
		}
		if _, err := c.Write([]byte("hello")); err != nil {
			t.Error(err)
		}
		n.run.Sleep(100 * time.Millisecond)
		ci, si := c.Info(), s.Info()
		if ci.RcvWScale != 5 || si.RcvWScale != 1 || ci.SndWScale != 1 || si.SndWScale != 5 {
			t.Errorf("wscale client %d/%d, server %d/%d; want 5 (1 MiB) and 1 (64 KiB)",
				ci.RcvWScale, ci.SndWScale, si.RcvWScale, si.SndWScale)
		}
		if si.LinuxState != 1 || ci.MSS > 1000 || si.Unread != 5 {
			t.Errorf("server info %+v, client MSS %d: want state 1, MSS <= 1000, 5 unread", si, ci.MSS)
		}
		c.Close()
		s.Close()
	})
	n.runAll()
}
