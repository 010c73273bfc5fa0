// Package guest is the contract between the host side of internal/vm and
// the init program (internal/vm/vminit) that runs as PID 1 inside the VM:
// where the initramfs puts things, how the job is described, and the lines
// the init prints on the console so that the host can follow the boot.
//
// It has no dependencies so that the init stays small.
package guest

import (
	"strconv"
	"strings"
)

// Paths inside the VM's initramfs.
const (
	// InitPath is the init program; the kernel runs it as PID 1
	// (rdinit=/init).
	InitPath = "/init"
	// JobPath is the job binary, the program the VM exists to run.
	JobPath = "/teardown/job"
	// ConfigPath is the JSON encoding of a Job.
	ConfigPath = "/teardown/job.json"
	// ModuleDir holds the kernel modules, as NAME.ko.
	ModuleDir = "/teardown/modules"
	// JobTTY is the serial port that carries the job's standard output
	// and standard error, byte for byte (the second serial port, COM2).
	// The console (ttyS0) carries the kernel's and the init's messages.
	JobTTY = "/dev/ttyS1"
)

// Job describes what the init does after the kernel started it.
type Job struct {
	// Modules are loaded in this order from ModuleDir/NAME.ko.
	Modules []string `json:"modules"`
	// Args are the job's arguments, without the program name.
	Args []string `json:"args"`
	// Env is the job's environment, as KEY=value; the init adds PATH,
	// HOME and TMPDIR when they are missing.
	Env []string `json:"env"`
}

// Console lines. Each is printed at the start of a line of the console.
const (
	// MarkerStart is printed first thing by the init: the kernel has
	// booted. The guest's uptime follows, in seconds.
	MarkerStart = "teardown-vm: init started, uptime "
	// MarkerExit is followed by the job's exit status: its exit code, or
	// 128+N when signal N killed it. The init powers off right after.
	MarkerExit = "teardown-vm: job exit status "
	// MarkerError is followed by the reason the init could not run the
	// job (a module that did not load, a missing file).
	MarkerError = "teardown-vm: init error: "
)

// ExitStatus returns the status of a MarkerExit line; ok is false when the
// line is not one.
func ExitStatus(line string) (status int, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimRight(line, "\r\n"), MarkerExit)
	if !found {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(rest))
	if err != nil || n < 0 || n > 255 {
		return 0, false
	}
	return n, true
}

// InitError returns the reason of a MarkerError line; ok is false when the
// line is not one.
func InitError(line string) (reason string, ok bool) {
	return strings.CutPrefix(strings.TrimRight(line, "\r\n"), MarkerError)
}
