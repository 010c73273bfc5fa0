package stack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/teardown-lab/teardown/link/pipe"
)

// The stress test below runs many connections at once over a real-time
// pipe (segments deferred to the connections' readers and writers,
// sock_defer.go), in both directions, with odd write and read sizes, and
// with other goroutines calling SetDeadline, CloseWrite and Close while
// Reads and Writes are blocked. Every byte is checked (SHA-256 or exact
// prefix), every call must return, and no goroutine may be left behind.

// stressKind is what happens to one connection besides its transfer.
type stressKind int

const (
	stressPlain         stressKind = iota // both ways to the end, then CloseWrite
	stressReadDeadline                    // a blocked Read is cut by a deadline, then resumes
	stressWriteDeadline                   // a blocked Write is cut by a deadline, then resumes
	stressCloseWrite                      // CloseWrite from another goroutine during a blocked Write
	stressClose                           // Close from another goroutine during a blocked Read and Write
	stressKinds
)

func (k stressKind) String() string {
	return [...]string{"plain", "read-deadline", "write-deadline", "closewrite", "close"}[k]
}

// stressStacks joins two real-time stacks by a pipe.
func stressStacks(t *testing.T, share bool, mtu int) (client, server *Stack) {
	t.Helper()
	var opts []pipe.Option
	if share {
		opts = append(opts, pipe.ShareBuffers())
	}
	a, b := pipe.New(mtu, opts...)
	tcpOpts := TCPOptions{SendBuffer: 64 << 10, ReceiveBuffer: 64 << 10}
	var err error
	client, err = New(Config{Name: "client", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.1")}, Link: a, TCP: tcpOpts})
	if err != nil {
		t.Fatal(err)
	}
	server, err = New(Config{Name: "server", Addrs: []netip.Addr{netip.MustParseAddr("10.9.0.2")}, Link: b, TCP: tcpOpts})
	if err != nil {
		t.Fatal(err)
	}
	return client, server
}

// stressData is n pseudo-random bytes from seed.
func stressData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 99))
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	return p
}

