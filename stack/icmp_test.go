package stack_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pipe"
	"github.com/teardown-lab/teardown/stack"
)

// icmpRouter sits between two stacks, each on a pipe of MTU 1500, and
// plays the router in front of the server: it forwards the client's
// packets that fit pathMTU and answers the others with Fragmentation
// Needed (IPv4) or Packet Too Big (IPv6) quoting them; it answers a SYN
// to port refusePort with Destination Unreachable of code refuseCode.
type icmpRouter struct {
	toClient, toServer *pipe.Endpoint
	addr               netip.Addr // the router's own address, the source of its messages
	pathMTU            int
	refusePort         uint16
	refuseCode         uint8
	reportMTU          int // the MTU its messages report; 0: pathMTU
	fragmentAt         int // > 0: cut the server's IPv4 packets into fragments of at most this size
	sentPTB            atomic.Int64
	mu                 sync.Mutex
	fromClient         [][]byte // what the client sent to the router itself
}

type icmpNet struct {
	client, server  *stack.Stack
	r               *icmpRouter
	clientIP, srvIP netip.Addr
}

func newICMPNet(t *testing.T, v6 bool, pathMTU int, tcp stack.TCPOptions) *icmpNet {
	t.Helper()
	n := &icmpNet{clientIP: netip.MustParseAddr("10.7.0.1"), srvIP: netip.MustParseAddr("10.8.0.2")}
	rAddr := netip.MustParseAddr("10.7.0.254")
	if v6 {
		n.clientIP, n.srvIP, rAddr = netip.MustParseAddr("fd00:7::1"), netip.MustParseAddr("fd00:8::2"), netip.MustParseAddr("fd00:7::fe")
	}
	c, rc := pipe.New(1500)
	rs, s := pipe.New(1500)
	n.r = &icmpRouter{toClient: rc, toServer: rs, addr: rAddr, pathMTU: pathMTU}
	rc.Attach(link.ReceiverFunc(n.r.fromClientSide))
	rs.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			if f := n.r.fragmentAt; f > 0 && p[0]>>4 == 4 && len(p) > f {
				rc.WritePackets(fragmentReversed(p, f))
				continue
			}
			rc.WritePackets([][]byte{p})
		}
	}))
	var err error
	n.client, err = stack.New(stack.Config{Name: "client", Addrs: []netip.Addr{n.clientIP}, Link: c, TCP: tcp})
	if err != nil {
		t.Fatal(err)
	}
	n.server, err = stack.New(stack.Config{Name: "server", Addrs: []netip.Addr{n.srvIP}, Link: s, TCP: tcp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.client.Close(); n.server.Close() })
	return n
}

func (r *icmpRouter) fromClientSide(pkts [][]byte) {
	for _, p := range pkts {
		ip, err := wire.ParseIP(p)
		if err != nil {
			continue
		}
		if ip.Dst == r.addr {
			r.mu.Lock()
			r.fromClient = append(r.fromClient, bytes.Clone(p))
			r.mu.Unlock()
			continue
		}
		if ip.Protocol == wire.IPProtoTCP && r.refusePort != 0 {
			if t, err := wire.ParseTCP(ip.Payload); err == nil && t.DstPort() == r.refusePort {
				r.answer(ip, p, wire.ICMPHeader{Type: unreachType(ip.Version), Code: r.refuseCode})
				continue
			}
		}
		if len(p) > r.pathMTU {
			mtu := uint32(r.pathMTU)
			if r.reportMTU != 0 {
				mtu = uint32(r.reportMTU)
			}
			h := wire.ICMPHeader{Type: wire.ICMPv4Unreachable, Code: wire.ICMPv4FragNeeded, Rest: mtu}
			if ip.Version == 6 {
				h = wire.ICMPHeader{Type: wire.ICMPv6PacketTooBig, Rest: mtu}
			}
			r.sentPTB.Add(1)
			r.answer(ip, p, h)
			continue
		}
		r.toServer.WritePackets([][]byte{p})
	}
}

func unreachType(v uint8) uint8 {
	if v == 6 {
		return wire.ICMPv6Unreachable
	}
	return wire.ICMPv4Unreachable
}

