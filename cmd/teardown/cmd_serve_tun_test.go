//go:build linux

package main

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
	"github.com/teardown-lab/teardown/internal/syncbuf"
)

// The seed's experiment with the kernel as the client: "teardown serve
// echo-one --link tun" answered by a kernel socket that sends "hello".
// Naive: the kernel reads "h" and then ECONNRESET (our close with unread
// data sends RST, RFC 2525 §2.17). Linger: "h" and then EOF. The same
// with the device's offloads on (--offload).
func TestServeEchoOneOverTUNToKernelClient(t *testing.T) {
	for _, c := range []struct {
		variant string
		wantErr error
		offload bool
	}{{"naive", syscall.ECONNRESET, false}, {"linger", io.EOF, false}, {"naive", syscall.ECONNRESET, true}} {
		name := c.variant
		if c.offload {
			name += "-offload"
		}
		t.Run(name, func(t *testing.T) {
			ns := newTestNS(t, "tdserve")
			args := []string{"serve", "echo-one", "--variant", c.variant, "--link", "tun",
				"--tun", "td0", "--net", "10.7.0.0/24", "--count", "1", "--trace"}
			if c.offload {
				args = append(args, "--offload")
			}
			out, errOut, done := startInNS(ns, args...)
			conn := kernelDial(t, ns, "10.7.0.2:7", done)
			defer conn.Close()
			if _, err := conn.Write([]byte("hello")); err != nil {
				t.Fatal(err)
			}
			conn.SetReadDeadline(time.Now().Add(20 * time.Second))
			var got []byte
			buf := make([]byte, 64)
			var rerr error
			for rerr == nil {
				var n int
				n, rerr = conn.Read(buf)
				got = append(got, buf[:n]...)
			}
			if string(got) != "h" || !errors.Is(rerr, c.wantErr) {
				t.Errorf("the kernel client read %q then %v; want \"h\" then %v", got, rerr, c.wantErr)
			}
			conn.Close() // the lingering server waits for this FIN
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("serve exited %d: %s", code, errOut.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("serve --count 1 did not return")
			}
			if !strings.Contains(out.String(), "nc 10.7.0.2 7") || !strings.Contains(out.String(), `recv(1) -> data "h"`) {
				t.Errorf("serve's output lacks the kernel-side command or the transcript:\n%s", out.String())
			}
		})
	}
}

// newTestNS makes a network namespace for a test, closed when the test
// ends, or skips the test where namespaces cannot be made.
func newTestNS(t *testing.T, name string) *netns.NS {
	t.Helper()
	if err := netns.Available(); err != nil {
		t.Skip("SKIPPING: " + err.Error())
	}
	ns, err := netns.New(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns
}

// startInNS runs the command line args inside ns on a goroutine of its
// own. done receives the exit code; out and errOut are what it printed,
// to be read once done has said it returned.
func startInNS(ns *netns.NS, args ...string) (out, errOut *syncbuf.Buffer, done chan int) {
	out, errOut, done = new(syncbuf.Buffer), new(syncbuf.Buffer), make(chan int, 1)
	go func() {
		code := -1
		ns.Do(func() error { //nolint:errcheck // the exit code says it
			code = run(args, out, errOut)
			return nil
		})
		done <- code
	}()
	return out, errOut, done
}

// kernelDial connects a kernel socket inside ns, retrying until serve has
// created the TUN device and listens.
func kernelDial(t *testing.T, ns *netns.NS, addr string, done chan int) net.Conn {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var conn net.Conn
		err := ns.Do(func() error {
			var err error
			conn, err = net.DialTimeout("tcp", addr, 2*time.Second)
			return err
		})
		if err == nil {
			return conn
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d before the kernel could connect (last dial error %v)", code, err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kernel could not connect to %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
