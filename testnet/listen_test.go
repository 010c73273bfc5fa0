package testnet_test

import (
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/testnet"
)

// Listen binds as net.Listen does: "tcp4" does not accept IPv6, a name
// or an address binds that address alone, and Addr says which.
func TestListen_BindsTheAddressItNames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		server, client := n.Host("server"), n.Host("client")
		for _, tc := range []struct {
			network, address string
			wantAddr         string
			accepts, refuses string // networks a dial to "server" uses
		}{
			{"tcp4", ":7", "0.0.0.0:7", "tcp4", "tcp6"},
			{"tcp6", ":7", "[::]:7", "tcp6", "tcp4"},
			{"tcp", "server:7", "10.0.0.1:7", "tcp4", "tcp6"},
			{"tcp6", "server:7", "[fd00::1]:7", "tcp6", "tcp4"},
			{"tcp", "[fd00::1]:7", "[fd00::1]:7", "tcp6", "tcp4"},
		} {
			name := tc.network + " " + tc.address
			ln, err := server.Listen(tc.network, tc.address)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if got := ln.Addr().String(); got != tc.wantAddr {
				t.Errorf("%s: Addr() = %s, want %s", name, got, tc.wantAddr)
			}
			go echoOnce(ln)
			if got := roundTrip(t, client, tc.accepts, "server:7", "hi"); got != "hi" {
				t.Errorf("%s: a %s dial echoed %q", name, tc.accepts, got)
			}
			if _, err := client.Dial(tc.refuses, "server:7"); !errors.Is(err, syscall.ECONNREFUSED) {
				t.Errorf("%s: a %s dial = %v, want ECONNREFUSED (an RST: no listener on that address)", name, tc.refuses, err)
			}
			ln.Close()
		}
	})
}

// What nettest.TestListener checks of a listener, for a bound one:
// Accept's deadline, Close unblocking Accept, Addr.
func TestListen_BoundListenerDeadlineAndClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		server := n.Host("server")
		ln, err := server.Listen("tcp4", "server:0")
		if err != nil {
			t.Fatal(err)
		}
		if a, ok := ln.Addr().(*net.TCPAddr); !ok || a.IP.String() != server.Addr().String() || a.Port == 0 {
			t.Errorf("Addr() = %v, want %v and the port picked", ln.Addr(), server.Addr())
		}
		dl := ln.(interface{ SetDeadline(time.Time) error })
		dl.SetDeadline(time.Now().Add(time.Second))
		start := time.Now()
		_, err = ln.Accept()
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Accept past its deadline = %v, want a timeout", err)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("Accept returned after %v, before its 1s deadline", waited)
		}
		dl.SetDeadline(time.Time{})
		done := make(chan error)
		go func() { _, err := ln.Accept(); done <- err }()
		synctest.Wait()
		ln.Close()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept blocked across Close = %v, want net.ErrClosed", err)
		}
	})
}