// answer sends the client an ICMP error quoting pkt (576 bytes of it at
// most, as RFC 1812 §4.3.2.3 and RFC 4443 §2.4 allow more or less).
func (r *icmpRouter) answer(ip wire.IPPacket, pkt []byte, h wire.ICMPHeader) {
	r.toClient.WritePackets([][]byte{icmpTestPacket(r.addr, ip.Src, h, pkt[:min(len(pkt), 548)])})
}

// icmpTestPacket builds an IP packet carrying the ICMP message h.
func icmpTestPacket(src, dst netip.Addr, h wire.ICMPHeader, body []byte) []byte {
	b := make([]byte, 40+8+len(body))
	var hl int
	if src.Is4() {
		ih := wire.IPv4Header{Src: src, Dst: dst, Protocol: wire.IPProtoICMP, TTL: 64}
		hl, _ = ih.Encode(b, 8+len(body))
	} else {
		ih := wire.IPv6Header{Src: src, Dst: dst, NextHeader: wire.IPProtoICMPv6, HopLimit: 64}
		hl, _ = ih.Encode(b, 8+len(body))
	}
	n, _ := h.Encode(b[hl:], src, dst, body)
	return b[:hl+n]
}

// echoBulk sends size bytes from the client through the router and checks
// that the server receives them all.
func (n *icmpNet) sendBulk(t *testing.T, size int) {
	t.Helper()
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			got <- nil
			return
		}
		b, _ := io.ReadAll(c)
		c.Close()
		got <- b
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := n.client.DialTCP(ctx, netip.AddrPortFrom(n.srvIP, 80))
	if err != nil {
		t.Fatal(err)
	}
	want := pattern(11, size)
	if _, err := c.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("server got %d bytes, want %d", len(b), size)
	}
	c.Close()
}

// A router whose next hop carries 1280 bytes drops our 1500-byte packets
// (DF is always set) and says so: the client's segments shrink and the
// transfer completes; without ICMP it would stall (a black hole).
func TestICMP_PathMTUShrinksSegments(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		t.Run(map[bool]string{false: "v4", true: "v6"}[v6], func(t *testing.T) {
			n := newICMPNet(t, v6, 1280, stack.TCPOptions{RTOInitial: 10 * time.Second, RTOMin: 10 * time.Second})
			n.sendBulk(t, 256<<10)
			st := n.client.Stats()
			if n.r.sentPTB.Load() == 0 || st.ICMP.PathMTUDrops == 0 {
				t.Fatalf("router sent %d PTBs, client took %d: the path never limited us", n.r.sentPTB.Load(), st.ICMP.PathMTUDrops)
			}
			if st.TCP.RTOs != 0 {
				t.Fatalf("%d RTOs: the resend waited for the timer", st.TCP.RTOs)
			}
		})
	}
}

// A Packet Too Big reporting a tiny MTU (forged, or a broken router) is
// believed only down to the floor: 552 bytes for IPv4 (Linux's min_pmtu),
// 1280 for IPv6 (RFC 8201 §4). Segments then carry 552 or 1280 bytes less
// the IP, TCP and timestamp headers.
func TestICMP_PathMTUFloor(t *testing.T) {
	for _, c := range []struct {
		v6      bool
		wantMSS int
	}{{false, 552 - 20 - 20 - 12}, {true, 1280 - 40 - 20 - 12}} {
		n := newICMPNet(t, c.v6, 1280, stack.TCPOptions{})
		n.r.reportMTU = 100
		l, err := n.server.ListenTCP(80, stack.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			if c, err := l.AcceptTCP(); err == nil {
				io.Copy(io.Discard, c)
				c.Close()
			}
		}()
		cc, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.srvIP, 80))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cc.Write(pattern(3, 64<<10)); err != nil {
			t.Fatal(err)
		}
		if mss := cc.Info().MSS; mss != c.wantMSS {
			t.Errorf("v6=%v: send MSS %d after a PTB of MTU 100, want %d", c.v6, mss, c.wantMSS)
		}
		cc.Close()
	}
}

