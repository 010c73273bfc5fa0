//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
)

// Issue 13: one client used to deny the service to everyone, for serve ran
// the app on one connection before accepting the next. Here three clients
// that would each have stopped it are held open — one that connects and
// says nothing, one that never reads (its receive window closes, our echo
// blocks), one that never acknowledges (a hand-made peer, rawPeer) — while
// 100 other kernel clients are echoed byte for byte, through the one slot
// --max-conns 4 leaves them. Then SIGINT: serve resets the three, prints
// one line per connection and the summary, and exits 0.
func TestServe_HostileClientsHeldWhileOthersAreEchoed(t *testing.T) {
	ns := newTestNS(t, "tdhostile")
	out, errOut, done := startInNS(ns, "serve", "echo", "--link", "tun", "--tun", "td0", "--net", "10.7.0.0/24",
		"--max-conns", "4", "--idle-timeout", "3600")
	serverAddr := netip.MustParseAddrPort("10.7.0.2:7")

	idle := kernelDial(t, ns, serverAddr.String(), done)
	defer idle.Close()

	zeroWin := dialSmallBuffers(t, ns, serverAddr.String())
	defer zeroWin.Close()
	const zeroWinTries = 4 << 20 // far more than every buffer on the way holds
	zeroWinDone := make(chan int, 1)
	go func() { // writes and never reads
		n, _ := zeroWin.Write(make([]byte, zeroWinTries))
		zeroWinDone <- n
	}()

	noACK := newRawPeer(t, ns, "td0", netip.MustParseAddrPort("10.7.0.9:40009"), serverAddr)
	noACK.connect("hello")
	if echo := noACK.waitRetransmission(); echo != "hello" {
		t.Fatalf("the never-ACK peer got %q sent twice; want the echo of \"hello\"", echo)
	}

	echoClients(t, ns, serverAddr.String(), 100, 10)
	// A client has its echo once our FIN arrived; our end is closed once
	// the kernel's ACK of that FIN is read from the device and processed,
	// a moment later. The stop must come after that, or the last client
	// counts as held open too.
	for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), ", closed\n") < 100; {
		if time.Now().After(deadline) {
			t.Fatalf("serve ended %d of the 100 echo connections within 30 s:\n%s", strings.Count(out.String(), ", closed\n"), out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}

	syscall.Kill(os.Getpid(), syscall.SIGINT) // serve's NotifyContext takes it
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d after SIGINT: %s", code, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop on SIGINT")
	}
	text := out.String()
	t.Log(text)

	// The three were held open until the stop, which reset them.
	idle.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the idle client read %v after the stop; want ECONNRESET", err)
	}
	if n := <-zeroWinDone; n >= zeroWinTries {
		t.Errorf("the client that never reads wrote all %d bytes: its window never closed", n)
	}
	noACK.waitRST()
	for who, addr := range map[string]string{"idle": idle.LocalAddr().String(),
		"never reads": zeroWin.LocalAddr().String(), "never ACKs": "10.7.0.9:40009"} {
		if l := lineOf(text, addr+":"); !strings.Contains(l, "open at the stop: reset") {
			t.Errorf("the %s client's line: %q; want it held open until the stop", who, l)
		}
	}
	want := "served 103 connections: "
	if l := lineOf(text, want); !strings.HasSuffix(l, ", 3 resets, 0 errors, 0 idle timeouts, 3 open at the stop (reset)") {
		t.Errorf("summary %q; want 103 connections, the 3 reset at the stop, nothing else:\n%s", l, text)
	}
	if strings.Count(text, ", closed\n") != 100 {
		t.Errorf("want 100 connections closed cleanly:\n%s", text)
	}
}

