package udp_test

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/udp"
	"github.com/teardown-lab/teardown/stack"
)

var (
	addrA = netip.MustParseAddr("127.0.0.1")
	addrB = netip.MustParseAddr("127.0.0.2")
)

// pair opens two DCCP-UDP endpoints on loopback addresses, each knowing
// the other's UDP port, and a stack on each.
func pair(t *testing.T) (a, b *stack.Stack, ea, eb *udp.Endpoint) {
	t.Helper()
	var err error
	if ea, err = udp.Open(udp.Config{Local: netip.AddrPortFrom(addrA, 0)}); err != nil {
		t.Fatal(err)
	}
	if eb, err = udp.Open(udp.Config{Local: netip.AddrPortFrom(addrB, 0),
		Peers: map[netip.Addr]netip.AddrPort{addrA: ea.LocalAddrPort()}}); err != nil {
		t.Skipf("cannot bind %v (loopback beyond 127.0.0.1 unavailable): %v", addrB, err)
	}
	ea.Close()
	// Reopen A now that B's port is known.
	if ea, err = udp.Open(udp.Config{Local: ea.LocalAddrPort(),
		Peers: map[netip.Addr]netip.AddrPort{addrB: eb.LocalAddrPort()}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ea.Close(); eb.Close() })
	if a, err = stack.New(stack.Config{Name: "a", Addrs: []netip.Addr{addrA}, Link: ea}); err != nil {
		t.Fatal(err)
	}
	if b, err = stack.New(stack.Config{Name: "b", Addrs: []netip.Addr{addrB}, Link: eb}); err != nil {
		t.Fatal(err)
	}
	return a, b, ea, eb
}

// TestTwoStacksOverUDP: a client and a server stack exchange datagrams
// over DCCP-UDP on loopback; the server sends its datagrams and closes
// (CloseReq): under the linux profile the client reads every datagram,
// then end-of-stream (PASSIVE_CLOSEREQ, seed 001), then closes; the
// server's Reset answers its Close and the client holds TIMEWAIT.
func TestTwoStacksOverUDP(t *testing.T) {
	client, server, ec, es := pair(t)
	l, err := server.ListenDCCP(5001, stack.DCCPListenOptions{Services: []uint32{42}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	served := make(chan error, 1)
	go func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			served <- err
			return
		}
		buf := make([]byte, 100)
		k, err := c.Read(buf)
		if err != nil || string(buf[:k]) != "hello" {
			served <- fmt.Errorf("server read %q, %v", buf[:k], err)
			return
		}
		for i := range n {
			if _, err := c.Write([]byte(fmt.Sprintf("datagram %d", i))); err != nil {
				served <- err
				return
			}
		}
		_, err = c.CloseAndWait(context.Background())
		served <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialDCCP(ctx, netip.AddrPortFrom(addrB, 5001), stack.DCCPOptions{Service: 42})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var got []string
	buf := make([]byte, 100)
	for {
		k, err := c.Read(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d datagrams: %v", len(got), err)
		}
		got = append(got, string(buf[:k]))
	}
	// DCCP is unreliable, but loopback does not lose: every datagram, in
	// order, and each once.
	if len(got) != n || got[0] != "datagram 0" || got[n-1] != fmt.Sprintf("datagram %d", n-1) {
		t.Errorf("read %d datagrams %q, want %d in order", len(got), got, n)
	}
	rep, err := c.CloseAndWait(ctx)
	if err != nil || rep.State != "TIMEWAIT" || rep.How != "closed" || rep.UnreadDiscarded != 0 {
		t.Errorf("client close: %v, %v; want closed, TIMEWAIT, nothing discarded", rep, err)
	}
	if err := <-served; err != nil {
		t.Fatalf("server: %v", err)
	}
	if st := es.Stats(); st.Received == 0 || st.Malformed != 0 || st.NotDCCP != 0 {
		t.Errorf("server endpoint %+v", st)
	}
	if st := ec.Stats(); st.Sent == 0 || st.SendErrors != 0 {
		t.Errorf("client endpoint %+v", st)
	}
}

// TestWrap: the IP packet Wrap builds parses back to the DCCP packet with
// the given addresses; short or mixed-family input is refused.
func TestWrap(t *testing.T) {
	var h wire.DCCPHeader = wire.DCCPHeader{SrcPort: 1, DstPort: 2, Type: wire.DCCPRequest, X: true, Seq: 7, ServiceCode: 42}
	d := make([]byte, 64)
	k, err := wire.BuildDCCP(d, &h, nil, addrA, addrB)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 200)
	m, ok := udp.Wrap(b, addrA, addrB, d[:k])
	if !ok {
		t.Fatal("Wrap refused a valid packet")
	}
	ip, err := wire.ParseIP(b[:m])
	if err != nil || ip.Src != addrA || ip.Dst != addrB || ip.Protocol != wire.IPProtoDCCP {
		t.Fatalf("parsed %+v, %v", ip, err)
	}
	p, err := wire.ParseDCCP(ip.Payload)
	if err != nil || p.VerifyChecksum(ip.Src, ip.Dst) != nil || p.ServiceCode() != 42 {
		t.Errorf("inner DCCP: %v, checksum %v", err, p.VerifyChecksum(ip.Src, ip.Dst))
	}
	if _, ok := udp.Wrap(b, addrA, addrB, d[:11]); ok {
		t.Error("an 11-byte datagram is not a DCCP packet")
	}
	if _, ok := udp.Wrap(b, addrA, netip.MustParseAddr("::1"), d[:k]); ok {
		t.Error("mixed families accepted")
	}
}

// FuzzWrap: any datagram is refused exactly when it is not a DCCP packet
// whose header and checksum coverage fit, or else becomes an IP packet
// that parses back to its bytes, the DCCP checksum replaced by one that
// verifies over the addresses given (RFC 6773 §3.3: the received one is
// ignored).
func FuzzWrap(f *testing.F) {
	f.Add([]byte("0123456789abcdef"), true)
	f.Add([]byte{0, 1, 0, 2, 3, 0, 0, 0, 1, 0, 0, 7}, false)
	f.Fuzz(func(t *testing.T, d []byte, v4 bool) {
		src, dst := addrA, addrB
		if !v4 {
			src, dst = netip.MustParseAddr("fd00::1"), netip.MustParseAddr("fd00::2")
		}
		b := make([]byte, 100+len(d))
		m, ok := udp.Wrap(b, src, dst, d)
		p, perr := wire.ParseDCCP(d)
		if perr == nil {
			_, perr = p.ChecksumCoverage()
		}
		if ok != (perr == nil) {
			t.Fatalf("Wrap %v on %d bytes, but parse/coverage says %v", ok, len(d), perr)
		}
		if !ok {
			return
		}
		ip, err := wire.ParseIP(b[:m])
		if err != nil || len(ip.Payload) != len(d) || string(ip.Payload[:6]) != string(d[:6]) || string(ip.Payload[8:]) != string(d[8:]) {
			t.Fatalf("round trip: %v", err)
		}
		if err := wire.DCCP(ip.Payload).VerifyChecksum(src, dst); err != nil {
			t.Fatalf("checksum: %v", err)
		}
	})
}
