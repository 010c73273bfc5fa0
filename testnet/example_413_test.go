package testnet_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/testnet"
)

// An HTTP server refuses a 4 MB upload with 413 before reading it. The
// unread upload makes its close an RST (RFC 2525 §2.17); whether the
// client reads the 413 depends on when the RST comes and on what the
// client's system does with data queued before an RST.
func upload413(t *testing.T, naive bool, clientProfile profile.Profile) (status int, err error, serverRST bool) {
	var buf syncbuf.Buffer
	var server *testnet.Host
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t, testnet.Capture(&buf))
		client := n.Host("client", testnet.Profile(clientProfile))
		server = n.Host("server")
		ln, _ := server.Listen("tcp", ":80")
		if naive {
			go naive413(ln)
		} else {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusRequestEntityTooLarge) // without reading r.Body
			})}
			go srv.Serve(ln)
			defer srv.Close()
		}
		tr := &http.Transport{DialContext: client.DialContext}
		defer tr.CloseIdleConnections()
		resp, e := (&http.Client{Transport: tr}).Post("http://server/upload", "application/octet-stream", bytes.NewReader(pattern(4<<20)))
		// Let the server's close play out (net/http's waits 500 ms)
		// before the bubble ends.
		defer time.Sleep(time.Second)
		if e != nil {
			err = e
			return
		}
		status = resp.StatusCode
		resp.Body.Close()
	})
	serverRST = len(from(segments(t, buf.Bytes()), server.Addr(), has(wire.RST))) > 0
	return status, err, serverRST
}

// naive413 answers the first request 413 and closes at once, the way a
// hand-written server (or a proxy's error path) does.
func naive413(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	r := bufio.NewReader(c)
	for { // the request's header, not its body
		line, err := r.ReadString('\n')
		if err != nil || line == "\r\n" {
			break
		}
	}
	io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
	c.Close()
}

func TestEarly413(t *testing.T) {
	// net/http's server half-closes after the 413 (FIN), reads and
	// discards up to 256 kB of the body, waits 500 ms, then closes. The
	// client has the 413 long before the close; whether an RST follows
	// depends on how much of the upload the transport sent before it
	// stopped (its goroutines race), but the 413 is read first.
	t.Run("net-http-server/linux-client", func(t *testing.T) {
		status, err, rst := upload413(t, false, profile.Linux)
		if status != http.StatusRequestEntityTooLarge || err != nil {
			t.Errorf("got %d, %v; want 413", status, err)
		}
		t.Logf("RST from the server after the 413: %v", rst)
	})
	// A server that closes at once: the RST follows the 413 by
	// microseconds. A Linux client keeps the 413 it queued before the RST,
	// but the same RST also fails the transport's body write, and which
	// of net/http's two goroutines (the reader, the writer) reports first
	// is up to the Go scheduler: 413 or "connection reset by peer". The
	// one outcome that cannot happen is a clean finish.
	t.Run("naive-server/linux-client", func(t *testing.T) {
		status, err, rst := upload413(t, true, profile.Linux)
		if !rst {
			t.Error("no RST from the server")
		}
		if status != http.StatusRequestEntityTooLarge && !errors.Is(err, syscall.ECONNRESET) {
			t.Errorf("got %d, %v; want 413 or a reset", status, err)
		}
	})
	// The same server, a client whose system discards queued data on
	// RST: the 413 is lost and the client sees only the reset. net/http
	// reports the error of whichever of its goroutines fails first: the
	// reset itself, or, when its reader saw the reset first and closed the
	// connection, the writer's "use of closed network connection" (as over
	// Go's own net.TCPConn).
	t.Run("naive-server/discard-on-rst-client", func(t *testing.T) {
		status, err, rst := upload413(t, true, profile.DiscardOnRST)
		if !rst {
			t.Error("no RST from the server")
		}
		lost := errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed)
		if status == http.StatusRequestEntityTooLarge || !lost {
			t.Errorf("got %d, %v; want the 413 lost to a reset", status, err)
		}
	})
}
