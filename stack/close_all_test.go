package stack_test

import (
	"context"
	"errors"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// Stack.Close ends both protocols: the server's TCP connection leaves
// with an RST and its DCCP connection with Reset(Aborted), so the
// client's blocked reads fail with a reset, and the server's blocked
// accepts of both listeners return.
func TestStackCloseEndsTCPAndDCCP(t *testing.T) {
	n := newDCCPNet(t, 11, profileLinux(), netsim.LinkConfig{})
	ld := n.listen(stack.DCCPListenOptions{})
	lt, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var tcpRead, dccpRead, tcpAccept, dccpAccept error
	n.run.Go(func() {
		if _, err := lt.AcceptTCP(); err != nil {
			t.Error(err)
			return
		}
		_, tcpAccept = lt.AcceptTCP()
	})
	n.run.Go(func() {
		if _, err := ld.AcceptDCCP(); err != nil {
			t.Error(err)
			return
		}
		_, dccpAccept = ld.AcceptDCCP()
	})
	n.run.Go(func() {
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
		if err != nil {
			t.Error(err)
			return
		}
		_, tcpRead = c.Read(make([]byte, 10))
	})
	n.run.Go(func() {
		c, err := n.dial(stack.DCCPOptions{})
		if err != nil {
			t.Error(err)
			return
		}
		_, dccpRead = c.Read(make([]byte, 10))
	})
	n.run.Go(func() {
		n.run.Sleep(time.Second)
		n.server.Close()
	})
	n.runAll()
	if !errors.Is(tcpRead, syscall.ECONNRESET) {
		t.Errorf("client's TCP read: %v, want ECONNRESET from the server's RST", tcpRead)
	}
	var re *stack.DCCPResetError
	if !errors.As(dccpRead, &re) || re.Code != stack.DCCPResetAborted {
		t.Errorf("client's DCCP read: %v, want a reset with code Aborted", dccpRead)
	}
	if resets := n.sent("server", wire.DCCPReset); len(resets) != 1 || resets[0].code != wire.DCCPResetAborted {
		t.Errorf("server's DCCP Resets %v, want one Reset(Aborted)\n%s", resets, n.dump())
	}
	if tcpAccept == nil || dccpAccept == nil {
		t.Errorf("accepts blocked on the closed listeners returned TCP %v, DCCP %v; want errors", tcpAccept, dccpAccept)
	}
}
