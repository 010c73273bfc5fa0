//go:build linux

package udp_test

import (
	"encoding/binary"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link"
	"github.com/teardown-lab/teardown/link/udp"
)

// rawSend sends the UDP datagram u (header included, as given) to dst
// from a raw socket; the kernel adds the IPv4 header from 127.0.0.1.
func rawSend(t *testing.T, dst netip.AddrPort, u []byte) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_UDP)
	if err != nil {
		t.Skipf("SKIPPING: raw socket (needs CAP_NET_RAW): %v", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: addrA.As4()}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Sendto(fd, u, 0, &unix.SockaddrInet4{Addr: dst.Addr().As4()}); err != nil {
		t.Fatal(err)
	}
}

// TestEndpoint_ZeroAndBadUDPChecksumDropped: three datagrams reach an
// endpoint, each a DCCP-Request told apart by its sequence number: one
// with a zero UDP checksum (IPv4 allows it, RFC 6773 §3.3 does not), one
// with a bad one, then a good one. Only the good one reaches the stack,
// and the endpoint counts the two the kernel dropped for it.
func TestEndpoint_ZeroAndBadUDPChecksumDropped(t *testing.T) {
	e, err := udp.Open(udp.Config{Local: netip.AddrPortFrom(addrB, 0)})
	if err != nil {
		t.Skipf("cannot bind %v: %v", addrB, err)
	}
	defer e.Close()
	got := make(chan uint64, 8)
	e.Attach(link.ReceiverFunc(func(pkts [][]byte) {
		for _, p := range pkts {
			ip, err := wire.ParseIP(p)
			if err != nil {
				t.Errorf("delivered packet: %v", err)
				continue
			}
			d, err := wire.ParseDCCP(ip.Payload)
			if err != nil || d.VerifyChecksum(ip.Src, ip.Dst) != nil {
				t.Errorf("delivered DCCP packet: %v", err)
				continue
			}
			got <- uint64(d.Seq())
		}
	}))
	to := e.LocalAddrPort()
	src := netip.AddrPortFrom(addrA, 40000)
	datagram := func(seq uint64) []byte {
		// Over 76 bytes: Linux checks the checksum of a shorter datagram
		// before it looks the socket up, and counts its loss only in
		// the system's UdpInCsumErrors.
		d := request(t, seq, strings.Repeat("hello ", 20))
		b := make([]byte, 8+len(d))
		n, err := udp.Encap(b, src, to, d)
		if err != nil {
			t.Fatal(err)
		}
		return b[:n]
	}
	zero := datagram(1)
	binary.BigEndian.PutUint16(zero[6:], 0)
	bad := datagram(2)
	bad[len(bad)-1] ^= 1
	rawSend(t, to, zero)
	rawSend(t, to, bad)
	rawSend(t, to, datagram(3))
	select {
	case seq := <-got:
		if seq != 3 {
			t.Fatalf("first datagram delivered has sequence number %d, want 3 (the only good one)", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the good datagram never arrived")
	}
	st := e.Stats()
	if st.Received != 1 || st.KernelDropped != 2 || st.Malformed != 0 {
		t.Errorf("stats %+v, want 1 received, 2 dropped by the kernel", st)
	}
}
