package stack_test

import (
	"context"
	"errors"
	"io"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

const echoPort = 7

// echoOne is the seed's modified echo server: read one byte, write it
// back, then close the connection the way the variant says.
func echoOne(t *testing.T, l *stack.TCPListener, variant string) {
	c, err := l.AcceptTCP()
	if err != nil {
		t.Errorf("accept: %v", err)
		return
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		t.Errorf("server read: %v", err)
	}
	if _, err := c.Write(b[:]); err != nil {
		t.Errorf("server write: %v", err)
	}
	switch variant {
	case "naive":
		c.Close()
	case "shutdown":
		c.CloseWrite()
		c.Close()
	case "graceful":
		if _, err := c.GracefulClose(context.Background()); err != nil {
			t.Errorf("graceful close: %v", err)
		}
	}
}

// clientResult is what the seed's client sees: its reads, in order.
type clientResult struct {
	data    string
	lastErr error
}

func helloClient(t *testing.T, s *stack.Stack) clientResult {
	c, err := s.DialTCP(context.Background(), netip.AddrPortFrom(serverAddr, echoPort))
	if err != nil {
		t.Errorf("dial: %v", err)
		return clientResult{}
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Errorf("client write: %v", err)
	}
	// Like the seed's client, wait a moment before reading: the RST (if
	// any) has arrived by then.
	c.SetReadDeadline(time.Time{})
	var res clientResult
	buf := make([]byte, 16)
	for {
		n, err := c.Read(buf)
		res.data += string(buf[:n])
		if err != nil {
			res.lastErr = err
			return res
		}
	}
}

// The seed (000_*): an echo server that reads one byte, writes it and
// closes makes a client that sent "hello" see "h" and then a reset
// (RFC 2525 §2.17: close with unread data sends RST). Linux hands over the
// queued "h" before reporting the reset.
func TestSeedEchoOneNaiveResets(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	l, err := n.server.ListenTCP(echoPort, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var res clientResult
	n.run.Go(func() { echoOne(t, l, "naive") })
	n.run.Go(func() { res = helloClient(t, n.client) })
	n.runAll()
	if res.data != "h" {
		t.Errorf("client read %q before the error, want %q (linux delivers queued data before the reset)", res.data, "h")
	}
	if !errors.Is(res.lastErr, syscall.ECONNRESET) || !errors.Is(res.lastErr, stack.ErrConnReset) {
		t.Errorf("client's last read: %v, want connection reset (ECONNRESET)", res.lastErr)
	}
	if got := n.server.Stats().TCP.RSTsOut; got != 1 {
		t.Errorf("server sent %d RSTs, want 1", got)
	}
}

// With shutdown(write) before close, the FIN reaches the client before
// the RST, so it reads "h" and then end-of-stream.
func TestSeedEchoOneShutdownGivesEOF(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	l, _ := n.server.ListenTCP(echoPort, stack.ListenOptions{})
	var res clientResult
	n.run.Go(func() { echoOne(t, l, "shutdown") })
	n.run.Go(func() { res = helloClient(t, n.client) })
	n.runAll()
	if res.data != "h" || res.lastErr != io.EOF {
		t.Errorf("client read %q then %v, want \"h\" then EOF", res.data, res.lastErr)
	}
}

// GracefulClose drains the client's unread bytes and waits for its FIN:
// no RST crosses the wire at all.
func TestSeedEchoOneGracefulCloseSendsNoRST(t *testing.T) {
	n := newSimNet(t, 1, simOpts{})
	l, _ := n.server.ListenTCP(echoPort, stack.ListenOptions{})
	var res clientResult
	n.run.Go(func() { echoOne(t, l, "graceful") })
	n.run.Go(func() { res = helloClient(t, n.client) })
	n.runAll()
	if res.data != "h" || res.lastErr != io.EOF {
		t.Errorf("client read %q then %v, want \"h\" then EOF", res.data, res.lastErr)
	}
	if c, s := n.client.Stats().TCP.RSTsOut, n.server.Stats().TCP.RSTsOut; c+s != 0 {
		t.Errorf("RSTs sent: client %d, server %d; want none", c, s)
	}
}
