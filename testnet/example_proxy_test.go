package testnet_test

import (
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/testnet"
)

// closeWriter is a connection that can half-close.
type closeWriter interface{ CloseWrite() error }

// brokenProxy copies both ways and, when either way ends, closes both
// connections: a half-close becomes a full close, and what the backend
// still had to say is lost.
func brokenProxy(client, backend net.Conn) {
	go func() {
		io.Copy(backend, client)
		backend.Close()
		client.Close()
	}()
	io.Copy(client, backend)
	client.Close()
	backend.Close()
}

// fixedProxy passes a half-close on with CloseWrite and closes each
// connection only when both ways have ended.
func fixedProxy(client, backend net.Conn) {
	done := make(chan struct{})
	go func() {
		io.Copy(backend, client)
		backend.(closeWriter).CloseWrite()
		close(done)
	}()
	io.Copy(client, backend)
	client.(closeWriter).CloseWrite()
	<-done
	client.Close()
	backend.Close()
}

// proxied runs a client that sends a request and half-closes, a backend
// that reads the request to its end and then answers, and proxy between
// them. It returns what the client read and whether the proxy's host sent
// the client an RST.
func proxied(t *testing.T, proxy func(client, backend net.Conn)) (reply string, readErr error, rstToClient bool, bytesToClient int) {
	var buf syncbuf.Buffer
	var ph, ch *testnet.Host
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t, testnet.Capture(&buf))
		ch, ph = n.Host("client"), n.Host("proxy")
		bh := n.Host("backend")
		bl, _ := bh.Listen("tcp", ":9")
		go func() {
			c, err := bl.Accept()
			if err != nil {
				return
			}
			req, _ := io.ReadAll(c) // the request ends with the client's FIN
			io.WriteString(c, "reply to "+string(req))
			c.Close()
		}()
		pl, _ := ph.Listen("tcp", ":8")
		go func() {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			b, err := ph.Dial("tcp", "backend:9")
			if err != nil {
				c.Close()
				return
			}
			proxy(c, b)
		}()
		c, err := ch.Dial("tcp", "proxy:8")
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "request")
		c.(closeWriter).CloseWrite()
		b, err := io.ReadAll(c)
		reply, readErr = string(b), err
		c.Close()
		time.Sleep(time.Second) // the closes play out before the test ends
	})
	for _, s := range from(segments(t, buf.Bytes()), ph.Addr(), has(wire.RST)) {
		if s.dst.Addr() == ch.Addr() {
			rstToClient = true
		}
	}
	for _, s := range from(segments(t, buf.Bytes()), ph.Addr(), nil) {
		if s.dst.Addr() == ch.Addr() {
			bytesToClient += s.n
		}
	}
	return reply, readErr, rstToClient, bytesToClient
}

func TestProxyHalfClose(t *testing.T) {
	t.Run("broken", func(t *testing.T) {
		// The client's FIN ends the proxy's first copy, which closes
		// both connections before the backend has answered: the client
		// reads EOF, and not one byte of the reply crosses the wire.
		reply, err, _, wired := proxied(t, brokenProxy)
		if reply != "" || err != nil || wired != 0 {
			t.Errorf("the broken proxy delivered %q, %v, %d bytes on the wire; its full close should lose the reply", reply, err, wired)
		}
	})
	t.Run("fixed", func(t *testing.T) {
		reply, err, rst, wired := proxied(t, fixedProxy)
		if reply != "reply to request" || err != nil || rst || wired != len(reply) {
			t.Errorf("the fixed proxy delivered %q, %v (RST to the client: %v); want the reply and EOF", reply, err, rst)
		}
	})
}