// Port unreachable quoting our SYN ends the dial at once with
// ECONNREFUSED; admin prohibited with Linux's errno for it.
func TestICMP_UnreachableEndsConnect(t *testing.T) {
	for _, c := range []struct {
		name string
		v6   bool
		code uint8
		want syscall.Errno
	}{
		{"v4-port", false, wire.ICMPv4PortUnreach, syscall.ECONNREFUSED},
		{"v4-prohibited", false, wire.ICMPv4AdminProhibited, syscall.EHOSTUNREACH},
		{"v6-port", true, wire.ICMPv6PortUnreach, syscall.ECONNREFUSED},
		{"v6-prohibited", true, wire.ICMPv6AdminProhibited, syscall.EACCES},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A long SYN timeout: only the ICMP message can end the dial soon.
			n := newICMPNet(t, c.v6, 1500, stack.TCPOptions{RTOInitial: time.Minute, RTOMin: time.Minute})
			n.r.refusePort, n.r.refuseCode = 81, c.code
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err := n.client.DialTCP(ctx, netip.AddrPortFrom(n.srvIP, 81))
			if !errors.Is(err, c.want) || errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("dial: %v, want %v", err, c.want)
			}
			if h := n.client.Stats().ICMP.HardErrors; h != 1 {
				t.Fatalf("%d hard errors counted, want 1", h)
			}
		})
	}
}

// Host unreachable is soft (RFC 1122 §4.2.3.9): the SYN is retried, and
// when the dial gives up it reports EHOSTUNREACH instead of ETIMEDOUT.
func TestICMP_SoftErrorReportedOnTimeout(t *testing.T) {
	n := newICMPNet(t, false, 1500, stack.TCPOptions{SYNRetries: 2, RTOInitial: 20 * time.Millisecond, RTOMin: 20 * time.Millisecond})
	n.r.refusePort, n.r.refuseCode = 82, wire.ICMPv4HostUnreachable
	_, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.srvIP, 82))
	if !errors.Is(err, syscall.EHOSTUNREACH) {
		t.Fatalf("dial: %v, want EHOSTUNREACH after the SYN retries", err)
	}
	st := n.client.Stats()
	if st.ICMP.SoftErrors != 3 || st.ICMP.HardErrors != 0 {
		t.Fatalf("soft %d hard %d, want 3 soft (one per SYN) and no hard", st.ICMP.SoftErrors, st.ICMP.HardErrors)
	}
}

// Echo requests are answered with the same identifier, sequence and data.
func TestICMP_EchoAnswered(t *testing.T) {
	for _, v6 := range []bool{false, true} {
		n := newICMPNet(t, v6, 1500, stack.TCPOptions{})
		typ, reply := uint8(wire.ICMPv4Echo), uint8(wire.ICMPv4EchoReply)
		if v6 {
			typ, reply = wire.ICMPv6Echo, wire.ICMPv6EchoReply
		}
		req := icmpTestPacket(n.r.addr, n.clientIP, wire.ICMPHeader{Type: typ, Rest: 0xabcd0003}, []byte("are you there"))
		n.r.toClient.WritePackets([][]byte{req})
		n.r.mu.Lock()
		got := n.r.fromClient
		n.r.mu.Unlock()
		if len(got) != 1 {
			t.Fatalf("v6=%v: %d answers, want 1", v6, len(got))
		}
		ip, err := wire.ParseIP(got[0])
		if err != nil {
			t.Fatal(err)
		}
		m, err := wire.ParseICMP(ip.Payload)
		if err != nil || ip.Src != n.clientIP || !m.VerifyChecksum(ip.Src, ip.Dst) || m.Type() != reply ||
			m.Rest() != 0xabcd0003 || string(m.Body()) != "are you there" {
			t.Fatalf("v6=%v: answer %x", v6, got[0])
		}
		if e := n.client.Stats().ICMP.EchoReplies; e != 1 {
			t.Fatalf("%d echo replies counted", e)
		}
	}
}

