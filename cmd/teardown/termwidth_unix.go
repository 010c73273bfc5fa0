//go:build linux || darwin || freebsd || netbsd || openbsd

package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// terminalColumns asks the terminal on f for its width (TIOCGWINSZ); the
// ioctl fails on anything but a terminal.
func terminalColumns(f *os.File) (cols int, isTerm bool) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, false
	}
	return int(ws.Col), true
}
