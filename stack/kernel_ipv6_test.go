//go:build linux

package stack_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// TCP over IPv6 against the Linux kernel, over a TUN device whose link is
// fd00:79::/64: the bulk exchange both ways, clean and lossy, with both
// ends as client; the seed's echo-one with the kernel as server; a
// backlog row (backlog_kernel_test.go).

const bulkSize6 = 16 << 20

func TestKernelIPv6BulkOurClient(t *testing.T) {
	for _, lossy := range []bool{false, true} {
		t.Run(fmt.Sprintf("lossy=%v", lossy), func(t *testing.T) {
			o := envOpts{v6: true}
			if lossy {
				o.faults = lossyLink(16)
			}
			e := newKernelEnv(t, o)
			ours, k := e.dialKernel(t, 5001)
			if !ours.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Is6() {
				t.Fatalf("connected to %v, not over IPv6", ours.RemoteAddr())
			}
			kernelExchange(t, ours, k, bulkSize6, 90*time.Second)
			// 1500 less 40 bytes of IPv6, 20 of TCP and 12 of timestamps.
			if mss := ours.Info().MSS; mss != 1428 {
				t.Errorf("send MSS %d, want 1428", mss)
			}
			checkOptionsInUse(t, ours, k, lossy)
			e.logFaults(t)
		})
	}
}

func TestKernelIPv6BulkOurServer(t *testing.T) {
	e := newKernelEnv(t, envOpts{v6: true, faults: lossyLink(17)})
	l, err := e.st.ListenTCP(5002, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	oc := make(chan *stack.TCPConn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			t.Errorf("accept: %v", err)
		}
		oc <- c
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := e.dial(ctx, 5002)
	if err != nil {
		t.Fatalf("kernel dial: %v", err)
	}
	defer k.Close()
	ours := <-oc
	if ours == nil {
		t.FailNow()
	}
	defer ours.Close()
	kernelExchange(t, ours, k, bulkSize6, 90*time.Second)
	checkOptionsInUse(t, ours, k, true)
	e.logFaults(t)
}

// The seed (docs/scenarios.md, seed 000) over IPv6 in both roles: what the
// client reads and which side sends RSTs are those of IPv4.
func TestKernelIPv6Seed(t *testing.T) {
	for _, sc := range seedCases {
		t.Run("kernel-server/"+sc.variant, func(t *testing.T) {
			e := newKernelEnv(t, envOpts{v6: true})
			data, rerr := e.seedKernelServer(t, sc.variant)
			checkSeedResult(t, sc, data, rerr)
		})
		t.Run("our-server/"+sc.variant, func(t *testing.T) {
			e := newKernelEnv(t, envOpts{v6: true})
			data, rerr := e.seedOurServer(t, sc.variant)
			checkSeedResult(t, sc, data, rerr)
		})
	}
}

// The backlog rows (backlog_kernel_test.go) over IPv6: the kernel's
// accept and reads give linuxTable, as over IPv4.
func TestBacklogKernelJudgeIPv6(t *testing.T) {
	kn := newKernelNetFamily(t, true)
	for _, want := range linuxTable {
		got := kn.row(t, want.id, false)
		if got != want {
			t.Errorf("kernel over IPv6, %s:\n got  accept %q, read1 %q, read2 %q\n want accept %q, read1 %q, read2 %q",
				want.id, got.accept, got.read1, got.read2, want.accept, want.read1, want.read2)
		}
	}
}
