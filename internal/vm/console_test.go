package vm

import (
	"strings"
	"testing"
)

// consoleSeen is what a watcher read from a console, minus timings.
type consoleSeen struct {
	booted  bool
	uptime  string
	status  int
	initErr string
}

func watch(chunks ...[]byte) consoleSeen {
	c := newConsoleWatcher(nil)
	for _, p := range chunks {
		c.Write(p)
	}
	var res Result
	c.fill(&res)
	return consoleSeen{booted: res.BootTime != 0, uptime: res.GuestUptime, status: res.ExitStatus, initErr: c.initErr}
}

func TestConsoleWatcher_Markers(t *testing.T) {
	tests := []struct {
		name    string
		console string
		want    consoleSeen
	}{
		{"clean run", "[    0.1] Linux version 6.1\r\n\r\nteardown-vm: init started, uptime 2.51\r\n\r\nteardown-vm: job exit status 0\r\n[    4.1] reboot: Power down\r\n",
			consoleSeen{booted: true, uptime: "2.51", status: 0}},
		{"job failed", "teardown-vm: init started, uptime 1\nteardown-vm: job exit status 137\n",
			consoleSeen{booted: true, uptime: "1", status: 137}},
		{"marker after a kernel message on the same line", "[ 3.0] random: crng initteardown-vm: job exit status 4\n",
			consoleSeen{status: 4}},
		{"init error", "teardown-vm: init started, uptime 1\nteardown-vm: init error: finit_module /teardown/modules/dccp.ko: exec format error\n",
			consoleSeen{booted: true, uptime: "1", status: -1, initErr: "finit_module /teardown/modules/dccp.ko: exec format error"}},
		{"kernel panic, no markers", "Kernel panic - not syncing: VFS: Unable to mount root fs\n", consoleSeen{status: -1}},
		{"status out of range is not a status", "teardown-vm: job exit status 300\n", consoleSeen{status: -1}},
		{"last line without newline", "teardown-vm: job exit status 9", consoleSeen{status: 9}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := watch([]byte(tt.console)); got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestConsoleWatcher_CopiesAndBounds(t *testing.T) {
	var copyTo strings.Builder
	c := newConsoleWatcher(&copyTo)
	line := strings.Repeat("x", 1000) + "\n"
	for range 2 * maxConsole / len(line) {
		c.Write([]byte(line))
	}
	c.Write([]byte("teardown-vm: job exit status 3\n"))
	var res Result
	c.fill(&res)
	if len(res.Console) > maxConsole {
		t.Errorf("console kept %d bytes, bound is %d", len(res.Console), maxConsole)
	}
	if !strings.HasSuffix(res.Console, "teardown-vm: job exit status 3\n") || res.ExitStatus != 3 {
		t.Errorf("the end of the console was lost (status %d)", res.ExitStatus)
	}
	if copyTo.Len() != 2*maxConsole/len(line)*len(line)+len("teardown-vm: job exit status 3\n") {
		t.Errorf("Config.Console got %d bytes, want all of them", copyTo.Len())
	}
}

// FuzzConsoleWatcher: any console bytes, split anywhere, give the same
// reading as the whole (qemu delivers the console in arbitrary pieces), and
// never panic.
func FuzzConsoleWatcher(f *testing.F) {
	f.Add([]byte("teardown-vm: init started, uptime 2.5\r\nteardown-vm: job exit status 0\r\n"), uint16(17))
	f.Add([]byte("teardown-vm: init error: no job\n"), uint16(3))
	f.Add([]byte("teardown-vm: job exit status -1\nteardown-vm: job exit status 255\n"), uint16(40))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		at := 0
		if len(data) > 0 {
			at = int(split) % len(data)
		}
		whole := watch(data)
		parts := watch(data[:at], data[at:])
		if whole != parts {
			t.Fatalf("split at %d: %+v, whole: %+v", at, parts, whole)
		}
		if whole.status < -1 || whole.status > 255 {
			t.Fatalf("status %d out of range", whole.status)
		}
	})
}
