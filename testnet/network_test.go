package testnet_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/teardown-lab/teardown/testnet"
)

// echoOnce serves one connection on ln: it copies until EOF, then closes.
func echoOnce(ln net.Listener) {
	c, err := ln.Accept()
	if err != nil {
		return
	}
	io.Copy(c, c)
	c.Close()
}

// serveEach accepts on ln until it is closed and hands each connection
// to serve, on the accepting goroutine.
func serveEach(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		serve(c)
	}
}

// sink is what sinkOnce read: the byte count and the error that ended it.
type sink struct {
	n   int64
	err error
}

// sinkOnce serves one connection on ln: it reads and discards until the
// end, then sends what it read.
func sinkOnce(ln net.Listener) <-chan sink {
	read := make(chan sink, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			read <- sink{err: err}
			return
		}
		n, err := io.Copy(io.Discard, s)
		read <- sink{n, err}
	}()
	return read
}

// writeToSink has client dial a sinkOnce on server:9 and write size bytes
// of pattern to it.
func writeToSink(t *testing.T, client, server *testnet.Host, size int) (net.Conn, <-chan sink) {
	t.Helper()
	ln, _ := server.Listen("tcp", ":9")
	read := sinkOnce(ln)
	c, err := client.Dial("tcp", "server:9")
	if err != nil {
		t.Fatal(err)
	}
	c.Write(pattern(size))
	return c, read
}

// dccpPair makes a network (inside the test's bubble) of a server with a
// DCCP listener on :5001 and a client.
func dccpPair(t *testing.T) (server, client *testnet.Host, ln net.Listener) {
	t.Helper()
	n := testnet.New(t)
	server, client = n.Host("server"), n.Host("client")
	ln, err := server.Listen("dccp", ":5001")
	if err != nil {
		t.Fatal(err)
	}
	return server, client, ln
}

// roundTrip dials address from client, writes msg, half-closes and reads
// everything back.
func roundTrip(t *testing.T, client *testnet.Host, network, address, msg string) string {
	t.Helper()
	c, err := client.DialContext(context.Background(), network, address)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}

func TestEchoByName_InBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		if !n.Virtual() {
			t.Fatal("a network made in a synctest bubble runs on the wall clock")
		}
		server, client := n.Host("server"), n.Host("client")
		for _, network := range []string{"tcp", "tcp4", "tcp6"} {
			ln, err := server.Listen(network, ":7")
			if err != nil {
				t.Fatal(err)
			}
			go echoOnce(ln)
			if got := roundTrip(t, client, network, "server:7", "hello "+network); got != "hello "+network {
				t.Errorf("%s: echoed %q", network, got)
			}
			ln.Close()
		}
	})
}

func TestEchoByAddress_RealTime(t *testing.T) {
	n := testnet.New(t)
	if n.Virtual() {
		t.Fatal("a network made outside a bubble claims virtual time")
	}
	server, client := n.Host("server"), n.Host("client")
	ln, err := server.Listen("tcp", ":7")
	if err != nil {
		t.Fatal(err)
	}
	go echoOnce(ln)
	if got := roundTrip(t, client, "tcp", "["+server.Addr6().String()+"]:7", "over v6"); got != "over v6" {
		t.Errorf("echoed %q", got)
	}
}

func TestDCCP_InBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, client, ln := dccpPair(t)
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				got <- err.Error()
				return
			}
			buf := make([]byte, 100)
			k, _ := c.Read(buf)
			got <- string(buf[:k])
			c.Close()
		}()
		c, err := client.DialContext(context.Background(), "dccp", "server:5001")
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("datagram"))
		if s := <-got; s != "datagram" {
			t.Errorf("the server read %q; want the datagram", s)
		}
		c.Close()
	})
}

func TestBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		h := n.Host("a")
		ctx := context.Background()
		var dnsErr *net.DNSError
		if _, err := h.DialContext(ctx, "tcp", "nobody:80"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("dial to an unknown host: %v; want a not-found DNS error", err)
		}
		var unknown net.UnknownNetworkError
		if _, err := h.DialContext(ctx, "udp", "a:80"); !errors.As(err, &unknown) {
			t.Errorf("dial udp: %v; want UnknownNetworkError", err)
		}
		if _, err := h.Listen("sctp", ":80"); !errors.As(err, &unknown) {
			t.Errorf("listen sctp: %v; want UnknownNetworkError", err)
		}
		if _, err := h.DialContext(ctx, "tcp4", "[fd00::1]:80"); err == nil {
			t.Error("tcp4 dial to an IPv6 address succeeded")
		}
		if _, err := h.Listen("tcp", ":80"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Listen("tcp", ":80"); !errors.Is(err, syscall.EADDRINUSE) {
			t.Errorf("second listen on :80: %v; want EADDRINUSE", err)
		}
		if _, err := h.Listen("tcp", "10.9.9.9:81"); !errors.Is(err, syscall.EADDRNOTAVAIL) {
			t.Errorf("listen on another's address: %v; want EADDRNOTAVAIL", err)
		}
		if _, err := h.DialContext(ctx, "tcp", "a:81"); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dial to a closed port: %v; want ECONNREFUSED", err)
		}
	})
}

func TestNewServer_InBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := testnet.New(t)
		srv := n.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hi from "+r.Host)
		}))
		resp, err := srv.Client().Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != "hi from 10.0.0.1:80" {
			t.Errorf("body %q", body)
		}
	})
}

// stack.Sockets, which the failure report prints, lists DCCP sockets too:
// the listener and a connection holding one unread datagram.
func TestSockets_DCCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		server, client, ln := dccpPair(t)
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		c, err := client.Dial("dccp", "server:5001")
		if err != nil {
			t.Fatal(err)
		}
		s := <-accepted
		c.Write([]byte("unread"))
		time.Sleep(10 * time.Millisecond)
		var listening, holding bool
		for _, so := range server.Stack().Sockets() {
			switch {
			case so.Proto == "dccp" && so.State == "LISTEN" && so.Local.Port() == 5001:
				listening = true
			case so.Proto == "dccp" && so.Remote.Addr() == client.Addr() && so.RecvQueue == 1:
				holding = true
			}
		}
		if !listening || !holding {
			t.Errorf("server sockets %+v; want the DCCP listener and a connection with 1 unread datagram", server.Stack().Sockets())
		}
		s.Close()
		c.Close()
	})
}

// Outside a bubble the same one-liner works on the wall clock, with the
// faults still drawn from the seed.
func TestNewServer_RealTimeOverALossyLink(t *testing.T) {
	n := testnet.New(t)
	srv := n.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write(pattern(200_000))
	}))
	n.Link(n.Lookup("server"), n.Lookup("client"), testnet.Loss(0.01))
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(body, pattern(200_000)) {
		t.Fatalf("read %d bytes, %v; want the 200 kB body", len(body), err)
	}
}
