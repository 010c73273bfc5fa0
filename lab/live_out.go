package lab

import (
	"fmt"
	"io"
	"sync"
)

// traceLines is how many transcript lines may wait for the output
// (--trace): a bounded ring between the connections and a slow terminal.
// A line is about 60 to 100 bytes, so the ring holds well under 1 MB.
const traceLines = 4096

// liveOut is the output of a live run: the instructions, one line per
// connection, the summary, and with --trace the transcript. One goroutine
// writes, so that no connection waits for the terminal: transcript lines
// that find the ring full are dropped and counted, and a line saying how
// many takes their place once there is room. The other lines wait for
// room, for they are few (one per connection).
type liveOut struct {
	lines chan string
	done  chan struct{}

	mu      sync.Mutex
	dropped int // transcript lines dropped since the last one queued
	closed  bool
}

// newLiveOut starts the writer of w.
func newLiveOut(w io.Writer) *liveOut {
	o := &liveOut{lines: make(chan string, traceLines), done: make(chan struct{})}
	go func() {
		defer close(o.done)
		for l := range o.lines {
			io.WriteString(w, l) //nolint:errcheck // nowhere better to say it
		}
	}()
	return o
}

// say queues a line that must not be lost, waiting for room.
func (o *liveOut) say(format string, args ...any) {
	l := fmt.Sprintf(format, args...)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return
	}
	o.flushDropped(true)
	o.lines <- l
}

// trace queues a transcript line, or drops it if the ring is full.
func (o *liveOut) trace(l string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || !o.flushDropped(false) {
		o.dropped++
		return
	}
	select {
	case o.lines <- l:
	default:
		o.dropped++
	}
}

// flushDropped queues the line that counts the dropped transcript lines,
// if any, waiting for room when wait is set. It reports whether the ring
// may take more lines. The caller holds mu.
func (o *liveOut) flushDropped(wait bool) bool {
	if o.dropped == 0 {
		return true
	}
	l := fmt.Sprintf("           ... %d transcript lines dropped: the output fell behind\n", o.dropped)
	if wait {
		o.lines <- l
	} else {
		select {
		case o.lines <- l:
		default:
			return false
		}
	}
	o.dropped = 0
	return true
}

// close writes what waits and stops the writer; later lines are ignored.
func (o *liveOut) close() {
	o.mu.Lock()
	if !o.closed {
		o.flushDropped(true)
		o.closed = true
		close(o.lines)
	}
	o.mu.Unlock()
	<-o.done
}
