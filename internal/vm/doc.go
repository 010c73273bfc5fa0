// Package vm boots Debian 12's Linux 6.1 kernel under qemu and runs one
// static Go program in it: the harness of the interop tests against the
// Linux kernel's own DCCP, which Linux removed in 6.16 and which the
// machines' kernel does not have.
//
// It is a test helper. Nothing in the stack imports it.
//
// # Pieces
//
//   - scripts/vm-assets.sh CACHE_DIR downloads the kernel package that
//     Debian's linux-image-amd64 depends on (apt-get download, never
//     installed on the host), keeps only boot/vmlinuz and the modules dccp,
//     dccp_ipv4 and tun, and unpacks the bzImage into an ELF vmlinux that
//     qemu boots through its PVH entry point. It installs qemu-system-x86
//     when missing (as root). The cache (DefaultCacheDir:
//     $TEARDOWN_VM_CACHE, else ~/.cache/teardown/vm) holds about 32 MB on
//     disk and survives between runs; Assets runs the script when the cache
//     is incomplete.
//   - internal/vm/cmd/vminit (package vminit) is PID 1 in the VM: it
//     mounts /proc, /sys, /dev and /tmp, loads the modules with
//     finit_module(2), brings lo up, runs the job with its output on the
//     second serial port, prints the job's exit status on the console
//     (package guest defines the lines) and powers off.
//   - Boot writes an uncompressed newc initramfs (the init, the job, the
//     modules, extra files, the job's arguments as JSON) and runs
//     qemu-system-x86_64 -machine pc -accel tcg -no-reboot with no network
//     card and two serial ports: ttyS0, the console, is read live (the init's
//     first line gives the boot time), ttyS1 carries the job's output byte
//     for byte. Every run is bounded by Config.Timeout: a VM still running
//     then is killed and Boot's error carries the end of its console.
//   - Package kdccp opens the kernel's DCCP sockets (service codes, CCID
//     choice, server TIMEWAIT, timeouts) for jobs that run inside the VM.
//
// TCG, not KVM: /dev/kvm on the project's machines is a PVM variant on
// which a stock kernel does not boot (-cpu host aborts on an MSR write,
// other CPU models hang), so Config.Accel defaults to "tcg". Booting the
// unpacked vmlinux directly takes the kernel to /init in about 3 s of
// guest time (4 s on the host clock, with qemu's start) under TCG.
//
// # Running our stack against kernel DCCP
//
// The job is any static linux/amd64 Go program. A later interop test builds
// its own test binary and runs one of its tests inside the VM:
//
//	func TestLinuxDCCP(t *testing.T) {
//		if os.Getenv("TEARDOWN_IN_VM") == "" { // on the host
//			if err := vm.Available(); err != nil {
//				t.Skipf("SKIP: %v", err)
//			}
//			bin, err := vm.BuildTest(ctx, "./stack") // go test -c, CGO_ENABLED=0
//			...
//			res, err := vm.Boot(ctx, vm.Config{
//				Binary:  bin,
//				Args:    []string{"-test.run=^TestLinuxDCCP$", "-test.v"},
//				Env:     []string{"TEARDOWN_IN_VM=1"},
//				Modules: []string{"dccp", "dccp_ipv4", "tun"},
//				Timeout: 2 * time.Minute,
//			})
//			// err: the VM failed; res.ExitStatus != 0: the test failed
//			// inside; res.Output has its -test.v log either way.
//			return
//		}
//		// In the VM: open a TUN device with link/tun (kernel address
//		// 10.77.0.1/24, our stack on 10.77.0.2), run our DCCP stack on it,
//		// and use kdccp.Listen / kdccp.Dial on 10.77.0.1 as the peer.
//	}
//
// Inside the VM the test runs as root in an otherwise empty machine: no
// network namespace is needed, the TUN device is the only link besides lo,
// and nothing leaves the VM (it has no network card). A pcap written to
// /tmp inside the VM does not come back; print what the host must see.
//
// internal/vm/cmd/dccpprobe (package dccpprobe) is such a job: it checks
// kernel DCCP over loopback (CCID 2 and 3, datagram boundaries, EBADRQC for
// a wrong service code) and that a link/tun device carries packets both
// ways; TestBoot_KernelDCCPAndTUN asserts its report.
//
// The two guest commands under internal/vm/cmd build only with the build
// tag GuestTag ("vmguest"), which BuildStatic and BuildTest set: they are
// test support, and go install ./... must not put a program that mounts
// over /dev and powers the machine off on a user's PATH. vminit also
// refuses to run unless it is PID 1.
package vm
