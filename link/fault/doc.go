// Package fault wraps a real link.Endpoint and applies the simulator's
// fault model to it in real time: loss, duplication, reordering (an extra
// hold-back delay), bit corruption, fixed latency and jitter, configured
// separately for each direction (what the host writes, what it receives).
//
// It exists because a TUN device on a kernel without netem has no other
// way to misbehave: wrapping the stack's endpoint makes the Linux kernel's
// TCP face a lossy, reordering path while the kernel itself is untouched.
//
// # Determinism
//
// Every decision is drawn from one math/rand/v2 generator seeded by
// Config.Seed, in the order packets pass through the wrapper. The same
// seed and the same packet sequence give the same decisions. On a real
// link the packet sequence itself depends on the scheduler (goroutines
// writing concurrently, timers firing late), so two runs of a real
// connection with the same seed may still see different packets lost:
// the seed fixes the fault process, not the traffic it is applied to.
//
// # Delays
//
// Delayed packets (latency, jitter, reordering) are copied into pooled
// buffers and released by a clock.Timer per direction, from the clock in
// Config.Clock (the wall clock by default; tests pass a fake one). As in
// package netsim, jitter never reorders: a packet never leaves before the
// one written ahead of it in the same direction unless the reorder fault
// held that one back. Nor do the timer's firings: a wall-clock timer runs
// on goroutines of its own and two firings may overlap, so packets reach
// the wrapped endpoint through one goroutine at a time per direction, in
// the order they came due (a second goroutine queues its packets behind
// the first's and returns). Packets that no fault touches pass straight through
// without copying or allocating.
package fault
