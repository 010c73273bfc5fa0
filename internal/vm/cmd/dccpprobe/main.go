//go:build linux && vmguest

// Command dccpprobe is a job for an internal/vm VM that probes the
// kernel's DCCP and a TUN device; package dccpprobe says what it does. It
// builds only with the vmguest tag, which internal/vm's BuildStatic sets,
// so that go install ./... never installs it.
package main

import "github.com/teardown-lab/teardown/internal/vm/dccpprobe"

func main() { dccpprobe.Main() }
