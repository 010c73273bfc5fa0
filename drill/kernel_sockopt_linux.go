//go:build linux

package drill

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// The socket options of run_sockopt.go on the kernel: integers set and
// read with their own names.
var kernelIntOpts = map[string][2]int{
	"SO_RCVBUF":        {unix.SOL_SOCKET, unix.SO_RCVBUF},
	"SO_SNDBUF":        {unix.SOL_SOCKET, unix.SO_SNDBUF},
	"TCP_MAXSEG":       {unix.IPPROTO_TCP, unix.TCP_MAXSEG},
	"TCP_CORK":         {unix.IPPROTO_TCP, unix.TCP_CORK},
	"TCP_INQ":          {unix.IPPROTO_TCP, unix.TCP_INQ},
	"SO_REUSEADDR":     {unix.SOL_SOCKET, unix.SO_REUSEADDR},
	"SO_KEEPALIVE":     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
	"TCP_NODELAY":      {unix.IPPROTO_TCP, unix.TCP_NODELAY},
	"TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
}

// setsockoptInt sets one of kernelIntOpts.
func (b *kernelBackend) setsockoptInt(fd int, name string, v Arg) error {
	o, ok := kernelIntOpts[name]
	if !ok {
		return errUnsupported("socket option " + name)
	}
	n, err := intArg(name, v)
	if err != nil {
		return err
	}
	return unix.SetsockoptInt(fd, o[0], o[1], int(n))
}

// getsockopt reads an integer option and compares it with the script's
// [N].
func (b *kernelBackend) getsockopt(fd int, name string, v Arg) error {
	o, ok := kernelIntOpts[name]
	if !ok {
		return errUnsupported("getsockopt " + name)
	}
	got, err := unix.GetsockoptInt(fd, o[0], o[1])
	if err != nil {
		return err
	}
	return checkIntOpt(name, int64(got), v)
}

// ioctl answers SIOCINQ (FIONREAD): the bytes waiting to be read.
func (b *kernelBackend) ioctl(fd int, c *Call) error {
	if symArg(c.arg(1)) != "SIOCINQ" && symArg(c.arg(1)) != "FIONREAD" {
		return errUnsupported("ioctl " + c.arg(1).Text)
	}
	got, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		return syscall.Errno(err.(syscall.Errno))
	}
	return checkIntOpt("SIOCINQ", int64(got), c.arg(2))
}
