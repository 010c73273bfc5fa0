package dccp

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/replay"
	"github.com/teardown-lab/teardown/profile"
)

// TestSoak runs seeded two-conn connections with loss, duplication and
// reordering, CCID 2 or 3, either behaviour: no panic, both ends end in
// CLOSED or TIMEWAIT within the protocol's timeouts, and every datagram
// is delivered at most once. A failure names its seed.
func TestSoak(t *testing.T) {
	runs := 200
	if testing.Short() {
		runs = 20
	}
	for seed := range uint64(runs) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { soakOne(t, seed) })
	}
}

func soakOne(t *testing.T, seed uint64) {
	replay.OnFailure(t)
	rng := rand.New(rand.NewPCG(seed, 0xdcc9))
	b := behaviours[seed%2]
	ccid := uint8(2 + seed/2%2)
	pr := newPair(t, b, time.Duration(1+rng.IntN(30))*time.Millisecond, func(c *Config) {
		c.NewCCID, c.CCID, c.ServerTimewait = nil, ccid, rng.IntN(2) == 0
	})
	loss, dup, reorder := rng.Float64()*0.1, rng.Float64()*0.05, rng.Float64()*0.2
	pr.fault = func(from int, p *Packet) (bool, time.Duration, bool) {
		extra := time.Duration(0)
		if rng.Float64() < reorder {
			extra = time.Duration(rng.IntN(40)) * time.Millisecond
		}
		return rng.Float64() < loss, extra, rng.Float64() < dup
	}
	const n = 30
	writer, reader := int(seed/4%2), 0
	reader = 1 - writer
	next := 0
	got := map[string]int{}
	closeAt := time.Duration(500+rng.IntN(3000)) * time.Millisecond
	for d := 100 * time.Millisecond; d < 20*time.Second; d += 20 * time.Millisecond {
		pr.at(d, func(now clock.Instant) {
			w, r := pr.conn[writer], pr.conn[reader]
			for w != nil && next < n && w.Write(now, fmt.Appendf(nil, "m%d", next)) == nil {
				next++
			}
			if r == nil {
				return
			}
			msgs, err := readAll(r, now)
			for _, m := range msgs {
				got[m]++
			}
			if errors.Is(err, io.EOF) {
				r.Close(now)
			}
		})
	}
	closer := rng.IntN(2)
	pr.at(closeAt, func(now clock.Instant) {
		if c := pr.conn[closer]; c != nil {
			c.Close(now)
		}
	})
	pr.at(25*time.Second, func(now clock.Instant) { // applications exit
		for _, c := range pr.conn {
			if c != nil {
				c.Close(now)
			}
		}
	})
	pr.run(time.Hour)
	for side, c := range pr.conn {
		if c == nil {
			continue
		}
		if !c.Done() {
			t.Errorf("seed %d: %s stuck in %v\n%s", seed, sideName[side], c.State(), pr.dump())
		}
	}
	for m, k := range got {
		if k != 1 {
			t.Errorf("seed %d: %s delivered %d times", seed, m, k)
		}
		var i int
		if _, err := fmt.Sscanf(m, "m%d", &i); err != nil || i >= next {
			t.Errorf("seed %d: delivered %q, never written", seed, m)
		}
	}
}

// TestTransfer_CCIDs moves data both ways over CCID 2 and CCID 3 with no
// faults: every datagram arrives, in order.
func TestTransfer_CCIDs(t *testing.T) {
	for _, id := range []uint8{2, 3} {
		t.Run(fmt.Sprintf("ccid%d", id), func(t *testing.T) {
			pr := open(t, profile.Linux, func(c *Config) { c.NewCCID, c.CCID = nil, id })
			var got [2][]string
			next := [2]int{}
			for d := time.Duration(0); d < 30*time.Second; d += 10 * time.Millisecond {
				pr.at(pr.now.Sub(t0)+d, func(now clock.Instant) {
					for s := range 2 {
						for next[s] < 50 && pr.conn[s].Write(now, fmt.Appendf(nil, "%d", next[s])) == nil {
							next[s]++
						}
						m, _ := readAll(pr.conn[1-s], now)
						got[1-s] = append(got[1-s], m...)
					}
				})
			}
			pr.run(time.Minute)
			for s := range 2 {
				if len(got[s]) != 50 || got[s][49] != "49" {
					t.Errorf("%s received %d datagrams, want 50 in order\n%v\n%s", sideName[s], len(got[s]), got[s], pr.dump())
				}
			}
			if id == 3 && pr.conn[0].tx == nil {
				t.Error("no CCID 3 sender")
			}
		})
	}
}
