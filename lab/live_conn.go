package lab

import (
	"fmt"
	"net/netip"
	"syscall"
	"time"

	"github.com/teardown-lab/teardown/clock"
	"github.com/teardown-lab/teardown/internal/trace"
)

// connLog is what a live run keeps of one connection: counters and the
// first failure, whatever the connection carries. It is the sink of the
// connection's recorder; with --trace it also prints each call.
type connLog struct {
	id    int // 1, 2, ... in accept order; 0 for dial's one connection
	peer  netip.AddrPort
	begin clock.Instant
	out   *liveOut
	t0    clock.Instant // the run's start, for the time stamps
	trace bool

	in, sent uint64 // bytes the application read and wrote
	failed   string // the first error the application saw ("" if none)
}

// call is the connection's recorder's sink.
func (l *connLog) call(c *trace.Call, _, end clock.Instant) {
	switch c.Name {
	case trace.CallRecv:
		if c.Result == trace.ResultData {
			l.in += uint64(c.Bytes)
		}
	case trace.CallSend:
		l.sent += uint64(c.Bytes)
	}
	if l.failed == "" && isFailure(c) {
		l.failed = c.Detail
	}
	if l.trace {
		l.out.trace(fmt.Sprintf("%9.3f  %s%s\n", seconds(end.Sub(l.t0)), l.tag(), callLine(c)))
	}
}

// isFailure tells an error that says something went wrong from the ends a
// connection has anyway: end-of-stream, a reset (counted apart), a recv
// deadline (the lingering close drains until one).
func isFailure(c *trace.Call) bool {
	switch c.Result {
	case trace.ResultError, trace.ResultRefused:
		return true
	case trace.ResultTimeout:
		return c.Detail == syscall.ETIMEDOUT.Error() // the stack gave up
	}
	return false
}

// tag is "#12 " for a served connection, "" for dial's.
func (l *connLog) tag() string {
	if l.id == 0 {
		return ""
	}
	return fmt.Sprintf("#%d ", l.id)
}

// connEnd is how a live connection ended, from the worst down.
type connEnd int

const (
	endClean   connEnd = iota // both sides closed without RST or error
	endFailed                 // the application saw an error
	endReset                  // an RST was sent or received
	endIdle                   // the idle timeout ran out: we reset it
	endStopped                // serve stopped while it was open: we reset it
)

// describe is the end of the connection's line.
func (e connEnd) describe(l *connLog, rst rstCount, idle time.Duration) string {
	switch e {
	case endStopped:
		return "open at the stop: reset"
	case endIdle:
		return fmt.Sprintf("waited %s (idle timeout): reset", idle)
	case endReset:
		switch {
		case rst.in > 0 && rst.out > 0:
			return "reset (both ways)"
		case rst.in > 0:
			return "reset by the peer"
		}
		return "reset by us"
	case endFailed:
		return "error: " + l.failed
	}
	return "closed"
}

// rstCount is the RSTs a connection received and sent.
type rstCount struct{ in, out uint64 }

// line is the connection's one line, printed when it ends.
func (l *connLog) line(now clock.Instant, end connEnd, rst rstCount, idle time.Duration) string {
	return fmt.Sprintf("%9.3f  %s%s: %s in, %s out, %.3f s, %s\n", seconds(now.Sub(l.t0)), l.tag(), l.peer,
		byteCount(l.in), byteCount(l.sent), seconds(now.Sub(l.begin)), end.describe(l, rst, idle))
}

func seconds(d time.Duration) float64 { return float64(d) / float64(time.Second) }

// byteCount writes n in SI units: "512 B", "64.0 kB", "1.1 GB".
func byteCount(n uint64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1000, "kB"
	for _, u := range []string{"MB", "GB", "TB"} {
		if v < 1000 {
			break
		}
		v, unit = v/1000, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
