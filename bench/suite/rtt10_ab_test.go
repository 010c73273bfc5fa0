package suite

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// fixedPair is ours with the suite's 1 MiB buffers set per socket, as
// SO_RCVBUF and SO_SNDBUF: no tuning, ours as it was before buffers grew.
type fixedPair struct{ *oursPair }

func (p fixedPair) Listen(port uint16) (net.Listener, error) {
	return p.server.ListenTCP(port, stack.ListenOptions{Backlog: 4096, ReceiveBuffer: BufferSize, SendBuffer: BufferSize})
}

func (p fixedPair) Dial(ctx context.Context, port uint16) (net.Conn, error) {
	return p.client.DialTCPWith(ctx, netip.AddrPortFrom(serverAddr, port), stack.DialOptions{ReceiveBuffer: BufferSize, SendBuffer: BufferSize})
}

// TestBulkRTT10AB is bulk-rtt-10ms alone, for an A/B of the buffer tuning:
// ours with fixed 1 MiB buffers, ours tuned, gVisor and gVisor with
// tailscale's settings, interleaved run by run (5 runs of 5 s, or
// TEARDOWN_AB_RUNS), then min/median/max. It runs only when asked:
//
//	cd bench && TEARDOWN_AB_RUNS=5 go test ./suite -run TestBulkRTT10AB -v -count=1
func TestBulkRTT10AB(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("TEARDOWN_AB_RUNS"))
	if runs <= 0 {
		t.Skip("set TEARDOWN_AB_RUNS to run (100 s for 5 runs)")
	}
	d := 5 * time.Second
	res := map[string][]float64{}
	names := []string{"ours-fixed", Ours, GVisor, GVisorTuned}
	for r := 0; r < runs; r++ {
		for _, n := range names {
			settle()
			var br BulkResult
			var err error
			if n == "ours-fixed" {
				down := rtt10
				down.Seed++
				p, e := newOursPath(1500, rtt10, down)
				if e != nil {
					t.Fatal(e)
				}
				br, err = timedOver(fixedPair{p}, d)
				p.Close()
			} else {
				br, err = BulkPath(n, rtt10, d)
			}
			if err != nil {
				t.Fatal(n, err)
			}
			res[n] = append(res[n], br.Gbps())
			fmt.Printf("run %d %-12s %.3f Gbit/s rtx %d cpu %.2f ns/B\n", r, n, br.Gbps(), br.Retransmits, br.CPUPerByte())
		}
	}
	for _, n := range names {
		v := slices.Clone(res[n])
		slices.Sort(v)
		fmt.Printf("%-12s min %.3f median %.3f max %.3f\n", n, v[0], v[len(v)/2], v[len(v)-1])
	}
}
