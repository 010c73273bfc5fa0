package udp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link/udp"
	"github.com/teardown-lab/teardown/stack"
)

// napt is a UDP NAPT on loopback between an inside host and an outside
// one, as RFC 6773 §3 expects DCCP-UDP to meet: the inside host sends to
// the inside socket (bound to the outside host's IP address, another
// port); the NAPT forwards the payload, untouched, from its own outside
// address and port, so the outside host sees another source address and
// port, and the kernel writes a fresh UDP checksum (as a NAT updates it).
// Replies take the way back. It never looks inside the payload, so the
// DCCP checksum it carries is stale for the rewritten addresses.
type napt struct {
	inside, outside *net.UDPConn
	server          netip.AddrPort
	client          atomic.Pointer[netip.AddrPort]
	out, back       atomic.Int64
	// nonZeroDCCPChecksum counts payloads whose DCCP Checksum field
	// (bytes 6-7) is not zero (RFC 6773 §3.3 asks senders for zero).
	nonZeroDCCPChecksum atomic.Int64
	wg                  sync.WaitGroup
}

func newNAPT(t *testing.T, insideAddr, outsideAddr netip.Addr, server netip.AddrPort) *napt {
	t.Helper()
	in, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(insideAddr, 0)))
	if err != nil {
		t.Skipf("cannot bind %v: %v", insideAddr, err)
	}
	out, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(outsideAddr, 0)))
	if err != nil {
		in.Close()
		t.Skipf("cannot bind %v: %v", outsideAddr, err)
	}
	n := &napt{inside: in, outside: out, server: server}
	n.wg.Add(2)
	go n.relay(in, out, func(from netip.AddrPort) (netip.AddrPort, bool) {
		n.client.Store(&from)
		n.out.Add(1)
		return n.server, true
	})
	go n.relay(out, in, func(netip.AddrPort) (netip.AddrPort, bool) {
		c := n.client.Load()
		if c == nil {
			return netip.AddrPort{}, false
		}
		n.back.Add(1)
		return *c, true
	})
	t.Cleanup(func() { in.Close(); out.Close(); n.wg.Wait() })
	return n
}

func (n *napt) relay(from, to *net.UDPConn, dst func(netip.AddrPort) (netip.AddrPort, bool)) {
	defer n.wg.Done()
	buf := make([]byte, 65536)
	for {
		k, src, err := from.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		if k >= 8 && (buf[6] != 0 || buf[7] != 0) {
			n.nonZeroDCCPChecksum.Add(1)
		}
		if d, ok := dst(netip.AddrPortFrom(src.Addr().Unmap(), src.Port())); ok {
			to.WriteToUDPAddrPort(buf[:k], d)
		}
	}
}

// TestNAPT_RewrittenAddressesAndPorts: a client stack (127.0.0.1) reaches a
// server stack (127.0.0.2) through a NAPT that rewrites the client's
// address to 127.0.0.3 and its UDP port, and the server's UDP port on the
// way back. The DCCP checksum the client computed no longer matches the
// addresses the server sees; RFC 6773 §3.3 has the receiver ignore it and
// rely on the UDP checksum, which the NAPT rewrote, so the connection
// works: the server sees the client at the NAPT's address (§3.8: it
// accepts any UDP source port and answers there), the datagrams cross
// both ways and the connection closes cleanly.
func TestNAPT_RewrittenAddressesAndPorts(t *testing.T) {
	server := netip.MustParseAddr("127.0.0.2")
	public := netip.MustParseAddr("127.0.0.3")
	es, err := udp.Open(udp.Config{Local: netip.AddrPortFrom(server, 0)})
	if err != nil {
		t.Skipf("cannot bind %v: %v", server, err)
	}
	t.Cleanup(func() { es.Close() })
	nat := newNAPT(t, server, public, es.LocalAddrPort())
	inside := netip.AddrPortFrom(server, netip.MustParseAddrPort(nat.inside.LocalAddr().String()).Port())
	ec, err := udp.Open(udp.Config{Local: netip.AddrPortFrom(addrA, 0),
		Peers: map[netip.Addr]netip.AddrPort{server: inside}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ec.Close() })
	cs, err := stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{addrA}, Link: ec})
	if err != nil {
		t.Fatal(err)
	}
	ss, err := stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{server}, Link: es})
	if err != nil {
		t.Fatal(err)
	}
	l, err := ss.ListenDCCP(5001, stack.DCCPListenOptions{Services: []uint32{42}})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		remote string
		err    error
	}
	served := make(chan result, 1)
	go func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			served <- result{err: err}
			return
		}
		buf := make([]byte, 100)
		k, err := c.Read(buf)
		if err == nil && string(buf[:k]) != "ping" {
			err = fmt.Errorf("server read %q", buf[:k])
		}
		if err == nil {
			_, err = c.Write([]byte("pong"))
		}
		if err == nil {
			_, err = c.CloseAndWait(context.Background())
		}
		served <- result{c.RemoteAddr().String(), err}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := cs.DialDCCP(ctx, netip.AddrPortFrom(server, 5001), stack.DCCPOptions{Service: 42})
	if err != nil {
		t.Fatalf("dial through the NAPT: %v", err)
	}
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	k, err := c.Read(buf)
	if err != nil || string(buf[:k]) != "pong" {
		t.Fatalf("client read %q, %v", buf[:k], err)
	}
	if _, err := c.Read(buf); err != io.EOF {
		t.Errorf("client read after pong: %v, want end of stream", err)
	}
	if _, err := c.CloseAndWait(ctx); err != nil {
		t.Errorf("client close: %v", err)
	}
	r := <-served
	if r.err != nil {
		t.Fatalf("server: %v", r.err)
	}
	if host, _, _ := net.SplitHostPort(r.remote); host != public.String() {
		t.Errorf("server saw the client at %s, want the NAPT's address %v", r.remote, public)
	}
	if nat.out.Load() == 0 || nat.back.Load() == 0 {
		t.Errorf("NAPT forwarded %d out, %d back: the stacks bypassed it", nat.out.Load(), nat.back.Load())
	}
	if n := nat.nonZeroDCCPChecksum.Load(); n != 0 {
		t.Errorf("%d datagrams carried a non-zero DCCP checksum (RFC 6773 §3.3: zero on transmission)", n)
	}
	if st := es.Stats(); st.Malformed != 0 || st.KernelDropped != 0 {
		t.Errorf("server endpoint %+v", st)
	}
}
