//go:build linux

package stack_test

import (
	"net/netip"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

const tunSrcPort = 7103

// Source validation (RFC 1122 §3.2.1.3; docs/security.md) over a real
// TUN device: the kernel's raw socket writes SYNs from addresses no host
// sends from, then one from an ordinary address of the prefix. Packets
// cross the device in order, so once the last SYN is queued the others
// have been seen: each was dropped and counted, none answered or queued.
func TestTUNBadSourceSYNsDropped(t *testing.T) {
	e := newKernelEnv(t, envOpts{})
	l, err := e.st.ListenTCP(tunSrcPort, stack.ListenOptions{Backlog: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fd := rawSender(t, e)
	bad := []struct {
		src    netip.Addr
		reason string
	}{
		{netip.MustParseAddr("255.255.255.255"), "src-broadcast"},
		{netip.MustParseAddr("224.0.0.1"), "src-multicast"},
		{netip.MustParseAddr("127.0.0.1"), "src-loopback"},
		{netip.MustParseAddr("240.0.0.1"), "src-reserved"},
		{e.ours, "src-own"}, // land
	}
	send := func(src netip.Addr, i int) {
		t.Helper()
		h := wire.TCPHeader{SrcPort: uint16(30000 + i), DstPort: tunSrcPort, Seq: seqnum.V32(i * 1000),
			Flags: wire.SYN, Window: 64240, Options: wire.TCPOptions{HasMSS: true, MSS: 1460}}
		b := make([]byte, 64)
		n, err := wire.EncodeTCPPacket(b, src, e.ours, &h, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := unix.Sendto(fd, b[:n], 0, &unix.SockaddrInet4{Addr: e.ours.As4()}); err != nil {
			t.Fatalf("raw send from %v: %v", src, err)
		}
	}
	for i, b := range bad {
		send(b.src, i)
	}
	send(netip.AddrFrom4([4]byte{10, 79, 0, 10}), len(bad))
	waitFor(t, "the ordinary SYN to be queued", func() bool { return l.Stats().SYNQueue > 0 })
	if st := l.Stats(); st.SYNsReceived != 1 || st.SYNQueue != 1 {
		t.Errorf("listener %+v: want only the ordinary SYN received", st)
	}
	dropped := e.st.Stats().Dropped
	for _, b := range bad {
		if dropped[b.reason] != 1 {
			t.Errorf("Dropped = %v: want %s = 1 (the SYN from %v)", dropped, b.reason, b.src)
		}
	}
}
