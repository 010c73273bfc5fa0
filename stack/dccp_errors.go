package stack

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/teardown-lab/teardown/internal/dccp"
)

// Errors of DCCP sockets, beyond those TCP shares (ErrConnReset,
// ErrConnRefused, ErrTimedOut, ErrNotConnected). Each unwraps to the errno
// Linux's DCCP reports in the same situation (net/dccp maps Reset codes to
// errnos; docs/peer-facts.md lists what was observed).
var (
	// ErrBadServiceCode: the server has no listener for the service code
	// (Reset code 8, Bad Service Code; EBADRQC).
	ErrBadServiceCode error = &sysError{"bad service code", syscall.EBADRQC}
	// ErrTooBusy: the server's backlog is full (Reset code 9, Too Busy;
	// EUSERS).
	ErrTooBusy error = &sysError{"server too busy", syscall.EUSERS}
	// ErrWouldBlock: the send queue is full and the connection was opened
	// with DCCPOptions.QueueFullError (EAGAIN, as Linux's sendmsg).
	ErrWouldBlock error = &sysError{"send queue full", syscall.EAGAIN}
	// ErrProtocol: the peer reset the connection for a protocol error
	// (Packet Error, Option Error, Mandatory Error; EPROTO).
	ErrProtocol error = &sysError{"protocol error", syscall.EPROTO}
)

// DCCPTooBigError is returned by a Write larger than the connection's
// current maximum datagram size. It unwraps to syscall.EMSGSIZE.
type DCCPTooBigError struct {
	// Size is the datagram's length, Max the largest accepted now.
	Size, Max int
}

// Error names both sizes.
func (e *DCCPTooBigError) Error() string {
	return fmt.Sprintf("datagram of %d bytes is larger than the current maximum of %d bytes", e.Size, e.Max)
}

// Unwrap returns EMSGSIZE.
func (e *DCCPTooBigError) Unwrap() error { return syscall.EMSGSIZE }

// DCCPResetError is the error after the peer reset a connection. It
// unwraps to the stack's error for its code (ErrConnRefused for No
// Connection and Connection Refused, ErrBadServiceCode, ErrTooBusy,
// ErrProtocol, else ErrConnReset), so errors.Is works with both the
// sentinel and the errno.
type DCCPResetError struct {
	// Code is the Reset code received (RFC 4340 §5.6).
	Code DCCPResetCode
}

// Error names the code.
func (e *DCCPResetError) Error() string { return "reset by peer: " + e.Code.String() }

// Unwrap returns the sentinel for the code.
func (e *DCCPResetError) Unwrap() error { return resetSentinel(e.Code) }

// resetSentinel maps a Reset code to the stack's error, as Linux's
// dccp_reset_code_convert maps it to an errno.
func resetSentinel(code DCCPResetCode) error {
	switch code {
	case DCCPResetNoConnection, DCCPResetConnectionRefused:
		return ErrConnRefused
	case DCCPResetBadServiceCode:
		return ErrBadServiceCode
	case DCCPResetTooBusy:
		return ErrTooBusy
	case DCCPResetPacketError, DCCPResetOptionError, DCCPResetMandatoryError:
		return ErrProtocol
	}
	return ErrConnReset
}

// mapDCCPError turns a core error into the stack's.
func mapDCCPError(err error) error {
	var re *dccp.ResetError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		return &DCCPResetError{Code: DCCPResetCode(re.Code)}
	case errors.Is(err, dccp.ErrQueueFull):
		return ErrWouldBlock
	case errors.Is(err, dccp.ErrTimeout):
		return ErrTimedOut
	case errors.Is(err, dccp.ErrNotConnected):
		return ErrNotConnected
	case errors.Is(err, dccp.ErrClosed):
		return netErrClosed
	}
	return err
}
