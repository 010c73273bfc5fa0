//go:build linux

package analyze

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/netns"
)

// tcpdumpPath finds Debian's tcpdump or skips loudly.
func tcpdumpPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/sbin/tcpdump", "/usr/bin/tcpdump"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("SKIP LOUDLY: tcpdump not found: apt-get install tcpdump (CI does)")
	return ""
}

// startCapture runs tcpdump on lo inside ns, writing every packet to file
// as soon as it is seen (-U, --immediate-mode), and waits (bounded) until
// it is listening. In immediate mode libpcap's ring has one slot per
// snapshot length: with the default 262144 bytes a 2 MB buffer holds
// eight packets, and a burst on a busy machine is dropped by the kernel.
// A small snapshot (-s 2048, more than these packets) and a 16 MB buffer
// (-B) keep every packet. The returned function stops it with SIGINT and waits.
func startCapture(t *testing.T, ns *netns.NS, file string) func() {
	t.Helper()
	return startCaptureOn(t, ns, file, "-i", "lo", "-s", "2048", "tcp")
}

// startCaptureOn is startCapture with the interface, snapshot length and
// filter given as tcpdump arguments.
func startCaptureOn(t *testing.T, ns *netns.NS, file string, args ...string) func() {
	t.Helper()
	argv := append([]string{"netns", "exec", ns.Name(), tcpdumpPath(t), "-U", "--immediate-mode", "-B", "16384", "-w", file}, args...)
	cmd := exec.Command("ip", argv...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start tcpdump: %v", err)
	}
	ready := make(chan bool, 1)
	tail := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening on") {
				ready <- true
				rest, _ := io.ReadAll(stderr) // drain until exit
				tail <- string(rest)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			cmd.Wait() //nolint:errcheck
			t.Fatal("tcpdump exited before listening")
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill() //nolint:errcheck
		cmd.Wait()         //nolint:errcheck
		t.Fatal("tcpdump not listening within 10 s")
	}
	return func() {
		cmd.Process.Signal(syscall.SIGINT) //nolint:errcheck // it may be gone
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck
			<-done
		}
		t.Logf("tcpdump: %s", strings.TrimSpace(<-tail))
	}
}

// listen opens a TCP listener on 127.0.0.1 inside ns.
func listen(t *testing.T, ns *netns.NS) net.Listener {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() (err error) { ln, err = net.Listen("tcp4", "127.0.0.1:0"); return }); err != nil {
		t.Fatal(err)
	}
	return ln
}

// dial connects from inside ns.
func dial(ns *netns.NS, addr string) (net.Conn, error) {
	var c net.Conn
	err := ns.Do(func() (err error) { c, err = net.DialTimeout("tcp4", addr, 5*time.Second); return })
	return c, err
}

func port(a net.Addr) int { return a.(*net.TCPAddr).Port }

// rstUnread is case (a): the server reads one byte of "hello", writes "h"
// and closes with four bytes unread, so the kernel sends RST (RFC 2525
// §2.17); the client reads "h", then gets ECONNRESET.
func rstUnread(t *testing.T, ns *netns.NS) int {
	ln := listen(t, ns)
	defer ln.Close()
	go func() {
		s, err := ln.Accept()
		if err != nil {
			return
		}
		b := make([]byte, 1)
		io.ReadFull(s, b)    //nolint:errcheck // the client sees the outcome
		s.Write([]byte("h")) //nolint:errcheck
		s.Close()
	}()
	c, err := dial(ns, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if string(got) != "h" || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf(`case (a): client read %q, %v; want "h" then ECONNRESET`, got, err)
	}
	return port(ln.Addr())
}

