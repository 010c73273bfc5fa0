package stack_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/stack"
)

// countFamilies counts the packets sent on n's link by IP version and
// upper-layer protocol ("6/tcp", "4/dccp").
func countFamilies(n *simNet) map[string]int {
	seen := map[string]int{}
	n.sim.Observe(func(e netsim.PacketEvent) {
		if e.Kind != netsim.Sent {
			return
		}
		ip, err := wire.ParseIP(e.Packet)
		if err != nil {
			seen["bad"]++
			return
		}
		seen[fmt.Sprintf("%d/%d", ip.Version, ip.Protocol)]++
	})
	return seen
}

// TCP over IPv6 in the simulator: both directions of a bulk transfer
// through loss, duplication, reordering and corruption, every byte
// checked, FIN both ways; every packet on the wire is IPv6.
func TestIPv6BulkBothWaysWithFaults(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			replay.OnFailure(t)
			n := newSimNet(t, seed, simOpts{v6: true, link: netsim.LinkConfig{
				Latency: 5 * time.Millisecond, Jitter: time.Millisecond, Bandwidth: 50e6,
				Loss: 0.02, Duplicate: 0.01, Reorder: 0.02, ReorderDelay: 3 * time.Millisecond,
				Corrupt: 0.005, QueuePackets: 200,
			}})
			seen := countFamilies(n)
			if err := exchange(n, pattern(seed, 1<<20), pattern(seed+100, 1<<20)); err != nil {
				t.Fatalf("replay with seed %d: %v", seed, err)
			}
			if seen["6/6"] == 0 || len(seen) != 1 {
				t.Fatalf("packets by version/protocol %v, want only IPv6 TCP", seen)
			}
			if st := n.client.Stats(); st.EncodeFailed != 0 {
				t.Fatalf("%d segments larger than the MTU", st.EncodeFailed)
			}
		})
	}
}

// DCCP over IPv6 in the simulator: datagrams cross, and the close ends in
// TIMEWAIT at the side that closed, as over IPv4.
func TestIPv6DCCPExchange(t *testing.T) {
	for _, p := range dccpProfiles {
		t.Run(p.Name, func(t *testing.T) {
			n := &dccpNet{simNet: newSimNet(t, 2, simOpts{v6: true, clientProfile: p, serverProfile: p,
				link: netsim.LinkConfig{Latency: 5 * time.Millisecond}})}
			seen := countFamilies(n.simNet)
			l := n.listen(stack.DCCPListenOptions{})
			var got []string
			var readErr error
			var cr stack.DCCPCloseReport
			n.run.Go(func() {
				c, err := l.AcceptDCCP()
				if err != nil {
					t.Error(err)
					return
				}
				got, readErr = readAll(c)
				c.Close()
			})
			n.run.Go(func() {
				c, err := n.dial(stack.DCCPOptions{})
				if err != nil {
					t.Error(err)
					return
				}
				writeN(t, c, 20)
				n.run.Sleep(time.Second) // let the datagrams arrive before closing
				c.Close()
				n.run.Sleep(5 * time.Second)
				cr = c.Report()
			})
			n.runAll()
			if len(got) != 20 || got[0] != "d0" || got[19] != "d19" || !isEOF(readErr) {
				t.Fatalf("server read %d datagrams %v, ended with %v", len(got), got, readErr)
			}
			if cr.How != "closed" {
				t.Errorf("client report %v", cr)
			}
			if seen["6/33"] == 0 || len(seen) != 1 {
				t.Fatalf("packets by version/protocol %v, want only IPv6 DCCP", seen)
			}
		})
	}
}