// echoClients runs n kernel clients, at most par at once; each sends its
// own bytes, shuts down its sending side and must read them all back.
func echoClients(t *testing.T, ns *netns.NS, addr string, n, par int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errs <- echoOnce(ns, addr, i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// echoOnce is client i: 20 000 + 300·i pseudo-random bytes out and back.
func echoOnce(ns *netns.NS, addr string, i int) error {
	var c net.Conn
	if err := ns.Do(func() (err error) {
		c, err = net.DialTimeout("tcp", addr, 30*time.Second)
		return err
	}); err != nil {
		return fmt.Errorf("client %d: %w", i, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(120 * time.Second)) // a guard, not a measure
	msg := make([]byte, 20000+300*i)
	r := rand.New(rand.NewPCG(uint64(i), 13))
	for j := range msg {
		msg[j] = byte(r.Uint32())
	}
	werr := make(chan error, 1)
	go func() {
		_, err := c.Write(msg)
		if err == nil {
			err = c.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	got, rerr := io.ReadAll(c)
	if err := <-werr; err != nil {
		return fmt.Errorf("client %d: write: %w", i, err)
	}
	if rerr != nil || !bytes.Equal(got, msg) {
		return fmt.Errorf("client %d: read %d bytes (%v), want its %d bytes back", i, len(got), rerr, len(msg))
	}
	return nil
}

// dialSmallBuffers connects a kernel socket with small buffers: what it
// does not read closes its window at once, and its writes stall early.
func dialSmallBuffers(t *testing.T, ns *netns.NS, addr string) *net.TCPConn {
	t.Helper()
	d := net.Dialer{Timeout: 10 * time.Second, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = errors.Join(syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096),
				syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, 16384))
		})
		return errors.Join(err, serr)
	}}
	var c net.Conn
	if err := ns.Do(func() (err error) {
		c, err = d.Dial("tcp", addr)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return c.(*net.TCPConn)
}

// lineOf returns the first line of text that contains s.
func lineOf(text, s string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func writeSysctl(path, v string) error { return os.WriteFile(path, []byte(v), 0o644) }

// --idle-timeout: a client that says nothing and one that never reads are
// each reset once a recv or send of theirs has waited that long (1 s
// here), and serve, which had to serve only these two, returns.
func TestServe_IdleTimeoutResetsSilentAndNonReadingClients(t *testing.T) {
	ns := newTestNS(t, "tdidle")
	out, errOut, done := startInNS(ns, "serve", "echo", "--link", "tun", "--tun", "td0", "--net", "10.7.0.0/24",
		"--count", "2", "--idle-timeout", "1")
	idle := kernelDial(t, ns, "10.7.0.2:7", done)
	defer idle.Close()
	zeroWin := dialSmallBuffers(t, ns, "10.7.0.2:7")
	defer zeroWin.Close()
	zeroWinErr := make(chan error, 1)
	go func() {
		_, err := zeroWin.Write(make([]byte, 4<<20))
		zeroWinErr <- err
	}()
	idle.SetReadDeadline(time.Now().Add(60 * time.Second)) // a guard, not a measure
	if _, err := idle.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the idle client read %v; want ECONNRESET once serve's idle timeout ran out", err)
	}
	if err := <-zeroWinErr; !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		t.Errorf("the client that never reads: write ended with %v; want the reset", err)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("serve exited %d: %s", code, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("serve --count 2 did not return")
	}
	text := out.String()
	for _, c := range []net.Conn{idle, zeroWin} {
		if l := lineOf(text, c.LocalAddr().String()+":"); !strings.HasSuffix(l, "waited 1s (idle timeout): reset") {
			t.Errorf("line of %s: %q; want the idle timeout", c.LocalAddr(), l)
		}
	}
	if !strings.Contains(text, "served 2 connections: ") || !strings.Contains(text, ", 2 resets, 0 errors, 2 idle timeouts\n") {
		t.Errorf("summary: want 2 connections reset by the idle timeout:\n%s", text)
	}
}

// dial never hangs silently: with nothing listening on the kernel side it
// says each retry, then gives up with an error that says what happened.
func TestDial_RefusedSaysRetriesThenGivesUp(t *testing.T) {
	ns := newTestNS(t, "tddial")
	var code int
	var out, errOut bytes.Buffer
	ns.Do(func() error { //nolint:errcheck // the exit code says it
		code = run([]string{"dial", "echo", "--link", "tun", "--tun", "td0", "--net", "10.7.0.0/24",
			"--retries", "2"}, &out, &errOut)
		return nil
	})
	if code != 1 || !strings.HasPrefix(errOut.String(), "teardown: connect to 10.7.0.1:7: refused 3 times") ||
		!strings.Contains(errOut.String(), "connection refused") {
		t.Errorf("exit %d, stderr %q; want exit 1 and the refusals counted", code, errOut.String())
	}
	for _, want := range []string{"refused (no listener yet?): retry 1 of 2", "retry 2 of 2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dial's output lacks %q:\n%s", want, out.String())
		}
	}
}

// Ctrl-C in dial while its app waits for a server that never answers:
// dial resets the connection and returns at once, exit 0, with the
// connection's line; it does not sit out the idle timeout.
func TestDial_InterruptResetsTheWaitingConnection(t *testing.T) {
	ns := newTestNS(t, "tddialint")
	out, errOut, done := startInNS(ns, "dial", "echo", "--link", "tun", "--tun", "td0", "--net", "10.7.0.0/24",
		"--idle-timeout", "3600")
	// The kernel's listener comes up once dial made the device (dial
	// retries the refusals until then); it reads "hello" and says nothing.
	var ln net.Listener
	for deadline := time.Now().Add(20 * time.Second); ; {
		err := ns.Do(func() (err error) {
			ln, err = net.Listen("tcp", "10.7.0.1:7")
			return err
		})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel listener: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	defer ln.Close()
	srv, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetReadDeadline(time.Now().Add(30 * time.Second)) // a guard, not a measure
	if _, err := io.ReadFull(srv, make([]byte, 5)); err != nil {
		t.Fatalf("the kernel server did not get dial's hello: %v", err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("dial exited %d after SIGINT: %s", code, errOut.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatal("dial did not stop on SIGINT")
	}
	if _, err := srv.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("the kernel server read %v after dial's stop; want ECONNRESET", err)
	}
	if l := lineOf(out.String(), "10.7.0.1:7: "); !strings.Contains(l, "5 B out") || !strings.HasSuffix(l, "open at the stop: reset") {
		t.Errorf("dial's line %q; want hello sent and the reset at the stop:\n%s", l, out.String())
	}
}
