//go:build !linux

package drill

import "errors"

var errNoKernel = errors.New("running scripts against the kernel needs Linux (network namespaces, TUN)")

// KernelAvailable says why scripts cannot run against the kernel here.
func KernelAvailable() error { return errNoKernel }

// RunKernel fails: the kernel backend is Linux only.
func RunKernel(s *Script, _ Options) Result {
	return Result{Script: s.Name, Status: Fail, Message: errNoKernel.Error()}
}
