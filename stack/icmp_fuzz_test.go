package stack_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

// FuzzICMPDeliver feeds arbitrary ICMP and ICMPv6 messages (checksum made
// good, so that they get past it) to a client with an open connection:
// nothing may panic, every answer is a well-formed echo reply, and the
// connection still carries data afterwards.
func FuzzICMPDeliver(f *testing.F) {
	f.Add(false, []byte{wire.ICMPv4Echo, 0, 0, 0, 0, 1, 0, 1, 'h', 'i'})
	f.Add(true, []byte{wire.ICMPv6Echo, 0, 0, 0, 0, 1, 0, 1})
	f.Add(false, append([]byte{wire.ICMPv4Unreachable, wire.ICMPv4FragNeeded, 0, 0, 0, 0, 2, 0}, make([]byte, 28)...))
	f.Add(true, append([]byte{wire.ICMPv6PacketTooBig, 0, 0, 0, 0, 0, 5, 0, 0x60}, make([]byte, 47)...))
	f.Fuzz(func(t *testing.T, v6 bool, m []byte) {
		if len(m) > 1400 {
			return
		}
		n := newICMPNet(t, v6, 1500, stack.TCPOptions{})
		l, err := n.server.ListenTCP(80, stack.ListenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := make(chan int, 1)
		go func() {
			c, err := l.AcceptTCP()
			if err != nil {
				got <- -1
				return
			}
			b := make([]byte, 10)
			k, _ := c.Read(b)
			got <- k
		}()
		c, err := n.client.DialTCP(context.Background(), netip.AddrPortFrom(n.srvIP, 80))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		msg := append([]byte(nil), m...)
		if len(msg) >= wire.ICMPHeaderLen {
			h := wire.ICMPHeader{Type: msg[0], Code: msg[1], Rest: wire.ICMP(msg).Rest()}
			h.Encode(msg, n.r.addr, n.clientIP, msg[wire.ICMPHeaderLen:]) //nolint:errcheck // sized to fit
		}
		pkt := icmpTestPacket(n.r.addr, n.clientIP, wire.ICMPHeader{}, nil)
		hl := len(pkt) - wire.ICMPHeaderLen
		pkt = append(pkt[:hl], msg...)
		if v6 {
			pkt[4], pkt[5] = byte(len(msg)>>8), byte(len(msg))
		} else {
			pkt[2], pkt[3] = byte(len(pkt)>>8), byte(len(pkt))
			pkt[10], pkt[11] = 0, 0
			s := wire.Checksum(pkt[:20])
			pkt[10], pkt[11] = byte(s>>8), byte(s)
		}
		n.r.toClient.WritePackets([][]byte{pkt})
		n.r.mu.Lock()
		answers := n.r.fromClient
		n.r.mu.Unlock()
		for _, a := range answers {
			ip, err := wire.ParseIP(a)
			if err != nil {
				t.Fatalf("answer is not IP: %v", err)
			}
			am, err := wire.ParseICMP(ip.Payload)
			if err != nil || !am.VerifyChecksum(ip.Src, ip.Dst) || am.Type() != wire.ICMPv4EchoReply && am.Type() != wire.ICMPv6EchoReply {
				t.Fatalf("answer % x", a)
			}
		}
		if _, err := c.Write([]byte("still here")); err != nil {
			t.Fatalf("write after the message: %v", err)
		}
		if k := <-got; k <= 0 {
			t.Fatalf("server read %d bytes after the message", k)
		}
	})
}
