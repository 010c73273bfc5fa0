package interop

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

const echoPort = 7

// echoOne is the seed's server: read one byte, write it back, close the
// way variant says ("naive", "shutdown" or, for our stack, "graceful").
func echoOne(c net.Conn, variant string) error {
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if _, err := c.Write(b[:]); err != nil {
		return err
	}
	switch variant {
	case "shutdown":
		c.(halfCloser).CloseWrite()
	case "graceful":
		_, err := c.(*stack.TCPConn).GracefulClose(context.Background())
		return err
	}
	return c.Close()
}

// readAll reads until an error and returns the data and that error.
func readAll(c net.Conn) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 64)
	for {
		n, err := c.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			return sb.String(), err
		}
	}
}

// gVisor as the echo-one server, our stack as the client that sent
// "hello". gVisor, like Linux, sends RST when it closes with unread
// in-order data (RFC 2525 §2.17), and our client, like Linux, hands over
// the queued "h" before reporting the reset. After shutdown(write) the
// FIN comes first, so the client reads "h" and then end-of-stream even
// though gVisor's close still resets.
func TestEchoOneGVisorServer(t *testing.T) {
	for _, tc := range []struct {
		variant string
		wantErr error
		wantRST bool
	}{
		{"naive", syscall.ECONNRESET, true},
		{"shutdown", io.EOF, true},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			n := newNet(t, netOpts{seed: 3})
			l := n.gvListen(t, echoPort)
			served := make(chan error, 1)
			go func() {
				c, err := l.Accept()
				if err != nil {
					served <- err
					return
				}
				served <- echoOne(c, tc.variant)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, err := n.oursDial(ctx, echoPort)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(testTimeout))
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatalf("write: %v", err)
			}
			if err := <-served; err != nil {
				t.Fatalf("gVisor's echo-one: %v", err)
			}
			// Like the seed's client, read only once the RST is in.
			waitFor(t, "gVisor's RST", func() bool { return n.ours.Stats().TCP.RSTsIn > 0 })
			data, err := readAll(c)
			if data != "h" || !errors.Is(err, tc.wantErr) {
				t.Errorf("client read %q then %v, want \"h\" then %v", data, err, tc.wantErr)
			}
			if got := n.gvResetsSent() > 0; got != tc.wantRST {
				t.Errorf("gVisor sent RST: %v, want %v", got, tc.wantRST)
			}
		})
	}
}

// Our stack as the echo-one server, gVisor as the client. gVisor's reader
// also gets the queued "h" before it reports the reset; its error is a
// *net.OpError whose text is gVisor's ("connection reset by peer"), not a
// syscall errno, since netstack used directly has no syscall layer.
// GracefulClose drains "ello" and waits for gVisor's FIN, so no RST
// crosses the link in either direction.
func TestEchoOneOurServer(t *testing.T) {
	for _, tc := range []struct {
		variant string
		wantErr string // "" means io.EOF
		wantRST bool
	}{
		{"naive", "connection reset by peer", true},
		{"shutdown", "", true},
		{"graceful", "", false},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			n := newNet(t, netOpts{seed: 4})
			l, err := n.ours.ListenTCP(echoPort, stack.ListenOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			served := make(chan error, 1)
			go func() {
				c, err := l.AcceptTCP()
				if err != nil {
					served <- err
					return
				}
				served <- echoOne(c, tc.variant)
			}()
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, err := n.gvDial(ctx, echoPort)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			c.SetDeadline(time.Now().Add(testTimeout))
			if _, err := c.Write([]byte("hello")); err != nil {
				t.Fatalf("write: %v", err)
			}
			if tc.variant == "graceful" {
				// GracefulClose returns once gVisor's FIN is in: the
				// client must close for the server to finish.
				data, err := readAll(c)
				c.Close()
				if e := <-served; e != nil {
					t.Fatalf("our echo-one: %v", e)
				}
				if data != "h" || err != io.EOF {
					t.Errorf("gVisor client read %q then %v, want \"h\" then EOF", data, err)
				}
			} else {
				if e := <-served; e != nil {
					t.Fatalf("our echo-one: %v", e)
				}
				waitFor(t, "our RST", func() bool { return n.ours.Stats().TCP.RSTsOut > 0 })
				data, err := readAll(c)
				c.Close()
				ok := data == "h" && (tc.wantErr == "" && err == io.EOF ||
					tc.wantErr != "" && err != nil && strings.Contains(err.Error(), tc.wantErr))
				if !ok {
					t.Errorf("gVisor client read %q then %v, want \"h\" then %q (empty: EOF)", data, err, tc.wantErr)
				}
			}
			rsts := n.ours.Stats().TCP.RSTsOut + n.gvResetsSent()
			if got := rsts > 0; got != tc.wantRST {
				t.Errorf("RSTs on the wire: %d, want any: %v", rsts, tc.wantRST)
			}
		})
	}
}
