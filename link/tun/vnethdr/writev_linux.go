//go:build linux

package vnethdr

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/unix"
)

// RawWriter is what Writev writes through: the syscall.RawConn of a
// non-blocking TUN descriptor (os.File.SyscallConn) is one.
type RawWriter interface {
	Write(f func(fd uintptr) (done bool)) error
}

// Writev writes one packet gathered from iov, its vnet header first and
// then the packet's pieces, to the TUN device behind rc in one writev(2),
// so that neither is copied into a buffer first (the kernel copies them
// once, into its skb). It waits in rc's poller while the device is full.
// A TUN write takes the whole packet or nothing, so the count written is
// not looked at.
func Writev(rc RawWriter, iov []unix.Iovec) error {
	if len(iov) == 0 {
		return errors.New("vnethdr: writev of no bytes")
	}
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		for {
			_, _, e := unix.Syscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
			switch e {
			case 0:
				werr = nil
				return true
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			default:
				werr = e
				return true
			}
		}
	})
	if err != nil {
		return err
	}
	return werr
}
