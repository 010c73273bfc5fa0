package stack_test

import (
	"errors"
	"os"
	"testing"
	"time"
)

// net.Conn: any non-zero time.Time in the past expires the deadline at
// once; only the zero time.Time clears it. The Unix epoch is such a time
// (its UnixNano is 0, the clock's "not set" Instant), and so are times
// before it, down to year 1 (out of UnixNano's range). A Read blocked
// with no deadline ends with a timeout when any of them is set, on a
// clock whose timers never fire.
func TestReadDeadlineAtOrBeforeEpochExpires(t *testing.T) {
	_, c := inertConn(t)
	for _, when := range []time.Time{time.Unix(0, 0), time.Unix(-1, 0), {}} {
		if when.IsZero() {
			when = time.Time{}.Add(time.Nanosecond) // year 1: not the zero time
		}
		done := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8))
			done <- err
		}()
		c.SetReadDeadline(when)
		select {
		case err := <-done:
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("deadline %v: Read = %v, want a timeout", when, err)
			}
		case <-time.After(30 * time.Second): // a guard against a hang, not a measurement
			t.Fatalf("deadline %v: Read still blocked: the deadline was cleared, not expired", when)
		}
		c.SetReadDeadline(time.Time{})
	}
}
