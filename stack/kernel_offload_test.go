//go:build linux

package stack_test

import (
	"bytes"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/teardown-lab/teardown/link/tun"
)

// offloadTransferLen is what each direction carries in the offload tests.
const offloadTransferLen = 64 << 20

// transferChecked writes n pseudo-random bytes (seeded) on tx, reads them
// on rx, and fails unless rx got exactly what tx sent (SHA-256).
func transferChecked(t *testing.T, tx, rx net.Conn, n int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0))
	type result struct {
		sum [32]byte
		n   int64
		err error
	}
	got := make(chan result, 1)
	deadline := time.Now().Add(2 * time.Minute)
	tx.SetDeadline(deadline)
	rx.SetDeadline(deadline)
	go func() {
		h := sha256.New()
		m, err := io.CopyN(h, rx, int64(n))
		var r result
		copy(r.sum[:], h.Sum(nil))
		r.n, r.err = m, err
		got <- r
	}()
	sent := sha256.New()
	buf := make([]byte, 256<<10)
	for left := n; left > 0; {
		c := buf[:min(len(buf), left)]
		for i := range c {
			c[i] = byte(rng.Uint32())
		}
		sent.Write(c)
		if _, err := tx.Write(c); err != nil {
			t.Fatalf("write after %d bytes: %v", n-left, err)
		}
		left -= len(c)
	}
	r := <-got
	if r.err != nil {
		t.Fatalf("reader got %d of %d bytes: %v", r.n, n, r.err)
	}
	if !bytes.Equal(r.sum[:], sent.Sum(nil)) {
		t.Fatalf("the %d bytes read differ from those written (SHA-256)", n)
	}
}

// kernelLinkStats reads the TUN device's counters as the kernel keeps
// them (its RX is what we wrote, its TX what it gave us).
func (e *kernelEnv) kernelLinkStats(t *testing.T) *netlink.LinkStatistics {
	t.Helper()
	var st *netlink.LinkStatistics
	if err := e.ns.Do(func() error {
		l, err := netlink.LinkByName(e.dev.Name())
		if err == nil {
			st = l.Attrs().Statistics
		}
		return err
	}); err != nil || st == nil {
		t.Fatalf("kernel link statistics: %v", err)
	}
	return st
}

// With offloads on, 64 MiB cross each way intact, and they cross as GSO
// super-packets in both directions: ours coalesced by the link on the
// way out, the kernel's TSO output on the way in.
func TestKernelOffloadBulkBothWays(t *testing.T) {
	for _, split := range []bool{false, true} {
		name := "whole"
		if split {
			name = "split"
		}
		t.Run(name, func(t *testing.T) {
			e := newKernelEnv(t, envOpts{offload: true, splitGSO: split})
			ours, k := ourClientKernelServer(t, e, 5103)
			transferChecked(t, ours, k, offloadTransferLen, 1)
			k2, ours2 := kernelClientOurServer(t, e, 5104)
			transferChecked(t, k2, ours2, offloadTransferLen, 2)

			s, ks := e.quietLinkStats(t)
			t.Logf("device %+v", s)
			t.Logf("kernel: rx %d packets %d bytes (dropped %d, errors %d), tx %d packets %d bytes (dropped %d)",
				ks.RxPackets, ks.RxBytes, ks.RxDropped, ks.RxErrors, ks.TxPackets, ks.TxBytes, ks.TxDropped)
			e.logLink(t)
			if s.GSOPacketsOut == 0 || s.GSOSegmentsOut < 2*s.GSOPacketsOut {
				t.Errorf("our bulk data crossed in %d super-packets of %d segments: want super-packets of 2+ segments",
					s.GSOPacketsOut, s.GSOSegmentsOut)
			}
			if s.GSOPacketsIn == 0 || s.GSOSegmentsIn < 2*s.GSOPacketsIn {
				t.Errorf("the kernel's bulk data came in %d super-packets of %d segments: want TSO super-packets",
					s.GSOPacketsIn, s.GSOSegmentsIn)
			}
			if s.BadVnetHeaders != 0 || s.BadGSOPackets != 0 {
				t.Errorf("the kernel's vnet headers were refused: %d bad headers, %d bad GSO packets", s.BadVnetHeaders, s.BadGSOPackets)
			}
			// The kernel counts a device's packets as they cross it,
			// super-packets once: its receive counters are our writes,
			// its transmit counters our reads.
			if ks.RxPackets != s.PacketsOut || ks.RxBytes != s.BytesOut || ks.TxPackets != s.PacketsIn || ks.TxBytes != s.BytesIn {
				t.Errorf("kernel received %d packets, %d bytes and sent %d, %d; we wrote %d, %d and read %d, %d",
					ks.RxPackets, ks.RxBytes, ks.TxPackets, ks.TxBytes, s.PacketsOut, s.BytesOut, s.PacketsIn, s.BytesIn)
			}
			if errs, csum := e.kernelTCPErrors(t); errs != 0 || csum != 0 {
				t.Errorf("kernel TCP counted %d bad segments (%d bad checksums): a super-packet it could not take", errs, csum)
			}
			if ks.RxErrors != 0 || ks.RxDropped != 0 {
				t.Errorf("kernel refused %d and dropped %d of our packets", ks.RxErrors, ks.RxDropped)
			}
		})
	}
}

// quietLinkStats returns our device's counters and the kernel's, read
// at a moment when nothing crossed the device while they were read (the
// same figures before and after): a late ACK cannot make them differ.
// It gives up after 100 tries and returns the last reading.
func (e *kernelEnv) quietLinkStats(t *testing.T) (tun.Stats, *netlink.LinkStatistics) {
	t.Helper()
	var s tun.Stats
	var ks *netlink.LinkStatistics
	for range 100 {
		s = e.dev.Stats()
		ks = e.kernelLinkStats(t)
		if e.dev.Stats() == s && *e.kernelLinkStats(t) == *ks {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s, ks
}

// kernelTCPErrors reads the namespace's TCP InErrs and InCsumErrors
// (/proc/net/snmp as a thread inside the namespace sees it).
func (e *kernelEnv) kernelTCPErrors(t *testing.T) (inErrs, inCsumErrs int64) {
	t.Helper()
	var snmp []byte
	if err := e.ns.Do(func() error {
		var err error
		snmp, err = os.ReadFile("/proc/thread-self/net/snmp")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(snmp), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		for i, v := range f {
			if i >= len(names) {
				break
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			switch names[i] {
			case "InErrs":
				inErrs = n
			case "InCsumErrors":
				inCsumErrs = n
			}
		}
	}
	if names == nil {
		t.Fatal("no Tcp: line in /proc/net/snmp")
	}
	return inErrs, inCsumErrs
}
