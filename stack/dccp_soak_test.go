package stack_test

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/netsim"
	"github.com/teardown-lab/teardown/profile"
	"github.com/teardown-lab/teardown/stack"
)

// TestDCCPSoak runs 1,000 seeded netsim runs (100 with -short) of a small
// exchange over a link with loss, duplication, reordering and a
// partition, in both profiles and with both CCIDs. Each run must end
// without a deadlock or panic; every connection must reach CLOSED (the
// tables end empty once TIMEWAIT expired); every datagram is delivered at
// most once, and never one its sender declared discarded unsent. A
// failure names the seed: go test ./stack -run 'TestDCCPSoak/seed=N$'.
func TestDCCPSoak(t *testing.T) {
	runs := 1000
	if testing.Short() {
		runs = 100
	}
	for seed := uint64(1); seed <= uint64(runs); seed++ {
		t.Run("seed="+strconv.FormatUint(seed, 10), func(t *testing.T) { soakOne(t, seed) })
	}
}

func soakOne(t *testing.T, seed uint64) {
	replay.OnFailure(t)
	rng := rand.New(rand.NewPCG(seed, 0xdcc9))
	link := netsim.LinkConfig{
		Latency:      time.Duration(1+rng.IntN(20)) * time.Millisecond,
		Loss:         rng.Float64() * 0.1,
		Duplicate:    rng.Float64() * 0.05,
		Reorder:      rng.Float64() * 0.1,
		ReorderDelay: time.Duration(rng.IntN(10)) * time.Millisecond,
	}
	p := []profile.Profile{profile.Linux, profile.RFCNaive}[rng.IntN(2)]
	ccid := 2 + rng.IntN(2)
	n := newDCCPNet(t, seed, p, link)
	if rng.IntN(3) == 0 { // a partition somewhere in the first ten seconds
		from := n.sim.Now().Add(time.Duration(rng.IntN(10_000)) * time.Millisecond)
		n.link.Partition(from, from.Add(time.Duration(rng.IntN(20_000))*time.Millisecond), netsim.Both)
	}
	count := 1 + rng.IntN(30)
	serverCloses := rng.IntN(2) == 0
	l := n.listen(stack.DCCPListenOptions{CCID: ccid, ServerTimewait: rng.IntN(2) == 0})
	got := map[int]int{}
	var clientReport stack.DCCPCloseReport
	var written int
	n.run.Go(func() {
		c, err := l.AcceptDCCP()
		if err != nil {
			return // the handshake never completed
		}
		c.SetReadDeadline(time.Unix(0, int64(n.run.Now())).Add(15 * time.Minute))
		buf := make([]byte, 64)
		for i := 0; ; i++ {
			if serverCloses && i == count/2 {
				c.Close()
			}
			k, err := c.Read(buf)
			if err != nil {
				break
			}
			id, _ := strconv.Atoi(string(buf[:k]))
			got[id]++
		}
		c.Close()
	})
	n.run.Go(func() {
		c, err := n.dial(stack.DCCPOptions{CCID: ccid})
		if err == nil {
			c.SetWriteDeadline(time.Unix(0, int64(n.run.Now())).Add(10 * time.Minute))
			for i := range count {
				if _, err := c.Write([]byte(strconv.Itoa(i))); err != nil {
					break
				}
				written++
			}
			c.Close()
		}
		n.run.Sleep(20 * time.Minute)
		l.Close() // wakes an Accept that never got a connection
		if c != nil {
			clientReport = c.Report()
		}
	})
	if err := n.run.Run(nil); err != nil {
		t.Fatalf("seed %d (%s, CCID %d, link %+v): %v", seed, p.Name, ccid, link, err)
	}
	for id, k := range got {
		switch {
		case k > 1:
			t.Errorf("seed %d: datagram %d delivered %d times", seed, id, k)
		case id >= written:
			t.Errorf("seed %d: datagram %d delivered but never written", seed, id)
		case id >= written-clientReport.UnsentDiscarded:
			t.Errorf("seed %d: datagram %d delivered but declared discarded unsent (%v)", seed, id, clientReport)
		}
	}
	for _, s := range []*stack.Stack{n.client, n.server} {
		if st := s.DCCPStats(); st.Open != 0 {
			t.Errorf("seed %d: %s still has %d connections after every timer ran", seed, s.Name(), st.Open)
		}
	}
	if t.Failed() {
		t.Logf("%s CCID %d, %d datagrams, received %d, client %v", p.Name, ccid, count, len(got), clientReport)
	}
}
