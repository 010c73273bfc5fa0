package vm

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/teardown-lab/teardown/internal/vm/guest"
)

// maxConsole bounds the console kept in memory: a guest that floods its
// console cannot exhaust the host's memory; the end is kept.
const maxConsole = 1 << 20

// consoleWatcher is qemu's standard output: the guest's serial console. It
// keeps the text, copies it to an optional writer and reads the init's
// marker lines as they arrive (the first one's arrival time is the boot
// time).
type consoleWatcher struct {
	mu      sync.Mutex
	copyTo  io.Writer
	buf     []byte
	line    []byte
	start   time.Time
	booted  time.Duration
	uptime  string
	status  int
	initErr string
}

func newConsoleWatcher(copyTo io.Writer) *consoleWatcher {
	return &consoleWatcher{copyTo: copyTo, status: -1}
}

// Write implements io.Writer; it never fails, so qemu is never blocked.
func (c *consoleWatcher) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.copyTo != nil {
		_, _ = c.copyTo.Write(p)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) > maxConsole {
		c.buf = append(c.buf[:0], c.buf[len(c.buf)-maxConsole/2:]...)
	}
	for _, b := range p {
		if b != '\n' {
			if len(c.line) < 4096 {
				c.line = append(c.line, b)
			}
			continue
		}
		c.scanLine(string(c.line))
		c.line = c.line[:0]
	}
	return len(p), nil
}

// scanLine records what a console line says. Kernel messages may share a
// line with the init's output, so a marker counts anywhere in the line.
func (c *consoleWatcher) scanLine(line string) {
	line = strings.TrimRight(line, "\r")
	if i := strings.Index(line, guest.MarkerStart); i >= 0 && c.booted == 0 {
		c.booted = time.Since(c.start)
		c.uptime = strings.TrimSpace(line[i+len(guest.MarkerStart):])
	}
	if i := strings.Index(line, guest.MarkerExit); i >= 0 {
		if st, ok := guest.ExitStatus(line[i:]); ok {
			c.status = st
		}
	}
	if i := strings.Index(line, guest.MarkerError); i >= 0 {
		if reason, ok := guest.InitError(line[i:]); ok && c.initErr == "" {
			c.initErr = reason
		}
	}
}

// fill copies what the console said into res.
func (c *consoleWatcher) fill(res *Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.line) > 0 {
		c.scanLine(string(c.line))
	}
	res.Console = string(bytes.ReplaceAll(c.buf, []byte("\r\n"), []byte("\n")))
	res.BootTime = c.booted
	res.GuestUptime = c.uptime
	res.ExitStatus = c.status
}
