//go:build linux

package stack_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/link/pcap"
	"github.com/teardown-lab/teardown/stack"
)

const tunPhantomPort = 7102

// The phantom connection (issue 13, item 7; docs/security.md) with the
// kernel as the client over TUN. Four spoofed SYNs fill our listener's
// SYN queue, so the kernel's connection is made from a cookie; it sends
// "ping", reads the echo and closes first; we close after its FIN and our
// connection ends (LAST-ACK, CLOSED) while the kernel's sits in
// TIME-WAIT. Then our FIN is written to the kernel again, as a
// retransmission would be: the kernel, in TIME-WAIT, acknowledges it
// again, and that ACK passes the cookie check (4 bytes and a FIN each
// way). Linux as the server makes a phantom connection of it (measured,
// 6.18); ours answers RST and accepts nothing more.
func TestTUNStaleACKMakesNoPhantom(t *testing.T) {
	e := newKernelEnv(t, envOpts{capture: true})
	l, err := e.st.ListenTCP(tunPhantomPort, stack.ListenOptions{Backlog: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fd := rawSender(t, e)
	pfx := netip.PrefixFrom(e.kernel, 24)
	dst := netip.AddrPortFrom(e.ours, tunPhantomPort)
	buf := make([]byte, 128)
	for i := range synQueueOf(4) {
		if err := unix.Sendto(fd, tunSpoofedSYN(buf, i, pfx, dst), 0, &unix.SockaddrInet4{Addr: e.ours.As4()}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the spoofed SYNs to fill the SYN queue", func() bool { return l.Stats().SYNQueue == synQueueOf(4) })

	served := make(chan *stack.TCPConn, 1)
	go func() {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		c.SetDeadline(time.Now().Add(tunFloodDial))
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err == nil {
			c.Write(b)
			io.Copy(io.Discard, c) // until the kernel's FIN
		}
		c.Close()
		served <- c
	}()
	if err := kernelPing(e, tunPhantomPort); err != nil { // closes first
		t.Fatalf("the kernel's exchange: %v", err)
	}
	c := <-served
	waitFor(t, "our side of the connection to end", func() bool { return c.Info().State == "CLOSED" })
	if st := l.Stats(); st.CookiesValidated != 1 || st.Accepted != 1 {
		t.Fatalf("listener %+v: want the kernel's connection made from a cookie", st)
	}

	fin := ourLastFIN(t, e)
	if _, err := e.dev.WritePackets([][]byte{fin}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the kernel's ACK of the FIN to reach the listener", func() bool {
		st := l.Stats()
		return st.StaleACKsReset+st.CookiesValidated > 1
	})
	if st := l.Stats(); st.StaleACKsReset != 1 || st.CookiesValidated != 1 || st.AcceptQueue != 0 {
		t.Fatalf("listener %+v: the kernel's stale ACK made a connection it does not have", st)
	}
}

// waitFor polls cond for up to 5 s; it fails the test if cond never holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("waited 5 s for %s", what)
		}
	}
}

// ourLastFIN returns (a copy of) the last FIN our stack sent, from the
// capture.
func ourLastFIN(t *testing.T, e *kernelEnv) []byte {
	t.Helper()
	r, err := pcap.NewReader(bytes.NewReader(e.capture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var fin []byte
	for {
		p, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ip, err := wire.ParseIP(p.IP)
		if err != nil || ip.Src != e.ours || ip.Protocol != wire.IPProtoTCP {
			continue
		}
		if tcp, err := wire.ParseTCP(ip.Payload); err == nil && tcp.Flags().Has(wire.FIN) {
			fin = append([]byte(nil), p.IP...)
		}
	}
	if fin == nil {
		t.Fatal("no FIN from our stack in the capture")
	}
	return fin
}
