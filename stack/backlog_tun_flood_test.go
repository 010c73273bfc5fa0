//go:build linux

package stack_test

import (
	"context"
	"io"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/seqnum"
	"github.com/teardown-lab/teardown/internal/wire"
	"github.com/teardown-lab/teardown/stack"
)

// The SYN flood (docs/scenarios.md, backlog-full) over a real TUN device: the Linux
// kernel's raw sockets send the spoofed SYNs, the kernel's own TCP is the
// real clients, our stack is the listener (backlog 16).

const (
	tunFloodPort    = 7100
	tunFloodSYNs    = 20000            // spoofed SYNs in all
	tunFloodRate    = 4000             // spoofed SYNs per second
	tunFloodMaxTime = 10 * time.Second // the flood stops then, sent or not
	tunFloodClients = 20
	tunFloodDial    = 4 * time.Second // a real client's connect and exchange
)

// tunSpoofedSYN builds the i-th spoofed SYN: its source is an address of
// the TUN prefix that nobody holds (.10 to .250), so our SYN-ACK reaches
// the kernel, which owns no such address and, not forwarding, drops it:
// nobody ever answers (RFC 4987 §2).
func tunSpoofedSYN(buf []byte, i int, pfx netip.Prefix, dst netip.AddrPort) []byte {
	a := pfx.Masked().Addr().As4()
	a[3] = byte(10 + i%241)
	h := wire.TCPHeader{
		SrcPort: uint16(20000 + (i/241)%40000), DstPort: dst.Port(),
		Seq: seqnum.V32(uint32(i) * 2654435761), Flags: wire.SYN, Window: 64240,
		Options: wire.TCPOptions{HasMSS: true, MSS: 1460, SACKPermitted: true, HasWScale: true, WScale: 7,
			HasTimestamp: true, TSVal: uint32(i)},
	}
	n, err := wire.EncodeTCPPacket(buf, netip.AddrFrom4(a), dst.Addr(), &h, nil)
	if err != nil {
		panic(err) // a fixed header that always fits
	}
	return buf[:n]
}

// rawSender is a raw IPv4 socket (IPPROTO_RAW: the caller writes the IP
// header) made inside the test's namespace.
func rawSender(t *testing.T, e *kernelEnv) int {
	t.Helper()
	fd := -1
	if err := e.ns.Do(func() error {
		var err error
		fd, err = unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_RAW)
		if err != nil {
			return err
		}
		return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_HDRINCL, 1)
	}); err != nil {
		t.Fatalf("raw socket in the namespace: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	return fd
}

// floodStats is what the flooder did.
type floodStats struct {
	sent, sendErrors int
	took             time.Duration
}

// flood sends tunFloodSYNs spoofed SYNs at tunFloodRate, paced by the wall
// clock (each 5 ms tick sends what is due), until done or ctx ends.
func flood(ctx context.Context, fd int, pfx netip.Prefix, dst netip.AddrPort) floodStats {
	var st floodStats
	buf := make([]byte, 128)
	to := &unix.SockaddrInet4{Port: 0, Addr: dst.Addr().As4()}
	start := time.Now()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for st.sent < tunFloodSYNs {
		due := min(int(time.Since(start).Seconds()*tunFloodRate)+1, tunFloodSYNs)
		for ; st.sent < due; st.sent++ {
			if err := unix.Sendto(fd, tunSpoofedSYN(buf, st.sent, pfx, dst), 0, to); err != nil {
				st.sendErrors++
			}
		}
		select {
		case <-ctx.Done():
			st.took = time.Since(start)
			return st
		case <-tick.C:
		}
	}
	st.took = time.Since(start)
	return st
}

// tunFloodResult is one run's outcome.
type tunFloodResult struct {
	exchanged, failed int
	flood             floodStats
	listener          stack.ListenStats
}

// runTUNFlood floods our listener (backlog 16, so a SYN queue of 17) from
// the kernel side while
// tunFloodClients kernel clients, started once the SYN queue is full and
// 100 ms apart, connect and exchange "ping" with our echo server.
func runTUNFlood(t *testing.T, opts stack.ListenOptions) tunFloodResult {
	e := newKernelEnv(t, envOpts{})
	opts.Backlog = 16
	l, err := e.st.ListenTCP(tunFloodPort, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go echoServe(l)

	fd := rawSender(t, e)
	pfx := netip.PrefixFrom(e.kernel, 24)
	dst := netip.AddrPortFrom(e.ours, tunFloodPort)
	ctx, cancel := context.WithTimeout(context.Background(), tunFloodMaxTime)
	defer cancel()
	var res tunFloodResult
	flooded := make(chan struct{})
	go func() {
		res.flood = flood(ctx, fd, pfx, dst)
		close(flooded)
	}()

	// The real clients start when the spoofed requests fill the SYN queue.
	for wait := time.Now().Add(3 * time.Second); l.Stats().SYNQueue < synQueueOf(16); {
		if time.Now().After(wait) {
			t.Fatalf("the flood did not fill the SYN queue within 3 s: %+v", l.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var wg sync.WaitGroup
	var ok, bad atomic.Int32
	for i := range tunFloodClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 100 * time.Millisecond)
			if err := kernelPing(e, tunFloodPort); err != nil {
				bad.Add(1)
				return
			}
			ok.Add(1)
		}()
	}
	wg.Wait()
	<-flooded
	res.exchanged, res.failed = int(ok.Load()), int(bad.Load())
	res.listener = l.Stats()
	e.logLink(t)
	return res
}

// echoServe echoes four bytes on every connection l accepts.
func echoServe(l *stack.TCPListener) {
	for {
		c, err := l.AcceptTCP()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(tunFloodDial))
			b := make([]byte, 4)
			if _, err := io.ReadFull(c, b); err == nil {
				c.Write(b)
			}
		}()
	}
}

