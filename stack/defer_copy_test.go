package stack

import (
	"bytes"
	"testing"
)

// A segment larger than deferMaxPayload is not copied into the queue even
// when a short one waits there for the reader: the waiting one is run
// first and the large one after it, where it arrives, in order.
func TestDeferredQueue_LargeSegmentRunsWhatWaitsAndIsNotCopied(t *testing.T) {
	client, server := pipePair(t, 65535)
	c, s := connect(t, client, server)
	c.SetNoDelay(true) // the large write leaves while the short one is unacknowledged
	s.mu.Lock()
	s.inRead++ // a goroutine inside Read, not yet scheduled
	s.mu.Unlock()
	short, large := bytes.Repeat([]byte("s"), 100), bytes.Repeat([]byte("L"), 40<<10)
	if _, err := c.Write(short); err != nil {
		t.Fatal(err)
	}
	if got := server.Stats().SegmentsDeferred; got != 1 {
		t.Fatalf("%d segments deferred, want the short one", got)
	}
	if _, err := c.Write(large); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	held, waiting := s.core.Readable(), len(s.rx.pkts)
	s.inRead--
	s.mu.Unlock()
	if got := server.Stats().SegmentsDeferred; got != 1 {
		t.Fatalf("%d segments deferred: the large segment was queued (copied) behind the short one", got)
	}
	if held != len(short)+len(large) || waiting != 0 {
		t.Fatalf("the core holds %d bytes and %d segments wait; want both segments run (%d bytes)", held, waiting, len(short)+len(large))
	}
	buf := make([]byte, held)
	if n, err := s.Read(buf); err != nil || !bytes.Equal(buf[:n], append(short, large[:n-len(short)]...)) {
		t.Fatalf("read %d bytes (%v): not the short segment's bytes then the large one's", n, err)
	}
}
