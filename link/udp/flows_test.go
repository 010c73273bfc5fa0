package udp_test

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/udp"
)

// TestFlows_EncapsulatedPortReuse: two clients behind one NAPT (one IP
// address, two UDP ports) pick the same DCCP ports. RFC 6773 §3.8: the
// stack sees only the DCCP 4-tuple, so while the first client's connection
// is active the second one's packets must not reach it; they are dropped
// and counted. The stack's packets go to the first client's UDP port.
// Once a Reset ends the connection, the second client gets through.
func TestFlows_EncapsulatedPortReuse(t *testing.T) {
	natIP := netip.MustParseAddr("127.0.0.3")
	e, err := udp.Open(udp.Config{Local: netip.AddrPortFrom(addrB, 0)})
	if err != nil {
		t.Skipf("cannot bind %v: %v", addrB, err)
	}
	defer e.Close()
	got := make(chan uint64, 8)
	e.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			ip, err := wire.ParseIP(p)
			if err != nil {
				t.Errorf("delivered: %v", err)
				continue
			}
			d, err := wire.ParseDCCP(ip.Payload)
			if err != nil {
				t.Errorf("delivered: %v", err)
				continue
			}
			got <- uint64(d.Seq())
		}
	}))
	var clients [2]*net.UDPConn
	for i := range clients {
		if clients[i], err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(natIP, 0))); err != nil {
			t.Skipf("cannot bind %v: %v", natIP, err)
		}
		defer clients[i].Close()
	}
	send := func(c int, seq uint64) {
		t.Helper()
		if _, err := clients[c].WriteToUDPAddrPort(request(t, seq, "hi"), e.LocalAddrPort()); err != nil {
			t.Fatal(err)
		}
	}
	next := func() uint64 {
		t.Helper()
		select {
		case s := <-got:
			return s
		case <-time.After(30 * time.Second):
			t.Fatal("nothing delivered")
			return 0
		}
	}
	send(0, 1)
	if s := next(); s != 1 {
		t.Fatalf("delivered %d, want 1", s)
	}
	send(1, 2) // same DCCP 4-tuple, other UDP port: dropped
	send(0, 3)
	if s := next(); s != 3 {
		t.Fatalf("delivered %d, want 3 (2 came from the other client)", s)
	}
	if st := e.Stats(); st.PortReuse != 1 || st.Received != 2 {
		t.Errorf("stats %+v, want 2 received, 1 port reuse", st)
	}

	// The stack resets the connection: the Reset goes to the first client.
	h := wire.DCCPHeader{SrcPort: 7, DstPort: 5001, Type: wire.DCCPReset, X: true, Seq: 100, Ack: 3, ResetCode: wire.DCCPResetClosed}
	d := make([]byte, 64)
	n, err := wire.BuildDCCP(d, &h, nil, addrB, natIP)
	if err != nil {
		t.Fatal(err)
	}
	pkt := make([]byte, 128)
	m, ok := udp.Wrap(pkt, addrB, natIP, d[:n])
	if !ok {
		t.Fatal("Wrap refused the Reset")
	}
	if _, err := e.WritePackets([][]byte{pkt[:m]}); err != nil {
		t.Fatal(err)
	}
	clients[0].SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 256)
	k, err := clients[0].Read(buf)
	if err != nil {
		t.Fatalf("first client: %v", err)
	}
	if r, err := wire.ParseDCCP(buf[:k]); err != nil || r.Type() != wire.DCCPReset || r.Checksum() != 0 {
		t.Fatalf("first client read %x, %v: want the Reset, DCCP checksum zero", buf[:k], err)
	}
	send(1, 4) // the 4-tuple is free again
	if s := next(); s != 4 {
		t.Fatalf("delivered %d, want 4", s)
	}
	if st := e.Stats(); st.PortReuse != 1 || st.Received != 3 {
		t.Errorf("stats %+v, want 3 received, 1 port reuse", st)
	}
}
