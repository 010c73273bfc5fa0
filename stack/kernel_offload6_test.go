//go:build linux

package stack_test

import (
	"net"
	"testing"
)

// Over IPv6 with offloads, our bulk data leaves as super-segments the
// stack builds itself (one IPv6 header, the payloads of a run behind it,
// a partial checksum) and reaches the kernel's reader intact, with no
// segment the kernel counts as bad.
func TestKernelOffloadIPv6OurSuperSegments(t *testing.T) {
	e := newKernelEnv(t, envOpts{v6: true, offload: true})
	ours, k := e.dialKernel(t, 5105)
	if !ours.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Is6() {
		t.Fatalf("connected to %v, not over IPv6", ours.RemoteAddr())
	}
	transferChecked(t, ours, k, offloadTransferLen/4, 3)
	s, ks := e.quietLinkStats(t)
	t.Logf("device %+v", s)
	if s.GSOPacketsOut == 0 || s.GSOSegmentsOut < 2*s.GSOPacketsOut {
		t.Errorf("our data left in %d super-segments of %d segments: want super-segments of 2+ segments",
			s.GSOPacketsOut, s.GSOSegmentsOut)
	}
	if errs, csum := e.kernelTCPErrors(t); errs != 0 || csum != 0 {
		t.Errorf("kernel TCP counted %d bad segments (%d bad checksums)", errs, csum)
	}
	if ks.RxErrors != 0 || ks.RxDropped != 0 {
		t.Errorf("kernel refused %d and dropped %d of our packets", ks.RxErrors, ks.RxDropped)
	}
}
