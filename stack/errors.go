package stack

import (
	"errors"
	"syscall"

	"github.com/teardown-lab/teardown/internal/tcp"
)

// sysError is an error users can match both by its sentinel and by the
// errno Go programs on the kernel see: errors.Is(err, ErrConnReset) and
// errors.Is(err, syscall.ECONNRESET) both hold.
type sysError struct {
	msg   string
	errno syscall.Errno
}

func (e *sysError) Error() string { return e.msg }
func (e *sysError) Unwrap() error { return e.errno }

// Errors returned by sockets. Each unwraps to the errno the Linux kernel
// returns in the same situation.
var (
	// ErrConnReset: the peer reset the connection (ECONNRESET).
	ErrConnReset error = &sysError{"connection reset by peer", syscall.ECONNRESET}
	// ErrConnRefused: the peer answered the SYN with RST (ECONNREFUSED).
	ErrConnRefused error = &sysError{"connection refused", syscall.ECONNREFUSED}
	// ErrTimedOut: retransmissions, the user timeout or keepalive gave up
	// (ETIMEDOUT).
	ErrTimedOut error = &sysError{"connection timed out", syscall.ETIMEDOUT}
	// ErrBrokenPipe: write after the sending direction was closed (EPIPE).
	ErrBrokenPipe error = &sysError{"broken pipe", syscall.EPIPE}
	// ErrNotConnected: the connection is closed (ENOTCONN).
	ErrNotConnected error = &sysError{"socket is not connected", syscall.ENOTCONN}
	// ErrAborted: this end aborted the connection (linger 0) (ECONNABORTED).
	ErrAborted error = &sysError{"connection aborted", syscall.ECONNABORTED}
	// ErrAddrInUse: the port is taken (EADDRINUSE).
	ErrAddrInUse error = &sysError{"address already in use", syscall.EADDRINUSE}
	// ErrAddrNotAvailable: the address is not one of the stack's, or no
	// ephemeral port is free (EADDRNOTAVAIL).
	ErrAddrNotAvailable error = &sysError{"cannot assign requested address", syscall.EADDRNOTAVAIL}
	// ErrNetUnreachable: no address of the destination's family (ENETUNREACH).
	ErrNetUnreachable error = &sysError{"network is unreachable", syscall.ENETUNREACH}
)

// ErrStackClosed is returned by calls on a Stack after Close.
var ErrStackClosed = errors.New("stack: closed")

// ErrListenerClosed is returned by Accept after the listener was closed
// (it matches net.ErrClosed, as Go's own listeners do).
var ErrListenerClosed error = &wrapped{"stack: listener closed", netErrClosed}

// wrapped is an error with its own one-line text that matches another.
type wrapped struct {
	msg string
	err error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.err }

// mapTCPError turns a core error into the stack's.
func mapTCPError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tcp.ErrConnReset):
		return ErrConnReset
	case errors.Is(err, tcp.ErrConnRefused):
		return ErrConnRefused
	case errors.Is(err, tcp.ErrTimeout):
		return ErrTimedOut
	case errors.Is(err, tcp.ErrWriteClosed):
		return ErrBrokenPipe
	case errors.Is(err, tcp.ErrAborted):
		return ErrAborted
	case errors.Is(err, tcp.ErrNotConnected):
		return ErrNotConnected
	}
	return err
}
