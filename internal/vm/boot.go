package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Config describes one VM run.
type Config struct {
	// Binary is the host path of a static linux/amd64 program (see
	// BuildStatic and BuildTest): the job the VM exists to run.
	Binary string
	// Args are the job's arguments, without the program name.
	Args []string
	// Env is the job's environment (KEY=value); the init adds PATH, HOME
	// and TMPDIR=/tmp when missing.
	Env []string
	// Modules are loaded, in this order, before the job starts: names
	// from the cache ("dccp", "dccp_ipv4", "tun"). dccp_ipv4 needs dccp
	// before it.
	Modules []string
	// Files are extra files for the initramfs: guest path → host path.
	Files map[string]string
	// Memory is qemu's -m; "" means "256M".
	Memory string
	// CPUs is the number of virtual CPUs; 0 means 1.
	CPUs int
	// Timeout bounds the whole run from qemu's start; 0 means 2 minutes.
	// A VM still running then is killed and Boot fails with its console.
	Timeout time.Duration
	// CacheDir holds the kernel; "" means DefaultCacheDir().
	CacheDir string
	// Accel is "" or "tcg" (the default: the software emulator, which
	// works everywhere), or "kvm" to try KVM first (qemu falls back to TCG
	// when KVM cannot start; the PVM variant of /dev/kvm on the project's
	// machines starts but cannot run a stock kernel, so it stays off by
	// default).
	Accel string
	// KernelArgs are appended to the kernel command line.
	KernelArgs []string
	// Console, if set, receives a live copy of the serial console (the
	// kernel's and the init's messages, not the job's output).
	Console io.Writer
}

// Result is what one VM run produced.
type Result struct {
	// Output is everything the job wrote to its standard output and
	// standard error, byte for byte.
	Output []byte
	// ExitStatus is the job's exit code, or 128+N when signal N killed it;
	// -1 when the guest never reported one.
	ExitStatus int
	// Console is the serial console: kernel messages and the init's
	// lines.
	Console string
	// BootTime is the time from qemu's start to the init's first line.
	BootTime time.Duration
	// Duration is the time from qemu's start to its exit.
	Duration time.Duration
	// GuestUptime is the guest's /proc/uptime when the init started, as
	// printed ("1.23"), or "" when unknown.
	GuestUptime string
}

// Boot runs cfg.Binary as the job of a fresh VM booted from the cached
// kernel (see Assets) and returns when the VM has powered off. A job that
// exits non-zero is not an error: see Result.ExitStatus. Boot fails when
// the VM does not report the job's exit status (init failure, kernel panic,
// timeout); the error then carries the end of the console and of the job's
// output, and the Result, when not nil, all of both.
func Boot(ctx context.Context, cfg Config) (*Result, error) {
	cfg = withDefaults(cfg)
	if _, err := os.Stat(cfg.Binary); err != nil {
		return nil, fmt.Errorf("vm: job binary: %w", err)
	}
	k, err := Assets(cfg.CacheDir)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "teardown-vm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	initrd := filepath.Join(tmp, "initramfs.cpio")
	if err := writeInitramfs(ctx, initrd, k, &cfg); err != nil {
		return nil, err
	}
	jobOut := filepath.Join(tmp, "job.out")
	return run(ctx, &cfg, qemuArgs(&cfg, k, initrd, jobOut), jobOut)
}

func withDefaults(cfg Config) Config {
	if cfg.Memory == "" {
		cfg.Memory = "256M"
	}
	if cfg.CPUs <= 0 {
		cfg.CPUs = 1
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Accel == "" {
		cfg.Accel = "tcg"
	}
	return cfg
}

// qemuArgs is the command line: a machine with no devices but two serial
// ports (console and job output) and no network card, booting the ELF
// kernel directly (PVH) with the initramfs. -no-reboot turns the guest's
// power-off, reboot or panic (panic=-1 reboots at once) into qemu's exit.
func qemuArgs(cfg *Config, k *Kernel, initrd, jobOut string) []string {
	accel := []string{"-accel", "tcg", "-cpu", "max"}
	if cfg.Accel == "kvm" {
		accel = []string{"-accel", "kvm", "-accel", "tcg"}
	}
	cmdline := append([]string{
		"console=ttyS0", "rdinit=" + "/init", "panic=-1", "quiet", "loglevel=4",
		"mitigations=off", "random.trust_cpu=on",
	}, cfg.KernelArgs...)
	args := []string{"-machine", "pc", "-nodefaults", "-no-user-config", "-no-reboot",
		"-display", "none", "-monitor", "none",
		"-m", cfg.Memory, "-smp", fmt.Sprint(cfg.CPUs),
		"-chardev", "stdio,id=console,signal=off", "-serial", "chardev:console",
		"-serial", "file:" + jobOut,
		"-nic", "none",
		"-kernel", k.Vmlinux, "-initrd", initrd,
		"-append", strings.Join(cmdline, " "),
	}
	return append(accel, args...)
}

// run starts qemu, follows the console and collects the result.
func run(ctx context.Context, cfg *Config, args []string, jobOut string) (*Result, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemuBinary, args...)
	con := newConsoleWatcher(cfg.Console)
	var qemuErr bytes.Buffer
	cmd.Stdout, cmd.Stderr = con, &qemuErr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	con.start = start
	runErr := cmd.Run()
	res := &Result{ExitStatus: -1, Duration: time.Since(start)}
	con.fill(res)
	res.Output, _ = os.ReadFile(jobOut)
	switch {
	case ctx.Err() != nil:
		return res, failure(res, &qemuErr, fmt.Sprintf("killed after %v (timeout %v)", res.Duration.Round(time.Millisecond), cfg.Timeout))
	case con.initErr != "":
		return res, failure(res, &qemuErr, "init: "+con.initErr)
	case runErr != nil:
		return res, failure(res, &qemuErr, "qemu: "+runErr.Error())
	case res.ExitStatus < 0:
		return res, failure(res, &qemuErr, "the guest stopped without reporting the job's exit status")
	}
	return res, nil
}

// failure builds Boot's error: the reason, then the end of the console,
// of qemu's own messages and of the job's output.
func failure(res *Result, qemuErr *bytes.Buffer, reason string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "vm: %s\n--- console (end) ---\n%s", reason, tail(res.Console, 6000))
	if qemuErr.Len() > 0 {
		fmt.Fprintf(&b, "\n--- qemu stderr ---\n%s", tail(qemuErr.String(), 2000))
	}
	fmt.Fprintf(&b, "\n--- job output (end) ---\n%s", tail(string(res.Output), 4000))
	return errors.New(b.String())
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "[...]" + s[len(s)-n:]
}
