package web

import (
	"os/exec"
	"syscall"
)

// dieWithTest has the kernel stop c when the test process dies, so a
// test killed mid-way (a timeout, ^C) leaves no 'teardown web' behind.
func dieWithTest(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
