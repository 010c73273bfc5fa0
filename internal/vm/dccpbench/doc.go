// Package dccpbench measures our DCCP (CCID 2 and CCID 3) and our TCP
// against Linux 6.1's in the qemu VM of package vm, with no loss, with
// 1 % random loss and with reordering: `teardown bench --dccp --vm`.
//
// Run, on the host, builds this package's test binary for the guest,
// boots the VM once and parses one JSON line per transfer; the guest half
// (TestBenchInVM, RunGuest) puts our stack on a TUN device behind a
// link/fault wrapper that injects the condition into both directions of
// our traffic, and moves the same bytes each way: from us to a kernel
// socket (our sending CCID, Linux's receiving half) and from a kernel
// socket to us (Linux's sending CCID, our receiving half), for CCID 2,
// CCID 3 and TCP. Both directions cross the same wrapper, so "ours over
// Linux's" on one protocol and condition compares the two senders on one
// path.
//
// Under TCG both ends share one emulated CPU and run 20-100x slower than
// on the host, and the figures move 2-4x from run to run: absolute Mbit/s
// mean nothing, only ratios on the same path and condition do (ours over
// Linux's, DCCP over TCP), and only to an order of magnitude. The reorder
// fault holds a packet back by a wall-clock millisecond, which the
// emulated machine sees as less.
//
// It is test support, like package vm: nothing in the stack imports it.
package dccpbench
