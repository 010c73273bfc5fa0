package vm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// qemuBinary is the emulator the harness runs.
const qemuBinary = "qemu-system-x86_64"

// Available returns nil when Boot can work on this machine, possibly after
// Assets has downloaded the kernel and installed qemu, or an error that
// lists everything missing (tests skip with it, loudly).
//
// It needs: the go command (Boot builds the init, and tests build their
// jobs); qemu-system-x86_64, or root and apt-get to install it; the kernel
// in the cache, or root, apt-get and dpkg-deb to fetch it; and the asset
// script in the source tree.
func Available() error {
	var missing []string
	root := os.Geteuid() == 0
	_, aptErr := exec.LookPath("apt-get")
	canApt := root && aptErr == nil
	if _, err := exec.LookPath("go"); err != nil {
		missing = append(missing, "the go command is not in PATH")
	}
	if _, err := exec.LookPath(qemuBinary); err != nil && !canApt {
		missing = append(missing, qemuBinary+" is not installed (apt-get install qemu-system-x86), and this process cannot install it (needs root and apt-get)")
	}
	if _, err := readKernel(DefaultCacheDir()); err != nil {
		if _, serr := scriptPath(); serr != nil {
			missing = append(missing, serr.Error())
		}
		_, dpkgErr := exec.LookPath("dpkg-deb")
		if !canApt || dpkgErr != nil {
			missing = append(missing, fmt.Sprintf("the kernel is not in %s and this process cannot fetch it (needs root, apt-get and dpkg-deb: %v)", DefaultCacheDir(), err))
		}
	}
	if len(missing) > 0 {
		return errors.New("vm: unavailable: " + strings.Join(missing, "; "))
	}
	return nil
}
