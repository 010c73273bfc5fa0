// Package suite measures teardown's TCP side by side with gVisor's
// netstack and, where it applies, the Linux kernel over loopback.
//
// Every stack runs in real time over the same link model: an in-memory
// link with no goroutine of its own (link/pipe for ours, gvlink.Pair for
// gVisor), the same MTU and the same socket buffer sizes. The kernel runs
// over 127.0.0.1 with Go's net package (loopback's MTU is 65536 whatever
// the row says). Each measure is written once against net.Conn and
// net.Listener and run on each stack.
//
// Run collects min/median/max over several runs and the ratio of ours to
// gVisor's (gVisor's to ours for memory and retransmissions, so that above
// 1 is always better); the same measures are Go benchmarks in this
// package's tests, for benchstat.
package suite