// cleanClose is case (b): the server shuts down its sending side, reads
// until EOF, then closes; the client reads "h" and EOF, then closes.
func cleanClose(t *testing.T, ns *netns.NS) int {
	ln := listen(t, ns)
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer s.Close()
		b := make([]byte, 1)
		if _, err := io.ReadFull(s, b); err != nil {
			done <- err
			return
		}
		s.Write([]byte("h")) //nolint:errcheck
		s.(*net.TCPConn).CloseWrite()
		_, err = io.Copy(io.Discard, s)
		done <- err
	}()
	c, err := dial(ns, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	c.Write([]byte("hello"))                        //nolint:errcheck
	got, err := io.ReadAll(c)
	if string(got) != "h" || err != nil {
		t.Fatalf(`case (b): client read %q, %v; want "h" then EOF`, got, err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatalf("case (b) server: %v", err)
	}
	return port(ln.Addr())
}

// refused is case (c): a connect to a port nobody listens on.
func refused(t *testing.T, ns *netns.NS) int {
	ln := listen(t, ns)
	addr := ln.Addr().String()
	ln.Close()
	if c, err := dial(ns, addr); !errors.Is(err, syscall.ECONNREFUSED) {
		if c != nil {
			c.Close()
		}
		t.Fatalf("case (c): dial %s: %v, want ECONNREFUSED", addr, err)
	}
	p, _ := strconv.Atoi(addr[strings.LastIndexByte(addr, ':')+1:])
	return p
}

// TestKernelCapture captures the Linux kernel's own TCP on lo in a
// namespace of its own with tcpdump and checks the analyzer's verdict on
// four connections: (a) RST with unread data, (b) clean FIN both ways,
// (c) refused, (d) still open when the capture ends.
func TestKernelCapture(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("SKIP LOUDLY: %v", err)
	}
	tcpdumpPath(t)
	ns, err := netns.New("analyze")
	if err != nil {
		t.Fatal(err)
	}
	defer ns.Close()
	file := filepath.Join(t.TempDir(), "kernel.pcap")
	stop := startCapture(t, ns, file)
	pa, pb, pc := rstUnread(t, ns), cleanClose(t, ns), refused(t, ns)
	// (d): an established connection left open past the end of the capture.
	ln := listen(t, ns)
	defer ln.Close()
	cd, err := dial(ns, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer cd.Close()
	sd, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	cd.Write([]byte("still here")) //nolint:errcheck
	pd := port(ln.Addr())

	// The packets reach the file a little after the sockets saw them:
	// read it again until all four stories are complete (bounded).
	complete := func(rep *Report) bool {
		a, b := byServerPort(rep, pa), byServerPort(rep, pb)
		c, d := byServerPort(rep, pc), byServerPort(rep, pd)
		return a != nil && a.Ending.Kind == EndRST && b != nil && b.Ending.Clean &&
			c != nil && c.Setup.Kind == SetupRefused && d != nil && d.ServerToClient.Packets > 0 && d.ClientToServer.Packets >= 3
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rep, err := File(file, Options{}); err == nil && complete(rep) {
			break
		}
	}
	stop()
	rep, err := File(file, Options{})
	if err != nil {
		t.Fatalf("analyze %s: %v", file, err)
	}
	var text strings.Builder
	rep.WriteText(&text) //nolint:errcheck
	t.Logf("analysis of the kernel capture:\n%s", text.String())
	checkKernelVerdicts(t, rep, pa, pb, pc, pd)
}

// byServerPort finds the connection whose server listens on port.
func byServerPort(rep *Report, port int) *Connection {
	suffix := ":" + strconv.Itoa(port)
	for _, c := range rep.Connections {
		if strings.HasSuffix(c.Server, suffix) {
			return c
		}
	}
	return nil
}

// hasFinding reports whether c has a finding of kind.
func hasFinding(c *Connection, kind string) *Finding {
	for i := range c.Findings {
		if c.Findings[i].Kind == kind {
			return &c.Findings[i]
		}
	}
	return nil
}

func checkKernelVerdicts(t *testing.T, rep *Report, pa, pb, pc, pd int) {
	t.Helper()
	a, b, c, d := byServerPort(rep, pa), byServerPort(rep, pb), byServerPort(rep, pc), byServerPort(rep, pd)
	if a == nil || b == nil || c == nil || d == nil {
		t.Fatalf("connections missing from the analysis: (a) %v (b) %v (c) %v (d) %v", a != nil, b != nil, c != nil, d != nil)
	}
	if a.Setup.Kind != SetupHandshake || a.Ending.Kind != EndRST || a.Ending.By != "server" {
		t.Errorf("(a) setup %q ending %q by %q; the server's close with unread data must end it by RST",
			a.Setup.Kind, a.Ending.Kind, a.Ending.By)
	}
	if f := hasFinding(a, FindingRSTUnreadData); f == nil || !strings.Contains(f.Summary, "RFC 2525") {
		t.Errorf("(a) no %s finding naming RFC 2525: %+v", FindingRSTUnreadData, a.Findings)
	} else if f.Packets[len(f.Packets)-1] != a.Ending.Packets[0] {
		t.Errorf("(a) the finding's last packet %d is not the RST %d", f.Packets[len(f.Packets)-1], a.Ending.Packets[0])
	}
	if b.Setup.Kind != SetupHandshake || b.Ending.Kind != EndFIN || !b.Ending.Clean || b.Ending.By != "server" {
		t.Errorf("(b) setup %q ending %+v; want FIN both ways, server first, both acknowledged", b.Setup.Kind, b.Ending)
	}
	if len(b.Findings) != 0 {
		t.Errorf("(b) a clean close has no findings, got %+v", b.Findings)
	}
	if c.Setup.Kind != SetupRefused || c.Ending.Kind != EndNeverEstablished {
		t.Errorf("(c) setup %q ending %q; want refused, never established", c.Setup.Kind, c.Ending.Kind)
	}
	if d.Setup.Kind != SetupHandshake || d.Ending.Kind != EndOpen {
		t.Errorf("(d) setup %q ending %q; want a handshake and still open", d.Setup.Kind, d.Ending.Kind)
	}
	for _, x := range []*Connection{a, b, d} {
		if x.ClientToServer.DataBytes == 0 {
			t.Errorf("connection to %s: no client data counted", x.Server)
		}
	}
}
