package testnet_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
	"github.com/teardown-lab/teardown/testnet"
)

// A client writes 64 kB to a server that reads one byte and closes, then
// closes without waiting. Close returns nil at once: it cannot know. The
// server's close with unread data sends RST; GracefulClose waits for the
// end of the exchange and says the data did not all arrive.
func TestSendAndClose(t *testing.T) {
	serve := func(server *testnet.Host) {
		ln, _ := server.Listen("tcp", ":9")
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 1))
			time.Sleep(50 * time.Millisecond) // the rest has arrived, unread
			c.Close()
		}()
	}
	t.Run("Close", func(t *testing.T) {
		var buf syncbuf.Buffer
		var server *testnet.Host
		synctest.Test(t, func(t *testing.T) {
			n := testnet.New(t, testnet.Capture(&buf))
			client := n.Host("client")
			server = n.Host("server")
			serve(server)
			c, _ := client.Dial("tcp", "server:9")
			c.Write(pattern(64 << 10))
			if err := c.Close(); err != nil {
				t.Errorf("Close: %v; it has nothing to report yet", err)
			}
			time.Sleep(time.Second)
		})
		if len(from(segments(t, buf.Bytes()), server.Addr(), has(wire.RST))) == 0 {
			t.Error("the server's close with unread data sent no RST; the client was told nothing either way")
		}
	})
	t.Run("GracefulClose", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := testnet.New(t)
			client, server := n.Host("client"), n.Host("server")
			serve(server)
			c, _ := client.Dial("tcp", "server:9")
			c.Write(pattern(64 << 10))
			rep, err := c.(*stack.TCPConn).GracefulClose(context.Background())
			if !errors.Is(err, syscall.ECONNRESET) || rep.Ending != stack.EndResetReceived || !rep.RSTReceived {
				t.Errorf("GracefulClose: %v, %v; want the peer's reset reported", rep, err)
			}
			t.Logf("GracefulClose: %v", rep)
		})
	})
}

// The server's peer vanishes (Host.Crash: no FIN, no RST). How long until
// the server notices depends on what it does: an idle connection without
// keepalive never notices; one with data to send notices when its
// retransmissions give up, or at its user timeout.
func TestPeerVanishes(t *testing.T) {
	noticed := func(t *testing.T, opts stack.TCPOptions, send bool) (time.Duration, error) {
		var d time.Duration
		var err error
		synctest.Test(t, func(t *testing.T) {
			n := testnet.New(t)
			server := n.Host("server", testnet.TCPOptions(opts))
			client := n.Host("client")
			ln, _ := server.Listen("tcp", ":9")
			c, _ := client.Dial("tcp", "server:9")
			s, _ := ln.Accept()
			client.Crash()
			start := time.Now()
			if send {
				s.Write([]byte("are you there?"))
			}
			s.SetReadDeadline(start.Add(3 * time.Hour))
			_, err = s.Read(make([]byte, 1))
			d = time.Since(start)
			c.Close()
		})
		return d, err
	}
	t.Run("idle", func(t *testing.T) {
		d, err := noticed(t, stack.TCPOptions{}, false)
		if !errors.Is(err, errDeadline) && !isTimeout(err) {
			t.Errorf("an idle connection ended after %v: %v; want it to see nothing until the 3 h deadline", d, err)
		}
	})
	t.Run("sending", func(t *testing.T) {
		d, err := noticed(t, stack.TCPOptions{}, true)
		if !errors.Is(err, syscall.ETIMEDOUT) {
			t.Fatalf("read after %v: %v; want ETIMEDOUT", d, err)
		}
		// 15 retransmissions with the RTO doubling from 200 ms to its
		// 120 s cap: Linux's tcp_retries2 gives about 15 minutes.
		if d < 10*time.Minute || d > 20*time.Minute {
			t.Errorf("noticed after %v; want the retransmission series' 15 minutes or so", d)
		}
		t.Logf("noticed after %v", d)
	})
	t.Run("user-timeout", func(t *testing.T) {
		d, err := noticed(t, stack.TCPOptions{UserTimeout: 10 * time.Second}, true)
		if !errors.Is(err, syscall.ETIMEDOUT) || d < 10*time.Second || d > 20*time.Second {
			t.Errorf("read after %v: %v; want ETIMEDOUT soon after the 10 s user timeout", d, err)
		}
		t.Logf("noticed after %v", d)
	})
}

var errDeadline = errors.New("deadline")
