package lab

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/syncbuf"
)

// freeUDP returns a UDP port free on addr at the time of the call.
func freeUDP(t *testing.T, addr string) netip.AddrPort {
	t.Helper()
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(addr+":0")))
	if err != nil {
		t.Skipf("cannot bind %s: %v", addr, err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Serve and Dial over DCCP-UDP on loopback, in process, as two teardown
// processes would: the server's echo-one answers "h" and closes; the
// client reads "h" and then end-of-stream.
func TestServeDialDCCPOverUDP(t *testing.T) {
	srvUDP, cliUDP := freeUDP(t, "127.0.0.1"), freeUDP(t, "127.0.0.2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	app := Apps["echo-one"]
	var srvOut, cliOut syncbuf.Buffer
	ready := make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, LiveConfig{App: app, Variant: "naive", Proto: "dccp", Service: 42, Link: "udp",
			UDPLocal: srvUDP, UDPPeer: cliUDP, Count: 1, Trace: true, Out: &srvOut, Ready: func() { close(ready) }})
	}()
	<-ready
	err := Dial(ctx, LiveConfig{App: app, Variant: "naive", Proto: "dccp", Service: 42, Link: "udp",
		UDPLocal: cliUDP, UDPPeer: srvUDP, Trace: true, Out: &cliOut})
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, cliOut.String())
	}
	if err := <-served; err != nil {
		t.Fatalf("serve: %v\n%s", err, srvOut.String())
	}
	for _, want := range []string{`recv(1) -> data "h"`, `send("h") -> ok`, `close() -> ok`} {
		if !strings.Contains(srvOut.String(), want) {
			t.Errorf("server transcript lacks %s:\n%s", want, srvOut.String())
		}
	}
	for _, want := range []string{`connect() -> ok`, `recv(64) -> data "h"`, `recv(64) -> eof`} {
		if !strings.Contains(cliOut.String(), want) {
			t.Errorf("client transcript lacks %s:\n%s", want, cliOut.String())
		}
	}
}

// A wrong service code over DCCP-UDP: the server answers Reset (Bad
// Service Code, RFC 4340 §8.1.2) and Dial fails without retrying.
func TestDialDCCPOverUDPBadService(t *testing.T) {
	srvUDP, cliUDP := freeUDP(t, "127.0.0.1"), freeUDP(t, "127.0.0.2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ready := make(chan struct{})
	go Serve(ctx, LiveConfig{App: Apps["discard"], Variant: "naive", Proto: "dccp", Service: 42, Link: "udp",
		UDPLocal: srvUDP, UDPPeer: cliUDP, Count: 1, Out: &syncbuf.Buffer{}, Ready: func() { close(ready) }})
	<-ready
	err := Dial(ctx, LiveConfig{App: Apps["discard"], Variant: "naive", Proto: "dccp", Service: 7, Link: "udp",
		UDPLocal: cliUDP, UDPPeer: srvUDP, Out: &syncbuf.Buffer{}})
	if err == nil || ctx.Err() != nil {
		t.Errorf("dial with service 7 to a server of 42: %v; want the Bad Service Code refusal at once", err)
	}
}

// The apps over DCCP on the simulator: datagrams, and a server that
// closes with unread datagrams aborts (primes: ERROR, then reset).
func TestServeDCCPOverSim(t *testing.T) {
	var out bytes.Buffer
	if err := Serve(context.Background(), LiveConfig{App: Apps["primes"], Variant: "naive", Proto: "dccp",
		Link: "sim", Out: &out}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Request", "Response", `data "ERROR\n"`, "reset"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("primes over DCCP lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := Serve(context.Background(), LiveConfig{App: Apps["echo"], Variant: "linger", Proto: "dccp",
		Link: "sim", Out: &out}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `recv(512)      → data "hello"`) || !strings.Contains(out.String(), "Request") {
		t.Errorf("echo over DCCP: want the datagram echoed:\n%s", out.String())
	}
}