// kernelPing connects a kernel client to our port and exchanges "ping",
// all within tunFloodDial.
func kernelPing(e *kernelEnv, port uint16) error {
	ctx, cancel := context.WithTimeout(context.Background(), tunFloodDial)
	defer cancel()
	c, err := e.dial(ctx, port)
	if err != nil {
		return err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	c.SetDeadline(dl)
	if _, err := c.Write([]byte("ping")); err != nil {
		return err
	}
	b := make([]byte, 4)
	if _, err := io.ReadFull(c, b); err != nil {
		return err
	}
	if string(b) != "ping" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

// With SYN cookies (Linux's default) every real kernel client gets
// through the flood: the SYN queue stays full of spoofed requests, the
// clients are answered with cookies and let in by them (RFC 4987 §3.6).
func TestTUNSYNFloodWithCookies(t *testing.T) {
	r := runTUNFlood(t, stack.ListenOptions{})
	t.Logf("flood: %d spoofed SYNs in %v (%d send errors); clients %d through, %d failed; listener %+v",
		r.flood.sent, r.flood.took.Round(time.Millisecond), r.flood.sendErrors, r.exchanged, r.failed, r.listener)
	if r.exchanged != tunFloodClients {
		t.Errorf("%d of %d kernel clients completed their exchange under the flood, want all", r.exchanged, tunFloodClients)
	}
	// Every SYN after the 17 that filled the queue (the clients' among
	// them) was answered with a cookie; none dropped. (How many of the
	// flood's SYNs reached us depends on the machine's load: the kernel
	// drops what the TUN queue cannot hold, logged above.)
	l, full := r.listener, uint64(synQueueOf(16))
	if l.CookiesValidated != tunFloodClients || l.SYNsDropped != 0 || l.CookiesSent != l.SYNsReceived-full || l.SYNsReceived <= full+tunFloodClients {
		t.Errorf("listener %+v: want every SYN after the first %d answered with a cookie, each client let in by one", l, full)
	}
	if r.listener.SYNQueue != int(full) || r.listener.RequestsReset != 0 {
		t.Errorf("SYN queue %d at the end, %d requests reset: want %d held by spoofed requests nobody answers",
			r.listener.SYNQueue, r.listener.RequestsReset, full)
	}
}

// Without cookies (tcp_syncookies=0) the spoofed requests hold every slot
// of the SYN queue for their whole SYN-ACK retransmission life (63 s), so
// every real client's SYN (and its retransmissions) is dropped and its
// connect times out.
func TestTUNSYNFloodWithoutCookiesLocksOut(t *testing.T) {
	r := runTUNFlood(t, stack.ListenOptions{NoSYNCookies: true})
	t.Logf("flood: %d spoofed SYNs in %v (%d send errors); clients %d through, %d failed; listener %+v",
		r.flood.sent, r.flood.took.Round(time.Millisecond), r.flood.sendErrors, r.exchanged, r.failed, r.listener)
	if r.exchanged != 0 || r.failed != tunFloodClients {
		t.Errorf("%d kernel clients got through, %d failed: want the lock-out (0 through)", r.exchanged, r.failed)
	}
	// The first 17 SYNs (spoofed: the clients start once the queue is
	// full) took the slots; every later one, the clients' included, was
	// dropped.
	full := uint64(synQueueOf(16))
	if r.listener.SYNQueue != int(full) || r.listener.CookiesSent != 0 || r.listener.RequestsReset != 0 ||
		r.listener.SYNsDropped != r.listener.SYNsReceived-full || r.listener.SYNsReceived <= full+tunFloodClients {
		t.Errorf("listener %+v: want a full SYN queue, no cookie, every SYN after the first %d dropped", r.listener, full)
	}
}
