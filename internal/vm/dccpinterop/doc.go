// Package dccpinterop holds the interop tests of teardown's DCCP against
// the Linux kernel's own (Debian 12's 6.1, booted by internal/vm): our
// stack on a TUN device, a kernel DCCP socket (internal/vm/kdccp) as the
// peer. The test binary boots the VM and runs itself inside it; each case
// prints one result line, which the host-side test asserts and turns into
// the table of docs/dccp.md.
package dccpinterop
