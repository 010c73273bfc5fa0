package stack

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/teardown-lab/teardown/internal/tcp"
	"github.com/teardown-lab/teardown/internal/wire"
)

// Cases a review of the retired-connection and slow-reader changes found
// (session 6): each failed before its fix.

// Two SYNs for a 4-tuple in TIME-WAIT, both looked up before either ran:
// the first reincarnates the connection, the second finds it retired and
// must not reincarnate it again (which retired it twice: its counters
// entered the stack's sum twice).
func TestReincarnate_SecondSYNFindsTheConnectionRetired(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if _, err := s.Read(buf); err != nil {
		t.Fatal(err)
	}
	s.Close() // the server closes first and ends in TIME-WAIT
	if _, err := c.Read(buf); err != io.EOF {
		t.Fatalf("client read: %v, want EOF", err)
	}
	c.Close()
	for deadline := time.Now().Add(10 * time.Second); s.State() != "TIME-WAIT"; {
		if time.Now().After(deadline) {
			t.Fatalf("server in %s, want TIME-WAIT", s.State())
		}
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	nxt, _ := s.core.ReceiveGap()
	s.mu.Unlock()
	syn := tcp.Segment{Seq: nxt.Add(100000), Flags: wire.SYN, Window: 65535}
	if _, ok := s.reincarnate(&syn, true); !ok {
		t.Fatal("the first SYN did not reincarnate the connection in TIME-WAIT")
	}
	before := server.Stats().TCP
	_, again := s.reincarnate(&syn, true)
	after := server.Stats().TCP
	if again || after.SegsIn != before.SegsIn || after.BytesIn != before.BytesIn {
		t.Fatalf("second SYN: reincarnated %v, segments in %d -> %d, bytes in %d -> %d; want false and unchanged",
			again, before.SegsIn, after.SegsIn, before.BytesIn, after.BytesIn)
	}
}

// One slow wake marks a reader slow, and its pushed segments are then
// processed where they arrive rather than left to it. The next wakes are
// measured again: once the reader runs promptly, segments are left to it
// again (before, only a wake for a queued segment measured, and those
// were no longer queued: the mark stayed for good).
func TestSlowReader_ClearedByTheNextPromptWake(t *testing.T) {
	client, server := pipePair(t, 1500)
	c, s := connect(t, client, server)
	got := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			_, err := s.Read(buf)
			got <- err
			if err != nil {
				return
			}
		}
	}()
	msg := make([]byte, 100)
	exchange := func(n int) uint64 {
		before := server.Stats().SegmentsDeferred
		for range n {
			waitBlocked(s, &s.readers)
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}
		}
		return server.Stats().SegmentsDeferred - before
	}
	if d := exchange(20); d == 0 {
		t.Fatal("no segment was left to the reader parked in Read")
	}
	s.mu.Lock()
	s.slowReader = true // as after one slow wake
	s.mu.Unlock()
	if d := exchange(200); d == 0 {
		t.Fatal("after 200 exchanges no segment was left to the reader: it stayed marked slow")
	}
}

// A GracefulClose draining the connection waits on the readers' queue
// but is no Read: it does not count as a reader asleep in Read.
func TestReadersAsleep_CountsOnlyReads(t *testing.T) {
	client, server := pipePair(t, 1500)
	_, s := connect(t, client, server)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := s.GracefulClose(ctx)
		done <- err
	}()
	waitBlocked(s, &s.readers)
	s.mu.Lock()
	inRead, asleep := s.inRead, s.readersAsleep
	s.mu.Unlock()
	cancel()
	<-done
	if asleep != 0 || inRead != 0 {
		t.Fatalf("GracefulClose draining: %d goroutines in Read, %d asleep in Read; want 0 and 0", inRead, asleep)
	}
}
