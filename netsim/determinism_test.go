package netsim

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/pcap"
)

// faultyConfig enables every fault at once.
var faultyConfig = LinkConfig{
	Latency:      2 * time.Millisecond,
	Jitter:       500 * time.Microsecond,
	Bandwidth:    50_000_000,
	QueuePackets: 8,
	Loss:         0.02,
	Duplicate:    0.01,
	Reorder:      0.02,
	ReorderDelay: time.Millisecond,
	Corrupt:      0.01,
}

// faultyRun drives a traffic generator over a link with every fault and a
// partition, and returns the whole-network capture, host a's capture and
// a summary of the observer's events.
func faultyRun(t testing.TB, seed uint64) (network, hostA []byte, summary string) {
	t.Helper()
	s := New(seed)
	a := s.AddHost("a", addrA)
	b := s.AddHost("b", addrB)
	sw := s.AddSwitch("sw")
	s.Connect(a, sw, faultyConfig)
	s.ConnectAsym(sw, b, LinkConfig{Latency: time.Millisecond}, faultyConfig)
	if err := s.Partition(a, sw, at(40*time.Millisecond), at(60*time.Millisecond), AtoB); err != nil {
		t.Fatal(err)
	}
	var netBuf, aBuf bytes.Buffer
	nw, err := pcap.NewWriter(&netBuf, 0)
	if err != nil {
		t.Fatal(err)
	}
	aw, err := pcap.NewWriter(&aBuf, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Capture(nw)
	a.Capture(aw)
	counts := map[string]int{}
	s.Observe(func(ev PacketEvent) { counts[ev.Kind.String()+"/"+ev.Reason.String()]++ })

	// b answers every packet with a 64-byte one carrying the same number.
	b.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			if len(p) >= udpLen+4 {
				send(t, b, udp4(addrB, addrA, numOf(p), 64))
			}
		}
	}))
	a.Attach(link.ReceiverFunc(func([][]byte) {}))
	// a sends 2000 packets of varying size, one every 50µs.
	i := 0
	var tick *Timer
	tick = s.NewTimer(func() {
		send(t, a, udp4(addrA, addrB, uint32(i), 100+(i*37)%1400))
		if i++; i < 2000 {
			tick.Reset(s.Now().Add(50 * time.Microsecond))
		}
	})
	tick.Reset(s.Now())
	run(t, s)
	return netBuf.Bytes(), aBuf.Bytes(), fmt.Sprint(counts)
}

func TestDeterminism_SameSeedGivesByteIdenticalCaptures(t *testing.T) {
	n1, a1, sum1 := faultyRun(t, 2026)
	n2, a2, sum2 := faultyRun(t, 2026)
	if !bytes.Equal(n1, n2) {
		t.Fatalf("seed 2026: network captures differ (%d and %d bytes)", len(n1), len(n2))
	}
	if !bytes.Equal(a1, a2) {
		t.Fatalf("seed 2026: host captures differ (%d and %d bytes)", len(a1), len(a2))
	}
	if sum1 != sum2 {
		t.Fatalf("seed 2026: observer summaries differ:\n%s\n%s", sum1, sum2)
	}
	// The run must have exercised every fault, or the comparison proves
	// little.
	for _, k := range []string{"dropped/loss", "dropped/queue", "dropped/partition",
		"duplicated/not-dropped", "corrupted/not-dropped", "reordered/not-dropped"} {
		if !bytes.Contains([]byte(sum1), []byte(k+":")) {
			t.Errorf("seed 2026: no %q event in %s", k, sum1)
		}
	}
}

func TestDeterminism_DifferentSeedsGiveDifferentCaptures(t *testing.T) {
	n1, a1, _ := faultyRun(t, 1)
	n2, a2, _ := faultyRun(t, 2)
	if bytes.Equal(n1, n2) || bytes.Equal(a1, a2) {
		t.Fatal("seeds 1 and 2 produced identical captures")
	}
}

func TestSteadyState_MovingPacketsDoesNotAllocate(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  LinkConfig
	}{
		{"clean", LinkConfig{}},
		{"faulty", faultyConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, a, _, _, _ := pair(t, 1, tc.cfg, LinkConfig{})
			count := 0
			s.hosts[1].Attach(link.ReceiverFunc(func(p [][]byte) { count += len(p) }))
			pkt := udp4(addrA, addrB, 0, 1500)
			batch := [][]byte{pkt}
			step := func() {
				for range 16 {
					a.WritePackets(batch)
				}
				s.RunFor(time.Millisecond)
			}
			for range 100 { // warm up: grow the heap, pools and queues
				step()
			}
			before := count
			if allocs := testing.AllocsPerRun(200, step); allocs != 0 {
				t.Fatalf("%v allocations per 16 packets, want 0", allocs)
			}
			if count == before {
				t.Fatal("no packet was delivered during the measurement")
			}
		})
	}
}
