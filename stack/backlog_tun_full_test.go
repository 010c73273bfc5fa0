//go:build linux

package stack_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/link/fault"
	"github.com/teardown-lab/teardown/stack"
)

// backlog-full (docs/scenarios.md, seed 003) with the Linux kernel as the judge: the
// same five clients are played against a kernel listener (listen(2) with
// backlog 2; our stack is the clients) and against our listener (linux
// profile, backlog 2; the kernel is the clients), over one TUN device
// whose every packet a pcap Tap records. What each side observes must
// match: connects that succeed before accept, SYNs left unanswered, the
// SYN-ACK retransmitted for a final ACK dropped on a full accept queue,
// RSTs (none; one with abort-on-overflow), and who gets in after accept.

// fullStarts are the clients' connect times: two alone, two together (both
// SYNs answered before either final ACK), one late; the server accepts
// nothing before fullAcceptAt and stops looking at fullEnd.
var fullStarts = []time.Duration{0, 100 * time.Millisecond, 200 * time.Millisecond, 200 * time.Millisecond, 500 * time.Millisecond}

const (
	fullAcceptAt = 2 * time.Second
	fullEnd      = 5 * time.Second
)

// fullObserved is what one run of backlog-full showed.
type fullObserved struct {
	connectedBeforeAccept int       // connects that returned before fullAcceptAt
	atAccept, atEnd       wireCount // the wire for the port, at fullAcceptAt and fullEnd
	accepted              int       // connections accepted by fullEnd
	connected             int       // connects that succeeded by fullEnd
	reset                 int       // client connections reset by fullEnd
}

func (o fullObserved) String() string {
	return fmt.Sprintf("connected before accept %d; at accept SYNs %d SYN-ACKs %d RSTs %d/%d; at end SYNs %d SYN-ACKs %d RSTs from server %d, from clients %d; accepted %d, connected %d, reset %d",
		o.connectedBeforeAccept, o.atAccept.syns, o.atAccept.synacks, o.atAccept.rstsIn, o.atAccept.rstsOut,
		o.atEnd.syns, o.atEnd.synacks, o.atEnd.rstsIn, o.atEnd.rstsOut, o.accepted, o.connected, o.reset)
}

// fullSide is one side of the comparison: how its clients connect and how
// its server accepts.
type fullSide struct {
	port   uint16
	dial   func(ctx context.Context) (net.Conn, error)
	accept func() (net.Conn, error) // until closeL
	closeL func()
}

// playFull plays backlog-full against side and returns what it showed.
func playFull(t *testing.T, e *kernelEnv, side fullSide) fullObserved {
	t0 := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), t0.Add(fullEnd))
	defer cancel()
	var mu sync.Mutex
	var obs fullObserved
	var clients []net.Conn
	var wg sync.WaitGroup
	for _, d := range fullStarts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(d)
			c, err := side.dial(ctx)
			if err != nil {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			clients = append(clients, c)
			obs.connected++
			if time.Since(t0) < fullAcceptAt {
				obs.connectedBeforeAccept++
			}
		}()
	}
	var accepted atomic.Int32
	var served []net.Conn
	acceptDone := make(chan struct{})
	go func() {
		defer close(acceptDone)
		time.Sleep(fullAcceptAt - time.Since(t0))
		for {
			c, err := side.accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			served = append(served, c)
		}
	}()
	time.Sleep(fullAcceptAt - time.Since(t0) - 10*time.Millisecond)
	obs.atAccept = countWire(t, e.capture.Bytes(), side.port)
	wg.Wait() // every connect has returned by fullEnd
	time.Sleep(time.Until(t0.Add(fullEnd)))
	mu.Lock()
	for _, c := range clients {
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); errors.Is(err, syscall.ECONNRESET) {
			obs.reset++
		}
	}
	mu.Unlock()
	obs.atEnd = countWire(t, e.capture.Bytes(), side.port)
	obs.accepted = int(accepted.Load())
	side.closeL()
	<-acceptDone
	for _, c := range append(clients, served...) {
		c.Close()
	}
	return obs
}

// kernelFullSide is a kernel listener with backlog 2 (listen(2) itself:
// Go's net.Listen asks for somaxconn), our stack its clients.
func kernelFullSide(t *testing.T, e *kernelEnv, port uint16) fullSide {
	t.Helper()
	var ln net.Listener
	if err := e.ns.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(fd), "listener")
		defer f.Close()
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: int(port), Addr: e.kernel.As4()}); err != nil {
			return err
		}
		if err := unix.Listen(fd, 2); err != nil {
			return err
		}
		ln, err = net.FileListener(f)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return fullSide{
		port: port,
		dial: func(ctx context.Context) (net.Conn, error) {
			return e.st.DialTCP(ctx, netip.AddrPortFrom(e.kernel, port))
		},
		accept: ln.Accept,
		closeL: func() { ln.Close() },
	}
}

