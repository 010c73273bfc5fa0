package stack

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A stack's counters never decrease (TCPCounters' contract), also while
// connections retire and their counts move from the live table to the
// sum of those gone: Stats must not see a connection in neither place.
func TestStats_CountersNeverDecreaseWhileConnectionsRetire(t *testing.T) {
	client, server := pipePair(t, 1500)
	l, err := server.ListenTCP(7001, ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			s, err := l.AcceptTCP()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 512)
				for {
					if _, err := s.Read(buf); err != nil {
						s.Close()
						return
					}
				}
			}()
		}
	}()
	var stop atomic.Bool
	var bad atomic.Pointer[string]
	var watchers sync.WaitGroup
	for _, st := range []*Stack{client, server} {
		watchers.Add(1)
		go func() {
			defer watchers.Done()
			var last TCPCounters
			for !stop.Load() {
				now := st.Stats().TCP
				if now.SegsIn < last.SegsIn || now.SegsOut < last.SegsOut || now.BytesOut < last.BytesOut || now.RSTsOut < last.RSTsOut {
					msg := fmt.Sprintf("counters went back: segments in %d -> %d, out %d -> %d, bytes out %d -> %d, RSTs out %d -> %d",
						last.SegsIn, now.SegsIn, last.SegsOut, now.SegsOut, last.BytesOut, now.BytesOut, last.RSTsOut, now.RSTsOut)
					bad.CompareAndSwap(nil, &msg)
				}
				last = now
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := 0; i < 400 && bad.Load() == nil; i++ {
		c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.2:7001"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(make([]byte, 100)); err != nil {
			t.Fatal(err)
		}
		c.SetLinger(0) // RST: both ends retire at once
		c.Close()
	}
	stop.Store(true)
	watchers.Wait()
	if m := bad.Load(); m != nil {
		t.Fatal(*m)
	}
}
