package netsim

import (
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link"
)

// FuzzSimPacket sends arbitrary bytes, as a host may, through a faulty
// link, a switch and a clean link. The simulator reads the version and
// destination of whatever it is given: it must never panic, and every
// packet must be accounted for exactly once.
func FuzzSimPacket(f *testing.F) {
	f.Add(udp4(addrA, addrB, 1, 40), uint64(1))
	f.Add([]byte{0x45}, uint64(2))
	f.Add([]byte{0x60, 0, 0, 0}, uint64(3))
	f.Add([]byte{}, uint64(4))
	f.Fuzz(func(t *testing.T, pkt []byte, seed uint64) {
		s := New(seed)
		a := s.AddHost("a", addrA)
		b := s.AddHost("b", addrB, addr6)
		sw := s.AddSwitch("sw")
		l1 := s.Connect(a, sw, LinkConfig{
			Latency: time.Millisecond, Jitter: time.Millisecond, Loss: 0.2,
			Duplicate: 0.2, Corrupt: 0.5, Reorder: 0.2, MTU: 1500,
		})
		l2 := s.Connect(sw, b, LinkConfig{})
		a.SetMTU(65535) // let oversize packets reach the link's MTU check
		got := 0
		b.Attach(link.ReceiverFunc(func(p [][]byte) { got += len(p) }))
		n, err := a.WritePackets([][]byte{pkt, pkt})
		if n != 2 || err != nil {
			t.Fatalf("WritePackets = %d, %v", n, err)
		}
		s.SetMaxEvents(1000)
		if err := s.Run(); err != nil {
			t.Fatal(err)
		}
		hs, up, down, ws := a.Stats(), first(l1.Stats()), first(l2.Stats()), sw.Stats()
		if hs.Sent != 2 || hs.NoRoute+hs.Malformed+up.Sent != 2 {
			t.Fatalf("host: %+v, first hop sent %d: packets unaccounted for", hs, up.Sent)
		}
		if up.Sent+up.Duplicated != up.Dropped()+up.Delivered {
			t.Fatalf("first hop: %+v does not balance", up)
		}
		if up.Delivered != ws.Forwarded+ws.NoRoute+ws.Malformed || ws.Forwarded != down.Sent {
			t.Fatalf("switch: %+v after %d arrivals, %d sent on", ws, up.Delivered, down.Sent)
		}
		if uint64(got) != down.Delivered || b.Stats().Received != down.Delivered {
			t.Fatalf("b received %d, last hop delivered %d", got, down.Delivered)
		}
	})
}

func first(a, _ LinkStats) LinkStats { return a }
