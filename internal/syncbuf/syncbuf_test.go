package syncbuf

import (
	"sync"
	"testing"
)

// Writers on several goroutines and a reader beside them: every write
// lands whole, and what Bytes returned earlier does not change after.
func TestBuffer_ConcurrentWritesAllLand(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("ab"))
			}
		}()
	}
	early := b.Bytes()
	n := len(early)
	wg.Wait()
	if got := len(b.Bytes()); got != 800 {
		t.Errorf("%d bytes after 400 writes of 2; want 800", got)
	}
	if len(early) != n || n%2 != 0 {
		t.Errorf("an early copy of %d bytes changed to %d or split a write", n, len(early))
	}
}
