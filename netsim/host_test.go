package netsim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link"
)

func TestHost_NoReceiverDrops(t *testing.T) {
	s := New(1)
	a := s.AddHost("a", addrA)
	b := s.AddHost("b", addrB)
	s.Connect(a, b, LinkConfig{})
	var drops []DropReason
	s.Observe(func(ev PacketEvent) {
		if ev.Kind == Dropped {
			drops = append(drops, ev.Reason)
		}
	})
	send(t, a, udp4(addrA, addrB, 1, 100))
	run(t, s)
	if st := b.Stats(); st.NoReceiver != 1 || st.Received != 0 {
		t.Fatalf("b stats %+v, want one NoReceiver drop", st)
	}
	if !slices.Equal(drops, []DropReason{DropNoReceiver}) {
		t.Fatalf("observer saw drops %v, want [no-receiver]", drops)
	}
}

func TestHost_UnownedAddressIsDroppedAndCounted(t *testing.T) {
	s, a, _, l, r := pair(t, 1, LinkConfig{}, LinkConfig{})
	send(t, a, udp4(addrA, addrC, 1, 100)) // nobody owns 10.0.0.3
	send(t, a, []byte{0x45, 0, 0})         // too short to hold a destination
	send(t, a, []byte{0x00})               // version 0
	run(t, s)
	st := a.Stats()
	if st.NoRoute != 1 || st.Malformed != 2 || st.Sent != 3 {
		t.Fatalf("a stats %+v, want 1 no-route and 2 malformed of 3 sent", st)
	}
	if ab, _ := l.Stats(); ab.Sent != 0 || len(r.got) != 0 {
		t.Fatal("an unroutable packet reached the link")
	}
}

func TestHost_WriteRejectsOversizeAndAfterClose(t *testing.T) {
	s, a, _, _, r := pair(t, 1, LinkConfig{}, LinkConfig{})
	a.SetMTU(1500)
	ok := udp4(addrA, addrB, 1, 1500)
	big := udp4(addrA, addrB, 2, 1501)
	n, err := a.WritePackets([][]byte{ok, big, ok})
	if n != 1 || !errors.Is(err, link.ErrTooBig) {
		t.Fatalf("WritePackets = %d, %v; want 1, ErrTooBig", n, err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	n, err = a.WritePackets([][]byte{ok})
	if n != 0 || !errors.Is(err, link.ErrClosed) {
		t.Fatalf("after Close: WritePackets = %d, %v; want 0, ErrClosed", n, err)
	}
	run(t, s)
	if len(r.got) != 1 {
		t.Fatalf("delivered %d, want only the first packet", len(r.got))
	}
}

func TestHost_MTUDefaultsToSmallestLinkMTU(t *testing.T) {
	s := New(1)
	a := s.AddHost("a", addrA)
	if a.MTU() != 65535 {
		t.Fatalf("unlinked host MTU = %d, want 65535", a.MTU())
	}
	s.ConnectAsym(a, s.AddHost("b", addrB), LinkConfig{MTU: 1500}, LinkConfig{MTU: 100})
	s.Connect(a, s.AddHost("c", addrC), LinkConfig{MTU: 9000})
	if a.MTU() != 1500 {
		t.Fatalf("MTU = %d, want 1500 (smallest outgoing)", a.MTU())
	}
}

func TestHost_ClosedHostDropsArrivals(t *testing.T) {
	s, a, b, _, r := pair(t, 1, LinkConfig{Latency: time.Millisecond}, LinkConfig{})
	send(t, a, udp4(addrA, addrB, 1, 100))
	b.Close()
	run(t, s)
	if len(r.got) != 0 || b.Stats().NoReceiver != 1 {
		t.Fatal("a closed host received a packet")
	}
}

func TestHost_ReceiverMayReplyInsideDelivery(t *testing.T) {
	s, a, b, _, _ := pair(t, 1, LinkConfig{Latency: time.Millisecond}, LinkConfig{Latency: time.Millisecond})
	ra := &recorder{sim: s}
	a.Attach(ra)
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			n := numOf(p)
			if n < 5 {
				send(t, b, udp4(addrB, addrA, n+100, 64))
			}
		}
	}))
	a.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		ra.DeliverPackets(pkts)
		for _, p := range pkts {
			send(t, a, udp4(addrA, addrB, numOf(p)-100+1, 64))
		}
	}))
	send(t, a, udp4(addrA, addrB, 0, 64))
	run(t, s)
	var nums []uint32
	for _, g := range ra.got {
		nums = append(nums, g.num)
	}
	if !slices.Equal(nums, []uint32{100, 101, 102, 103, 104}) {
		t.Fatalf("ping-pong replies %v, want 100..104", nums)
	}
	// Five round trips of 2ms, then a's last packet (5) reaches b, which
	// does not answer it.
	if got := s.Now().Sub(Epoch); got != 11*time.Millisecond {
		t.Fatalf("ping-pong ended at +%v, want +11ms", got)
	}
}

