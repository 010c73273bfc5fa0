package stack

import (
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// CloseWrite and CloseRead change what a blocked Write and Read wait for:
// after shutdown(SHUT_WR) a Write can never complete (EPIPE), after
// shutdown(SHUT_RD) a Read of an empty queue returns end-of-stream. Linux
// wakes both (inet_shutdown → sk_state_change). Here a Write blocked on a
// full send buffer toward a peer that does not read, or a Read blocked
// with nothing arriving, must be woken by the shutdown itself: no waiter
// may be left in the queue once the call returned. Found by
// TestDeferredSegmentsStress (a Write blocked for ever after CloseWrite);
// CloseRead already wakes its Read (the core raises EventReadable).
func TestShutdownWakesBlockedCalls(t *testing.T) {
	client, server := stressStacks(t, true, 1500)
	t.Cleanup(func() { client.Close(); server.Close() })
	c, s := connect(t, client, server)

	// A Write that cannot finish: 1 MiB toward 64 KiB buffers nobody reads.
	wrote := make(chan error, 1)
	go func() { _, err := c.Write(make([]byte, 1<<20)); wrote <- err }()
	waitBlocked(c, &c.writers)
	// Wait until the peer's window is closed too: nothing will wake the
	// Write but the shutdown.
	for {
		s.mu.Lock()
		full := s.core.Readable() >= 60<<10
		s.mu.Unlock()
		if full {
			break
		}
		time.Sleep(100 * time.Microsecond) // polling, not an assertion
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	left := len(c.writers.ws)
	c.mu.Unlock()
	if left != 0 {
		s.Close() // unblocks the Write (reset) so that the test ends
		<-wrote
		t.Fatalf("CloseWrite left %d Write blocked", left)
	}
	if err := <-wrote; !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Write blocked at CloseWrite: %v, want EPIPE", err)
	}

	// A Read with nothing coming (the server sends nothing).
	read := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 10)); read <- err }()
	waitBlocked(c, &c.readers)
	c.CloseRead()
	c.mu.Lock()
	left = len(c.readers.ws)
	c.mu.Unlock()
	if left != 0 {
		s.Close()
		<-read
		t.Fatalf("CloseRead left %d Read blocked", left)
	}
	if err := <-read; err != io.EOF {
		t.Fatalf("Read blocked at CloseRead: %v, want EOF", err)
	}
}
