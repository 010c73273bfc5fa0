//go:build linux

// Package vminit is the init (PID 1) of the VMs that internal/vm boots.
//
// Main mounts /proc, /sys, /dev (devtmpfs) and /tmp, loads the kernel
// modules the job asks for with finit_module(2), makes sure /dev/net/tun
// exists, brings the loopback interface up, runs the job with its standard
// output and error on the second serial port, prints the job's exit status
// on the console and powers the machine off. Every step that fails prints
// a guest.MarkerError line and powers off too: the host never has to wait
// for its timeout to learn that the guest gave up.
//
// Its command, internal/vm/cmd/vminit, is built as a static binary
// (CGO_ENABLED=0, tag vmguest) by internal/vm for the guest's initramfs;
// without the tag it does not build, so go install ./... leaves it out. It
// is not meant to run anywhere else: started as any process but PID 1 it
// refuses, before touching anything, because on a host its mounts would
// hide /dev and its last act would power the machine off.
package vminit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/teardown-lab/teardown/internal/vm/guest"
)

// Main is the init's whole life: it checks that it is PID 1, prepares the
// machine, runs the job and powers off. It returns only by exiting with
// status 2 when it is not PID 1.
func Main() {
	if err := requirePID1(os.Getpid()); err != nil {
		fmt.Fprintln(os.Stderr, "vminit:", err)
		os.Exit(2)
	}
	fmt.Printf("\n%s%s\n", guest.MarkerStart, uptime())
	status, err := run()
	if err != nil {
		fmt.Printf("\n%s%v\n", guest.MarkerError, err)
	} else {
		fmt.Printf("\n%s%d\n", guest.MarkerExit, status)
	}
	powerOff()
}

// requirePID1 returns an error unless pid is 1: only the init of a VM
// may mount over /dev and power the machine off.
func requirePID1(pid int) error {
	if pid != 1 {
		return fmt.Errorf("refusing to run as PID %d: vminit is the init (PID 1) of the VMs internal/vm boots; "+
			"anywhere else it would mount over /dev and power the machine off", pid)
	}
	return nil
}

// run prepares the machine and runs the job; it returns the job's status.
func run() (int, error) {
	if err := mountAll(); err != nil {
		return 0, err
	}
	job, err := readJob()
	if err != nil {
		return 0, err
	}
	for _, m := range job.Modules {
		if err := loadModule(m); err != nil {
			return 0, err
		}
	}
	if err := ensureTUNNode(); err != nil {
		return 0, err
	}
	if err := linkUp("lo"); err != nil {
		return 0, err
	}
	return runJob(job)
}

// mountAll mounts the pseudo file systems a Go program and the kernel's
// tools expect. The initramfs itself is the root file system.
func mountAll() error {
	mounts := []struct{ src, dst, fstype string }{
		{"proc", "/proc", "proc"},
		{"sysfs", "/sys", "sysfs"},
		{"devtmpfs", "/dev", "devtmpfs"},
		{"tmpfs", "/tmp", "tmpfs"},
	}
	for _, m := range mounts {
		if err := os.MkdirAll(m.dst, 0o755); err != nil {
			return err
		}
		if err := unix.Mount(m.src, m.dst, m.fstype, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s on %s: %w", m.fstype, m.dst, err)
		}
	}
	return nil
}

func readJob() (guest.Job, error) {
	var job guest.Job
	b, err := os.ReadFile(guest.ConfigPath)
	if err != nil {
		return job, err
	}
	if err := json.Unmarshal(b, &job); err != nil {
		return job, fmt.Errorf("%s: %w", guest.ConfigPath, err)
	}
	return job, nil
}

// loadModule inserts ModuleDir/name.ko with finit_module(2). A module that
// is already there (built in, or loaded before) is not an error.
func loadModule(name string) error {
	path := filepath.Join(guest.ModuleDir, name+".ko")
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("module %s: %w", name, err)
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("finit_module %s: %w", path, err)
	}
	return nil
}

// ensureTUNNode creates /dev/net/tun (misc device 10:200) when the tun
// module is loaded but devtmpfs has not made the node.
func ensureTUNNode() error {
	if _, err := os.Stat("/sys/class/misc/tun"); err != nil {
		return nil // no tun driver: nothing to do
	}
	if _, err := os.Stat("/dev/net/tun"); err == nil {
		return nil
	}
	if err := os.MkdirAll("/dev/net", 0o755); err != nil {
		return err
	}
	if err := unix.Mknod("/dev/net/tun", unix.S_IFCHR|0o666, int(unix.Mkdev(10, 200))); err != nil {
		return fmt.Errorf("mknod /dev/net/tun: %w", err)
	}
	return nil
}

// linkUp sets IFF_UP on an interface with SIOCSIFFLAGS.
func linkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCGIFFLAGS %s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("SIOCSIFFLAGS %s: %w", name, err)
	}
	return nil
}

// runJob runs the job with its output on guest.JobTTY in raw mode (no
// newline translation), and waits until the port has sent everything.
func runJob(job guest.Job) (int, error) {
	tty, err := os.OpenFile(guest.JobTTY, os.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", guest.JobTTY, err)
	}
	defer tty.Close()
	if err := makeRaw(int(tty.Fd())); err != nil {
		return 0, fmt.Errorf("%s: %w", guest.JobTTY, err)
	}
	cmd := exec.Command(guest.JobPath, job.Args...)
	cmd.Dir = "/"
	cmd.Env = withDefaults(job.Env)
	cmd.Stdout, cmd.Stderr = tty, tty
	err = cmd.Run()
	// TCSBRK with a non-zero argument is tcdrain(3): wait until the UART
	// has sent the job's last byte before the machine goes away.
	_ = unix.IoctlSetInt(int(tty.Fd()), unix.TCSBRK, 1)
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	default:
		return 0, fmt.Errorf("run job: %w", err)
	}
}

// makeRaw turns off output post-processing (\n → \r\n) and echo.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ICANON | unix.ISIG | unix.IEXTEN
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

func withDefaults(env []string) []string {
	out := append([]string(nil), env...)
	for _, kv := range []string{"PATH=/teardown:/bin", "HOME=/", "TMPDIR=/tmp"} {
		key := kv[:strings.IndexByte(kv, '=')+1]
		found := false
		for _, e := range env {
			found = found || strings.HasPrefix(e, key)
		}
		if !found {
			out = append(out, kv)
		}
	}
	return out
}

// uptime returns the first field of /proc/uptime, or "?" before /proc is
// mounted (it is mounted for this read and left mounted).
func uptime() string {
	_ = os.MkdirAll("/proc", 0o755)
	_ = unix.Mount("proc", "/proc", "proc", 0, "")
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}

// powerOff syncs and turns the machine off; qemu (run with -no-reboot)
// exits. If power-off fails, a reboot also ends qemu.
func powerOff() {
	unix.Sync()
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {} // PID 1 must not exit: that would panic the kernel
}