// Bad ICMP is counted and dropped: a bad checksum, a truncated message, an
// error quoting no connection, one quoting a sequence number not in
// flight (RFC 5927 §4.1), a forged Packet Too Big asking for a tiny MTU.
func TestICMP_BadCountedAndIgnored(t *testing.T) {
	n := newICMPNet(t, false, 1500, stack.TCPOptions{RTOInitial: time.Minute, RTOMin: time.Minute})
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.srvIP, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A quote of a segment from our connection, sequence number chosen.
	quote := func(seq uint32) []byte {
		q := make([]byte, 28)
		h := wire.IPv4Header{Src: n.clientIP, Dst: n.srvIP, Protocol: wire.IPProtoTCP, TTL: 64}
		h.Encode(q, 8)
		lp, rp := c.LocalAddr().(interface{ AddrPort() netip.AddrPort }), c.RemoteAddr().(interface{ AddrPort() netip.AddrPort })
		q[20], q[21] = byte(lp.AddrPort().Port()>>8), byte(lp.AddrPort().Port())
		q[22], q[23] = byte(rp.AddrPort().Port()>>8), byte(rp.AddrPort().Port())
		q[24], q[25], q[26], q[27] = byte(seq>>24), byte(seq>>16), byte(seq>>8), byte(seq)
		return q
	}
	ptb := wire.ICMPHeader{Type: wire.ICMPv4Unreachable, Code: wire.ICMPv4FragNeeded, Rest: 576}
	bad := icmpTestPacket(n.r.addr, n.clientIP, ptb, quote(1))
	bad[len(bad)-1] ^= 1
	other := quote(1)
	other[21]++ // another local port
	send := func(p []byte) { n.r.toClient.WritePackets([][]byte{p}) }
	send(bad)
	short := make([]byte, 26) // an IP packet carrying 6 bytes of ICMP
	ih := wire.IPv4Header{Src: n.r.addr, Dst: n.clientIP, Protocol: wire.IPProtoICMP, TTL: 64}
	ih.Encode(short, 6)
	send(short)
	send(icmpTestPacket(n.r.addr, n.clientIP, ptb, other))
	send(icmpTestPacket(n.r.addr, n.clientIP, ptb, quote(12345))) // nothing in flight
	mss := c.Info().MSS
	st := n.client.Stats().ICMP
	if st.Bad != 2 || st.NoConnection != 1 || st.NotInFlight != 1 || st.PathMTUDrops != 0 {
		t.Fatalf("counters %+v, want 2 bad, 1 no connection, 1 not in flight", st)
	}
	if c.Info().MSS != mss {
		t.Fatal("the send MSS changed")
	}
}

// fragmentReversed cuts IPv4 packet p into fragments of at most size
// bytes (DF cleared, as a router may when the sender allowed it) and
// returns them last first.
func fragmentReversed(p []byte, size int) [][]byte {
	hdr, pay := p[:20], p[20:]
	step := (size - 20) &^ 7
	var out [][]byte
	for off := 0; off < len(pay); off += step {
		end := min(off+step, len(pay))
		f := append(bytes.Clone(hdr), pay[off:end]...)
		frag := uint16(off / 8)
		if end < len(pay) {
			frag |= wire.IPv4FlagMF << 13
		}
		f[2], f[3] = byte(len(f)>>8), byte(len(f))
		f[6], f[7] = byte(frag>>8), byte(frag)
		f[10], f[11] = 0, 0
		c := wire.Checksum(f[:20])
		f[10], f[11] = byte(c>>8), byte(c)
		out = append([][]byte{f}, out...)
	}
	return out
}

// The router cuts every packet the server sends into fragments of 576
// bytes and delivers them last first: the client reassembles them (RFC
// 1122 §3.3.2) and receives every byte.
func TestICMP_FragmentsReassembled(t *testing.T) {
	n := newICMPNet(t, false, 1500, stack.TCPOptions{})
	n.r.fragmentAt = 576
	l, err := n.server.ListenTCP(80, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := pattern(12, 200<<10)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		c.Write(want)
		c.Close()
	}()
	c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.srvIP, 80))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes of %d (%v)", len(got), len(want), err)
	}
	fc := n.client.Stats().Fragments
	if fc.Reassembled == 0 || fc.Overlaps+fc.TimedOut+fc.OverLimit+fc.Malformed != 0 {
		t.Fatalf("fragment counters %+v", fc)
	}
}
