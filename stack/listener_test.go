package stack_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// The listener shell, once per protocol: Accept's deadline and Close.

type shellListener interface {
	net.Listener
	SetDeadline(time.Time) error
}

// shellCase is a listener and a dial to it.
type shellCase struct {
	name string
	l    shellListener
	dial func() error
}

// listenBoth returns a TCP and a DCCP listener on the server, and a dial
// function for each.
func listenBoth(t *testing.T, n *simNet) []shellCase {
	t.Helper()
	tl, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dl, err := n.server.ListenDCCP(81, stack.DCCPListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return []shellCase{
		{"tcp", tl, func() error {
			_, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, 80))
			return err
		}},
		{"dccp", dl, func() error {
			_, err := n.client.DialDCCP(context.Background(), netip.AddrPortFrom(serverAddr, 81), stack.DCCPOptions{})
			return err
		}},
	}
}

func TestListenerAcceptDeadline(t *testing.T) {
	n := newSimNet(t, 1, simOpts{clientProfile: profile.Linux, serverProfile: profile.Linux})
	for _, p := range listenBoth(t, n) {
		name := p.name
		var first, second error
		accepted := false
		n.run.Go(func() {
			p.l.SetDeadline(time.Unix(0, int64(n.run.Now())).Add(time.Second))
			_, first = p.l.Accept()
			p.l.SetDeadline(time.Time{})
			_, second = p.l.Accept()
			accepted = second == nil
		})
		n.run.Go(func() {
			n.run.Sleep(2 * time.Second)
			if err := p.dial(); err != nil {
				t.Errorf("%s: dial: %v", name, err)
			}
		})
		n.runAll()
		var ne net.Error
		if !errors.Is(first, os.ErrDeadlineExceeded) || !errors.As(first, &ne) || !ne.Timeout() {
			t.Errorf("%s: Accept past its deadline = %v, want a timeout (os.ErrDeadlineExceeded)", name, first)
		}
		if !accepted {
			t.Errorf("%s: Accept with the deadline cleared = %v, want the connection dialled later", name, second)
		}
	}
}

func TestListenerCloseWakesAccept(t *testing.T) {
	n := newSimNet(t, 2, simOpts{clientProfile: profile.Linux, serverProfile: profile.Linux})
	for _, p := range listenBoth(t, n) {
		name := p.name
		var err error
		n.run.Go(func() { _, err = p.l.Accept() })
		n.run.Go(func() {
			n.run.Sleep(time.Second)
			p.l.Close()
		})
		n.runAll()
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: Accept blocked across Close = %v, want net.ErrClosed", name, err)
		}
		if _, err := p.l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: Accept after Close = %v, want net.ErrClosed", name, err)
		}
	}
}

// TestErrListenerClosed_OneLineMatchesNetErrClosed: Accept's error after
// Close matches net.ErrClosed, as Go's listeners' does, and prints on one
// line (a log line or a CLI message must not break in two).
func TestErrListenerClosed_OneLineMatchesNetErrClosed(t *testing.T) {
	if !errors.Is(stack.ErrListenerClosed, net.ErrClosed) {
		t.Fatal("ErrListenerClosed does not match net.ErrClosed")
	}
	if msg := stack.ErrListenerClosed.Error(); strings.Contains(msg, "\n") {
		t.Fatalf("ErrListenerClosed prints on more than one line: %q", msg)
	}
}