func TestSwitch_ForwardsByDestinationAmongThreeHosts(t *testing.T) {
	s := New(1)
	sw := s.AddSwitch("sw")
	hosts := []*Host{s.AddHost("a", addrA), s.AddHost("b", addrB), s.AddHost("c", addrC, addr6)}
	recs := make([]*recorder, 3)
	for i, h := range hosts {
		s.Connect(h, sw, LinkConfig{Latency: time.Millisecond})
		recs[i] = &recorder{sim: s}
		h.Attach(recs[i])
	}
	addrs := []netip.Addr{addrA, addrB, addrC}
	for i, h := range hosts {
		for j := range hosts {
			if i != j {
				send(t, h, udp4(addrs[i], addrs[j], uint32(10*i+j), 64))
			}
		}
	}
	// An IPv6 packet to c's second address: header fields other than the
	// version and the destination do not matter to routing.
	v6 := make([]byte, 48)
	v6[0] = 0x60
	d := addr6.As16()
	copy(v6[24:40], d[:])
	send(t, hosts[0], v6)
	run(t, s)
	for j, r := range recs {
		var from []uint32
		for _, g := range r.got {
			if g.data[0]>>4 == 4 {
				from = append(from, g.num%10)
			}
		}
		if len(from) != 2 || from[0] != uint32(j) || from[1] != uint32(j) {
			t.Fatalf("host %d got packets addressed to %v, want two addressed to itself", j, from)
		}
		for _, g := range r.got {
			if g.data[0]>>4 == 4 && int(g.num%10) != j {
				t.Fatalf("host %d got packet %d addressed to host %d", j, g.num, g.num%10)
			}
			if g.at != at(2*time.Millisecond) {
				t.Fatalf("arrival at +%v, want +2ms (two 1ms hops)", g.at.Sub(Epoch))
			}
		}
	}
	if len(recs[2].got) != 3 {
		t.Fatalf("c received %d packets, want 3 (two IPv4 and one IPv6)", len(recs[2].got))
	}
	if st := sw.Stats(); st.Forwarded != 7 || st.NoRoute != 0 {
		t.Fatalf("switch stats %+v, want 7 forwarded", st)
	}
}

func TestSwitch_SpoofedSourcesAreForwardedAndUnknownDestinationsDropped(t *testing.T) {
	s := New(1)
	sw := s.AddSwitch("sw")
	spoofer := s.AddHost("spoofer", netip.MustParseAddr("192.0.2.66"))
	victim := s.AddHost("victim", addrB)
	s.Connect(spoofer, sw, LinkConfig{})
	s.Connect(victim, sw, LinkConfig{})
	r := &recorder{sim: s}
	victim.Attach(r)
	for i := range 100 {
		src := netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})
		send(t, spoofer, udp4(src, addrB, uint32(i), 64))
	}
	send(t, spoofer, udp4(addrA, addrC, 999, 64))
	run(t, s)
	if len(r.got) != 100 {
		t.Fatalf("victim got %d spoofed packets, want 100", len(r.got))
	}
	if got := netip.AddrFrom4([4]byte(r.got[42].data[12:16])); got != netip.AddrFrom4([4]byte{198, 51, 100, 42}) {
		t.Fatalf("source address rewritten to %v", got)
	}
	if spoofer.Stats().NoRoute != 1 {
		t.Fatalf("spoofer NoRoute = %d, want 1 for 10.0.0.3", spoofer.Stats().NoRoute)
	}
}

func TestObserver_ReportsEachStepWithNodeNames(t *testing.T) {
	s, a, _, _, _ := pair(t, 1, LinkConfig{Latency: time.Millisecond}, LinkConfig{})
	var evs []PacketEvent
	s.Observe(func(ev PacketEvent) {
		ev.Packet = nil // lent: not kept
		evs = append(evs, ev)
	})
	send(t, a, udp4(addrA, addrB, 1, 64))
	run(t, s)
	want := []PacketEvent{
		{Time: Epoch, Kind: Sent, From: "a", To: "b"},
		{Time: at(time.Millisecond), Kind: Delivered, From: "a", To: "b"},
	}
	if !slices.EqualFunc(evs, want, func(x, y PacketEvent) bool {
		return x.Time == y.Time && x.Kind == y.Kind && x.Reason == y.Reason && x.From == y.From && x.To == y.To
	}) {
		t.Fatalf("events %+v, want %+v", evs, want)
	}
}

func TestNodeNames_MustBeUnique(t *testing.T) {
	s := New(1)
	s.AddHost("x", addrA)
	defer func() {
		if recover() == nil {
			t.Fatal("a second node named x did not panic")
		}
	}()
	s.AddSwitch("x")
}

func TestHost_PacketsArrivingTogetherComeInOneBatchInOrder(t *testing.T) {
	s, a, b, _, _ := pair(t, 1, LinkConfig{Latency: time.Millisecond}, LinkConfig{})
	var log []string
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		var nums []uint32
		for _, p := range pkts {
			nums = append(nums, numOf(p))
		}
		log = append(log, fmt.Sprint(nums))
	}))
	send(t, a, udp4(addrA, addrB, 1, 64))
	send(t, a, udp4(addrA, addrB, 2, 64))
	// A timer due at the same instant, queued between packets 2 and 3,
	// must run between them: batching never reorders events.
	s.Schedule(at(time.Millisecond), func() { log = append(log, "timer") })
	send(t, a, udp4(addrA, addrB, 3, 64))
	run(t, s)
	if want := []string{"[1 2]", "timer", "[3]"}; !slices.Equal(log, want) {
		t.Fatalf("deliveries %q, want %q", log, want)
	}
	if st := b.Stats(); st.Received != 3 {
		t.Fatalf("Received = %d, want 3", st.Received)
	}
}
