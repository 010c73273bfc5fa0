//go:build linux && vmguest

// Command vminit is the init (PID 1) of the VMs that internal/vm boots;
// package vminit says what it does. It builds only with the vmguest tag,
// which internal/vm's BuildStatic sets, so that go install ./... never
// installs it.
package main

import "github.com/teardown-lab/teardown/internal/vm/vminit"

func main() { vminit.Main() }