// ourFullSide is our listener (linux profile, backlog 2), the kernel its
// clients.
func ourFullSide(t *testing.T, e *kernelEnv, port uint16, abort bool) fullSide {
	t.Helper()
	l, err := e.st.ListenTCP(port, stack.ListenOptions{Backlog: 2, AbortOnOverflow: abort})
	if err != nil {
		t.Fatal(err)
	}
	return fullSide{
		port: port,
		dial: func(ctx context.Context) (net.Conn, error) {
			c, err := e.dial(ctx, port)
			if err != nil {
				return nil, err
			}
			return c, nil
		},
		accept: l.Accept,
		closeL: func() { l.Close() },
	}
}

// setAbortOnOverflow sets net.ipv4.tcp_abort_on_overflow in the test's
// namespace (the sysctl is per network namespace).
func setAbortOnOverflow(t *testing.T, e *kernelEnv, on bool) {
	t.Helper()
	v := "0"
	if on {
		v = "1"
	}
	const p = "/proc/sys/net/ipv4/tcp_abort_on_overflow"
	if err := e.ns.Do(func() error {
		if err := os.WriteFile(p, []byte(v), 0o644); err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && strings.TrimSpace(string(b)) != v {
			err = fmt.Errorf("%s reads %q after writing %q", p, b, v)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// judgeFull plays both sides at once (different ports, one TUN) and
// returns the kernel's and our observations.
func judgeFull(t *testing.T, abort bool) (kernel, ours fullObserved) {
	// 25 ms each way (our side of the TUN) makes the round trip long
	// enough that the two clients starting together both have their SYN
	// answered before either final ACK arrives, on both sides.
	lat := fault.Faults{Latency: 25 * time.Millisecond}
	e := newKernelEnv(t, envOpts{capture: true, faults: &fault.Config{Seed: 1, Out: lat, In: lat}})
	setAbortOnOverflow(t, e, abort)
	ks := kernelFullSide(t, e, 7201)
	us := ourFullSide(t, e, 7202, abort)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); kernel = playFull(t, e, ks) }()
	go func() { defer wg.Done(); ours = playFull(t, e, us) }()
	wg.Wait()
	t.Logf("kernel: %v", kernel)
	t.Logf("ours:   %v", ours)
	return kernel, ours
}

// compareFull requires what a client can observe to be the same on both
// sides.
func compareFull(t *testing.T, kernel, ours fullObserved) {
	t.Helper()
	type obs struct {
		what string
		k, o int
	}
	for _, c := range []obs{
		{"connects returned before accept", kernel.connectedBeforeAccept, ours.connectedBeforeAccept},
		{"client SYNs before accept (retransmissions of the unanswered one included)", kernel.atAccept.syns, ours.atAccept.syns},
		{"SYN-ACKs before accept (retransmissions included)", kernel.atAccept.synacks, ours.atAccept.synacks},
		{"client SYNs by the end", kernel.atEnd.syns, ours.atEnd.syns},
		{"SYN-ACKs by the end", kernel.atEnd.synacks, ours.atEnd.synacks},
		{"RSTs from the server", kernel.atEnd.rstsIn, ours.atEnd.rstsIn},
		{"RSTs from the clients", kernel.atEnd.rstsOut, ours.atEnd.rstsOut},
		{"connections accepted", kernel.accepted, ours.accepted},
		{"client connections reset", kernel.reset, ours.reset},
	} {
		if c.k != c.o {
			t.Errorf("%s: kernel %d, ours %d", c.what, c.k, c.o)
		}
	}
}

// Linux's default (tcp_abort_on_overflow=0): backlog+1 connections queue;
// the fourth client, whose SYN was answered before the queue filled, has
// its final ACK dropped and the server retransmits its SYN-ACK; the fifth
// client's SYN is dropped in silence and retransmitted; no RST; after
// accept everyone gets in.
func TestBacklogFullKernelJudge(t *testing.T) {
	kernel, ours := judgeFull(t, false)
	compareFull(t, kernel, ours)
	// The kernel must show the behaviours compared, or the comparison
	// proves nothing.
	if kernel.atAccept.synacks <= kernel.connectedBeforeAccept || kernel.atAccept.rstsIn != 0 ||
		kernel.atAccept.syns <= len(fullStarts) || kernel.accepted != len(fullStarts) {
		t.Errorf("kernel: %v; want a SYN-ACK retransmitted and a SYN retransmitted before accept, no RST, all accepted in the end", kernel)
	}
}

// tcp_abort_on_overflow=1 against AbortOnOverflow: the final ACK that
// finds the accept queue full is answered with RST; that client's
// connection, established on its side, is reset.
func TestBacklogFullKernelJudgeAbortOnOverflow(t *testing.T) {
	kernel, ours := judgeFull(t, true)
	compareFull(t, kernel, ours)
	if kernel.atEnd.rstsIn != 1 || kernel.reset != 1 {
		t.Errorf("kernel: %v; want one RST for the final ACK and one client reset", kernel)
	}
}
