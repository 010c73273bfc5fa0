//go:build linux

package stack_test

import (
	"io"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/teardown-lab/teardown/link/tun"
)

// Sixteen kernel flows push into our stack at once, without offloads, so
// every segment is a packet in the device's queue toward us. The queue
// (tun.DefaultTxQueueLen) holds more packets than our sixteen receive
// windows let in flight, so however far our reader falls behind, the
// kernel never has to drop one (with the kernel's default of 500 it
// dropped thousands here, and its senders retransmitted them).
func TestKernelTUNNoDropsUnderSixteenFlows(t *testing.T) {
	e := newKernelEnv(t, envOpts{})
	const flows, n = 16, 8 << 20
	done := make(chan error, 2*flows)
	buf := make([]byte, 256<<10)
	for i := range flows {
		k, ours := kernelClientOurServer(t, e, uint16(5300+i))
		k.SetDeadline(time.Now().Add(2 * time.Minute))
		ours.SetDeadline(time.Now().Add(2 * time.Minute))
		go func() {
			var err error
			for left := n; left > 0 && err == nil; left -= len(buf) {
				_, err = k.Write(buf)
			}
			done <- err
		}()
		go func() {
			_, err := io.CopyN(io.Discard, ours, n)
			done <- err
		}()
	}
	for range 2 * flows {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	var qlen int
	e.ns.Do(func() error {
		l, err := netlink.LinkByName(e.dev.Name())
		if err == nil {
			qlen = l.Attrs().TxQLen
		}
		return err
	})
	ks := e.kernelLinkStats(t)
	t.Logf("txqueuelen %d: the kernel sent us %d packets, dropped %d", qlen, ks.TxPackets, ks.TxDropped)
	if qlen != tun.DefaultTxQueueLen {
		t.Errorf("txqueuelen %d, want %d", qlen, tun.DefaultTxQueueLen)
	}
	if ks.TxDropped != 0 {
		t.Errorf("the kernel dropped %d of %d packets toward us: the device's queue overflowed", ks.TxDropped, ks.TxPackets)
	}
}
