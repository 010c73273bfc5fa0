package stack_test

import (
	"io"
	"net/netip"
	"sync"
	"testing"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/stack"
)

// recLink is a link that keeps copies of what the stack sends.
type recLink struct {
	mu   sync.Mutex
	pkts [][]byte
	r    link.Receiver
}

func (l *recLink) MTU() int { return 1500 }
func (l *recLink) WritePackets(pkts [][]byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range pkts {
		l.pkts = append(l.pkts, append([]byte(nil), p...))
	}
	return len(pkts), nil
}
func (l *recLink) Attach(r link.Receiver) { l.r = r }
func (l *recLink) Close() error           { return nil }

// sentTo returns the TCP headers of the packets sent to port since packet
// from, and the count sent so far.
func (l *recLink) sentTo(t *testing.T, port uint16, from int) ([]wire.TCP, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var got []wire.TCP
	for _, p := range l.pkts[from:] {
		ip, err := wire.ParseIP(p)
		if err != nil {
			t.Fatal(err)
		}
		if tcp, err := wire.ParseTCP(ip.Payload); err == nil && tcp.DstPort() == port {
			got = append(got, tcp)
		}
	}
	return got, len(l.pkts)
}

// The phantom connection of issue 13, item 7, end to end. A client's
// connection is made from a SYN cookie (the SYN queue is full of a
// flood's requests), echoes 5 bytes, and the client closes first: it is
// in TIME-WAIT, our side goes LAST-ACK, then CLOSED, and is forgotten.
// The client's last ACK then arrives a second time (it re-acknowledged a
// retransmitted FIN). Its numbers are the handshake's plus 6 each way, so
// the cookie checks out: Linux 6.18, and this stack before, made an
// ESTABLISHED connection the client does not have, for Accept to return.
// Now the listener remembers that the tuple's cookie was used and answers
// RST; nothing is queued.
func TestStaleACKMakesNoPhantom(t *testing.T) {
	rl := &recLink{}
	s, err := stack.New(stack.Config{Addrs: []netip.Addr{serverAddr}, Link: rl, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := s.ListenTCP(backlogPort, stack.ListenOptions{Backlog: 1})
	if err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(serverAddr, backlogPort)
	for i := range synQueueOf(1) { // the SYN queue is full
		rl.r.DeliverPackets([][]byte{spoofedSYN(make([]byte, 100), i, dst)})
	}

	const port = 40000
	const iss = seqnum.V32(5000)
	send := func(flags wire.TCPFlags, seq, ack seqnum.V32, data string) {
		t.Helper()
		h := wire.TCPHeader{SrcPort: port, DstPort: backlogPort, Seq: seq, Ack: ack, Flags: flags, Window: 65535}
		b := make([]byte, 100)
		n, err := wire.EncodeTCPPacket(b, clientAddr, serverAddr, &h, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		rl.r.DeliverPackets([][]byte{b[:n]})
	}
	send(wire.SYN, iss, 0, "")
	got, mark := rl.sentTo(t, port, 0)
	if len(got) != 1 || got[0].Flags() != wire.SYN|wire.ACK || l.Stats().CookiesSent != 1 {
		t.Fatalf("want one cookie SYN-ACK, got %d segments, listener %+v", len(got), l.Stats())
	}
	cookie := got[0].Seq()

	send(wire.ACK, iss+1, cookie+1, "")
	c, err := l.AcceptTCP()
	if err != nil {
		t.Fatal(err)
	}
	send(wire.ACK|wire.PSH, iss+1, cookie+1, "hello")
	buf := make([]byte, 16)
	if n, err := c.Read(buf); n != 5 || err != nil {
		t.Fatalf("Read = %d, %v", n, err)
	}
	if _, err := c.Write(buf[:5]); err != nil {
		t.Fatal(err)
	}
	send(wire.ACK|wire.FIN, iss+6, cookie+6, "") // the client closes first
	if n, err := c.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read = %d, %v; want EOF", n, err)
	}
	c.Close() // LAST-ACK
	last := func() { send(wire.ACK, iss+7, cookie+7, "") }
	last() // CLOSED: the connection is forgotten, the client in TIME-WAIT
	_, mark = rl.sentTo(t, port, mark)

	last() // the stray ACK
	got, _ = rl.sentTo(t, port, mark)
	st := l.Stats()
	if st.AcceptQueue != 0 || st.CookiesValidated != 1 {
		t.Fatalf("listener %+v: the stale ACK made a connection the client does not have", st)
	}
	if len(got) != 1 || got[0].Flags() != wire.RST || got[0].Seq() != cookie+7 || st.StaleACKsReset != 1 {
		t.Fatalf("%d segments sent, listener %+v: want one RST at SEG.ACK for the stale ACK", len(got), st)
	}
}
