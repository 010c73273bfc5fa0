//go:build linux

package tunbench

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// netNS is a network namespace held open by a file descriptor.
type netNS struct{ fd int }

// newNetNS makes a fresh network namespace and leaves the calling
// thread where it was.
func newNetNS() (*netNS, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(orig)
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		return nil, fmt.Errorf("unshare: %w", err)
	}
	fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if serr := unix.Setns(orig, unix.CLONE_NEWNET); serr != nil {
		panic("tunbench: cannot return to the original namespace: " + serr.Error())
	}
	if err != nil {
		return nil, err
	}
	return &netNS{fd: fd}, nil
}

// do runs fn on a thread inside the namespace; sockets and devices it
// creates stay there.
func (n *netNS) do(fn func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(orig)
	if err := unix.Setns(n.fd, unix.CLONE_NEWNET); err != nil {
		return err
	}
	defer func() {
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			panic("tunbench: cannot return to the original namespace: " + err.Error())
		}
	}()
	return fn()
}

func (n *netNS) close() { unix.Close(n.fd) }

// Available says why the transfers cannot run here (they make network
// namespaces and TUN devices: root only), or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("not root")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("no TUN device: %w", err)
	}
	// Root may still lack the capabilities (a container): try.
	ns, err := newNetNS()
	if err != nil {
		return fmt.Errorf("cannot make a network namespace: %w", err)
	}
	ns.close()
	return nil
}
