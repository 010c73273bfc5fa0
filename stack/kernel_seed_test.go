//go:build linux

package stack_test

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/stack"
)

// The seed against the Linux kernel (docs/scenarios.md, seed 000): a server
// reads one byte of "hello", writes it back and closes in one of three
// ways; the client reports what its reads returned. Each case runs with
// our stack as the server and a kernel client, then the other way round.

// seedCase is one way of closing and what the client must see.
type seedCase struct {
	variant  string // naive, shutdown, graceful
	wantData string
	wantErr  error // io.EOF or syscall.ECONNRESET
}

var seedCases = []seedCase{
	{"naive", "h", syscall.ECONNRESET}, // RFC 2525 §2.17: close with unread data sends RST
	{"shutdown", "h", io.EOF},          // the FIN goes out before the RST
	{"graceful", "h", io.EOF},          // the unread bytes are drained: no RST at all
}

// readToEnd reads until an error, as the seed's client: all data, then the
// error that ended the stream.
func readToEnd(c net.Conn) (string, error) {
	var got []byte
	buf := make([]byte, 16)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
	}
}

// helloThenRead is the seed's client: write "hello", give the server's
// answer (and its RST, if any) a moment to arrive, then read to the end.
func helloThenRead(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("hello")); err != nil {
		return "", err
	}
	time.Sleep(100 * time.Millisecond)
	return readToEnd(c)
}

func checkSeedResult(t *testing.T, sc seedCase, data string, err error) {
	t.Helper()
	if data != sc.wantData {
		t.Errorf("client read %q before the end, want %q", data, sc.wantData)
	}
	if sc.wantErr == io.EOF && err != io.EOF || sc.wantErr != io.EOF && !errors.Is(err, sc.wantErr) {
		t.Errorf("client's stream ended with %v, want %v", err, sc.wantErr)
	}
}

// seedOurServer runs the seed's variant on our server at echoPort against
// a kernel client saying hello and reading to the end, and returns what
// the client read.
func (e *kernelEnv) seedOurServer(t *testing.T, variant string) (string, error) {
	t.Helper()
	l, err := e.st.ListenTCP(echoPort, stack.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); echoOne(t, l, variant) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	k, err := e.dial(ctx, echoPort)
	if err != nil {
		t.Fatalf("kernel dial: %v", err)
	}
	data, rerr := helloThenRead(k)
	k.Close() // the kernel client closes after the end, as the seed's does
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("our echo-one server did not finish within 10 s")
	}
	return data, rerr
}

func TestKernelSeedOurServer(t *testing.T) {
	for _, sc := range seedCases {
		t.Run(sc.variant, func(t *testing.T) {
			e := newKernelEnv(t, envOpts{capture: true})
			data, rerr := e.seedOurServer(t, sc.variant)
			checkSeedResult(t, sc, data, rerr)
			time.Sleep(50 * time.Millisecond) // the last segments reach the capture
			fromUs, fromKernel, segs := e.rstsOnWire(t)
			t.Logf("%s: kernel client read %q then %v; %d segments, RSTs from us %d, from the kernel %d", sc.variant, data, rerr, segs, fromUs, fromKernel)
			switch sc.variant {
			case "naive":
				// The close with unread data sends one RST; a kernel ACK
				// still in flight then reaches no connection and is
				// answered with another (RFC 9293 §3.10.7.1), as Linux does.
				if fromUs == 0 || fromKernel != 0 {
					t.Errorf("our server sent %d RSTs (want at least 1: close with unread data), the kernel client %d (want 0)", fromUs, fromKernel)
				}
			case "shutdown": // the FIN, then the RST for the unread "ello", as Linux
				if fromUs == 0 || fromKernel != 0 {
					t.Errorf("RSTs from our server %d (want at least 1 after its FIN), from the kernel client %d (want 0)", fromUs, fromKernel)
				}
			case "graceful":
				if fromUs+fromKernel != 0 {
					t.Errorf("GracefulClose: RSTs on the wire: %d from us, %d from the kernel; want none", fromUs, fromKernel)
				}
			}
		})
	}
}

// kernelEchoOne is the seed's server on the kernel: read one byte, write
// it, close the way the variant says.
func kernelEchoOne(c *net.TCPConn, variant string) error {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return err
	}
	if _, err := c.Write(b[:]); err != nil {
		return err
	}
	switch variant {
	case "shutdown":
		return c.CloseWrite()
	case "graceful":
		if err := c.CloseWrite(); err != nil {
			return err
		}
		_, err := io.Copy(io.Discard, c) // drain until our FIN
		return err
	}
	return nil
}

// seedKernelServer runs the seed's variant on a kernel server at echoPort
// against our client saying hello and reading to the end, and returns what
// the client read; the server's errors fail the test.
func (e *kernelEnv) seedKernelServer(t *testing.T, variant string) (string, error) {
	t.Helper()
	l := e.listen(t, echoPort)
	done := make(chan error, 1)
	go func() {
		c, err := acceptKernel(l, 10*time.Second)
		if err != nil {
			done <- err
			return
		}
		done <- kernelEchoOne(c, variant)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.st.DialTCP(ctx, e.addrPort(echoPort))
	if err != nil {
		t.Fatalf("dial the kernel: %v", err)
	}
	data, rerr := helloThenRead(c)
	c.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("kernel server: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the kernel's echo-one server did not finish within 10 s")
	}
	return data, rerr
}

func TestKernelSeedKernelServer(t *testing.T) {
	for _, sc := range seedCases {
		t.Run(sc.variant, func(t *testing.T) {
			e := newKernelEnv(t, envOpts{capture: true})
			data, rerr := e.seedKernelServer(t, sc.variant)
			checkSeedResult(t, sc, data, rerr)
			time.Sleep(50 * time.Millisecond)
			fromUs, fromKernel, segs := e.rstsOnWire(t)
			t.Logf("%s: our client read %q then %v; %d segments, RSTs from us %d, from the kernel %d", sc.variant, data, rerr, segs, fromUs, fromKernel)
			switch sc.variant {
			case "naive":
				if fromKernel == 0 || fromUs != 0 {
					t.Errorf("the kernel server sent %d RSTs (want at least 1: close with unread data), our client %d (want 0)", fromKernel, fromUs)
				}
			case "shutdown":
				if fromKernel == 0 || fromUs != 0 {
					t.Errorf("RSTs from the kernel server %d (want at least 1 after its FIN), from our client %d (want 0)", fromKernel, fromUs)
				}
			case "graceful":
				if fromUs+fromKernel != 0 {
					t.Errorf("graceful close: RSTs on the wire: %d from us, %d from the kernel; want none", fromUs, fromKernel)
				}
			}
		})
	}
}
