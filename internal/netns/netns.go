//go:build linux

// Package netns gives tests a Linux network namespace of their own, so that
// a TUN device, a kernel listener and our stack can meet without touching
// the machine's real network. It needs root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN); Available says whether this process has what it takes.
package netns

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// NS is a named network namespace, like one made by "ip netns add".
type NS struct {
	name string
	h    netns.NsHandle
}

// Available returns nil if this process can create network namespaces, or
// an error saying why not (tests turn it into a loud skip).
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root; run the tests as root (CI does)")
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("no network namespace support: %w", err)
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return fmt.Errorf("no TUN support (/dev/net/tun): %w", err)
	}
	return nil
}

var counter atomic.Uint32

// New creates a namespace whose name starts with prefix (a unique suffix is
// added) and brings its loopback interface up.
func New(prefix string) (*NS, error) {
	name := fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), counter.Add(1))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return nil, fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	h, err := netns.NewNamed(name) // creates it and moves this thread into it
	if err != nil {
		return nil, fmt.Errorf("netns: create %s: %w", name, err)
	}
	lo, lerr := netlink.LinkByName("lo")
	if lerr == nil {
		lerr = netlink.LinkSetUp(lo)
	}
	if err := netns.Set(orig); err != nil {
		// This thread is stuck in the new namespace: never unlock it, so
		// the runtime retires it instead of reusing it.
		runtime.LockOSThread()
		return nil, fmt.Errorf("netns: return to the original namespace: %w", err)
	}
	ns := &NS{name: name, h: h}
	if lerr != nil {
		ns.Close()
		return nil, fmt.Errorf("netns: bring lo up in %s: %w", name, lerr)
	}
	return ns, nil
}

// Name returns the namespace's name (usable with "ip netns exec NAME").
func (n *NS) Name() string { return n.name }

// Do runs fn on an OS thread switched into the namespace, then switches the
// thread back. Sockets, TUN devices and netlink changes made by fn belong to
// the namespace and stay there after Do returns. Goroutines that fn starts
// do not run inside the namespace.
func (n *NS) Do(fn func() error) error {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(n.h); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: enter %s: %w", n.name, err)
	}
	ferr := fn()
	if err := netns.Set(orig); err != nil {
		// Leave the thread locked: the runtime will destroy it rather than
		// let another goroutine run in the wrong namespace.
		return errors.Join(ferr, fmt.Errorf("netns: leave %s: %w", n.name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// Close deletes the namespace. Devices inside it go with it once nothing
// holds them open.
func (n *NS) Close() error {
	n.h.Close()
	return netns.DeleteNamed(n.name)
}