// waitBlocked returns once a goroutine is blocked on q of c (a Read on
// readers, a Write on writers).
func waitBlocked(c *TCPConn, q *waitq) {
	for {
		c.mu.Lock()
		n := len(q.ws)
		c.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// writeOdd writes p in odd-sized pieces (1 to 9999 bytes, odd) and returns
// how much was written and the first error.
func writeOdd(c *TCPConn, p []byte, seed uint64) (int, error) {
	r := rand.New(rand.NewPCG(seed, 3))
	done := 0
	for done < len(p) {
		k := min(1+2*r.IntN(5000), len(p)-done)
		n, err := c.Write(p[done : done+k])
		done += n
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// readOdd reads until EOF or an error with odd buffer sizes and returns
// what it read and the error that ended it (nil for EOF).
func readOdd(c *TCPConn, seed uint64) ([]byte, error) {
	r := rand.New(rand.NewPCG(seed, 5))
	var got bytes.Buffer
	buf := make([]byte, 20000)
	for {
		n, err := c.Read(buf[:1+2*r.IntN(len(buf)/2)])
		got.Write(buf[:n])
		if err == io.EOF {
			return got.Bytes(), nil
		}
		if err != nil {
			return got.Bytes(), err
		}
	}
}

// stressConn runs one connection's scenario; errors go to report.
func stressConn(k stressKind, id int, c, s *TCPConn, report func(string, ...any)) {
	seed := uint64(id) * 1000
	up := stressData(seed+1, 200<<10+id*1237)
	down := stressData(seed+2, 150<<10+id*3331)
	var wg sync.WaitGroup
	goDo := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	checkAll := func(who string, got, want []byte, err error) {
		if err != nil {
			report("%s: read ended with %v after %d bytes", who, err, len(got))
		}
		if len(got) != len(want) || sha256.Sum256(got) != sha256.Sum256(want) {
			report("%s: received %d bytes, want %d, contents differ", who, len(got), len(want))
		}
	}
	checkPrefix := func(who string, got, want []byte) {
		if len(got) > len(want) || !bytes.Equal(got, want[:len(got)]) {
			report("%s: received %d bytes that are not a prefix of the %d sent", who, len(got), len(want))
		}
	}
	sendAll := func(who string, conn *TCPConn, p []byte, seed uint64) {
		if n, err := writeOdd(conn, p, seed); err != nil {
			report("%s: write failed after %d of %d bytes: %v", who, n, len(p), err)
		}
		if err := conn.CloseWrite(); err != nil {
			report("%s: CloseWrite: %v", who, err)
		}
	}

	switch k {
	case stressPlain:
		goDo(func() { sendAll("client send", c, up, seed+3) })
		goDo(func() { sendAll("server send", s, down, seed+4) })
		goDo(func() { got, err := readOdd(s, seed+5); checkAll("server recv", got, up, err) })
		goDo(func() { got, err := readOdd(c, seed+6); checkAll("client recv", got, down, err) })

	case stressReadDeadline:
		start := make(chan struct{})
		goDo(func() { sendAll("client send", c, up, seed+3) })
		goDo(func() { got, err := readOdd(s, seed+5); checkAll("server recv", got, up, err) })
		goDo(func() { <-start; sendAll("server send", s, down, seed+4) })
		goDo(func() {
			waitBlocked(c, &c.readers)
			c.SetReadDeadline(time.Unix(1, 0))
		})
		goDo(func() {
			n, err := c.Read(make([]byte, 999))
			if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				report("blocked Read cut by a deadline: %d, %v; want 0, deadline exceeded", n, err)
			}
			c.SetReadDeadline(time.Time{})
			close(start)
			got, err := readOdd(c, seed+6)
			checkAll("client recv after deadline", got, down, err)
		})

	case stressWriteDeadline:
		start := make(chan struct{})
		goDo(func() { sendAll("server send", s, down, seed+4) })
		goDo(func() { got, err := readOdd(c, seed+6); checkAll("client recv", got, down, err) })
		goDo(func() { <-start; got, err := readOdd(s, seed+5); checkAll("server recv", got, up, err) })
		goDo(func() {
			waitBlocked(c, &c.writers)
			c.SetWriteDeadline(time.Unix(1, 0))
		})
		goDo(func() {
			n, err := c.Write(up) // more than both buffers hold
			if n >= len(up) || !errors.Is(err, os.ErrDeadlineExceeded) {
				report("blocked Write cut by a deadline: %d of %d, %v", n, len(up), err)
			}
			c.SetWriteDeadline(time.Time{})
			close(start)
			sendAll("client send rest", c, up[n:], seed+3)
		})

	case stressCloseWrite:
		closed, wdone := make(chan struct{}), make(chan struct{})
		var written int
		goDo(func() { sendAll("server send", s, down, seed+4) })
		goDo(func() { got, err := readOdd(c, seed+6); checkAll("client recv", got, down, err) })
		goDo(func() {
			waitBlocked(c, &c.writers)
			if err := c.CloseWrite(); err != nil {
				report("CloseWrite during a blocked Write: %v", err)
			}
			close(closed)
		})
		goDo(func() {
			n, err := c.Write(up)
			if n >= len(up) || !errors.Is(err, syscall.EPIPE) {
				report("Write blocked when CloseWrite came: %d of %d, %v; want EPIPE", n, len(up), err)
			}
			written = n
			close(wdone)
		})
		goDo(func() {
			// The server reads only once the Write returned: CloseWrite
			// itself must wake it (TestShutdownWakesBlockedCalls), not the
			// space the server's reading would free.
			<-closed
			<-wdone
			got, err := readOdd(s, seed+5)
			// Exactly what Write took, then the FIN.
			checkAll("server recv after CloseWrite", got, up[:written], err)
		})

	case stressClose:
		var wrote sync.WaitGroup
		wrote.Add(1)
		readerIn := make(chan struct{})
		goDo(func() {
			close(readerIn)
			n, err := c.Read(make([]byte, 4096))
			if err == nil {
				report("Read blocked when Close came returned %d, nil", n)
			}
		})
		goDo(func() {
			defer wrote.Done()
			n, err := c.Write(up)
			if err == nil {
				report("Write blocked when Close came returned %d, nil", n)
			}
		})
		goDo(func() {
			<-readerIn
			waitBlocked(c, &c.readers)
			waitBlocked(c, &c.writers)
			c.Close()
		})
		goDo(func() {
			wrote.Wait()
			got, err := readOdd(s, seed+5)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				report("server recv after the client's Close: %v", err)
			}
			checkPrefix("server recv after the client's Close", got, up)
			s.Write(down[:1000]) //nolint:errcheck // may be reset
		})
	}
	wg.Wait()
	c.Close()
	s.Close()
}

func TestDeferredSegmentsStress(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	const conns = 30 // six of each kind
	for _, cfg := range []struct {
		share bool
		mtu   int
	}{{true, 1500}, {false, 1500}, {true, 9000}} {
		t.Run(fmt.Sprintf("share=%v/mtu=%d", cfg.share, cfg.mtu), func(t *testing.T) {
			client, server := stressStacks(t, cfg.share, cfg.mtu)
			defer client.Close()
			defer server.Close()
			l, err := server.ListenTCP(7100, ListenOptions{Backlog: conns})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cs := make([]*TCPConn, conns)
			ss := map[netip.AddrPort]*TCPConn{}
			for i := range cs {
				if cs[i], err = client.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.2:7100")); err != nil {
					t.Fatal(err)
				}
				s, err := l.AcceptTCP()
				if err != nil {
					t.Fatal(err)
				}
				ss[s.RemoteAddrPort()] = s
			}
			var mu sync.Mutex
			var failures []string
			var wg sync.WaitGroup
			for i, c := range cs {
				s := ss[c.LocalAddrPort()]
				k := stressKind(i % int(stressKinds))
				wg.Add(1)
				go func() {
					defer wg.Done()
					stressConn(k, i, c, s, func(f string, a ...any) {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("conn %d (%v): ", i, k)+fmt.Sprintf(f, a...))
						mu.Unlock()
					})
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(25 * time.Second): // a hang detector, not a timed assertion
				buf := make([]byte, 1<<20)
				t.Fatalf("connections still running; goroutines:\n%s", buf[:runtime.Stack(buf, true)])
			}
			for _, f := range failures {
				t.Error(f)
			}
			if cfg.mtu == 1500 && client.Stats().SegmentsDeferred+server.Stats().SegmentsDeferred == 0 {
				t.Error("no segment was deferred: the test did not exercise sock_defer.go")
			}
			if bad := client.Stats().Dropped["bad-checksum"] + server.Stats().Dropped["bad-checksum"]; bad != 0 {
				t.Errorf("%d segments failed their checksum", bad)
			}
		})
	}
}
